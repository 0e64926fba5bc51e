"""``create_app(state)``: the aiohttp application of one IdP, with routes under the issuer path."""

from __future__ import annotations

import functools

from aiohttp import web

from ..state import IdPState
from . import control
from .fault_middleware import ENDPOINT_ATTR, fault_middleware
from .handlers import (
    attacker,
    authorize,
    bc_authorize,
    client_configuration,
    device,
    device_authorization,
    discovery,
    end_session,
    introspect,
    jwks,
    pages,
    register,
    revoke,
    token,
    userinfo,
)
from .keys import ENDPOINT, ROUTE_TABLE, STATE
from .middleware import error_middleware, journal_middleware
from .routing import Handler, RouteTable

#: request bodies above this are refused with 413 before any parsing
MAX_BODY = 256 * 1024


def _named(name: str, handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        request[ENDPOINT] = name
        return await handler(request)

    setattr(wrapped, ENDPOINT_ATTR, name)  # read by the fault middleware before the handler runs
    return wrapped


def well_known_paths(issuer_path: str, name: str) -> list[str]:
    """Where metadata is found: path-inserted (RFC 8414 section 3.1) and path-appended (OIDC)."""
    if not issuer_path:
        return [f"/.well-known/{name}"]
    return [f"/.well-known/{name}{issuer_path}", f"{issuer_path}/.well-known/{name}"]


def route_defs(issuer_path: str, dynamic_registration: bool) -> list[web.RouteDef]:
    """Every route an IdP with this issuer path serves (one place: the app, the tests' lists)."""
    base = issuer_path
    routes: list[web.RouteDef] = []
    for doc in ("openid-configuration", "oauth-authorization-server"):
        for path in well_known_paths(base, doc):
            routes.append(web.get(path, _named("discovery", discovery.handle), allow_head=False))
    routes += [
        web.get(f"{base}/jwks", _named("jwks", jwks.handle), allow_head=False),
        web.post(f"{base}/token", _named("token", token.handle)),
        # attacker material for the jku/x5u token defects (mockidp.defects.header)
        web.get(f"{base}{attacker.JWKS_PATH}", _named("attacker", attacker.handle_jwks), allow_head=False),
        web.get(f"{base}{attacker.CERT_PATH}", _named("attacker", attacker.handle_cert), allow_head=False),
    ]
    routes += _user_flow_routes(base)
    routes += _polled_grant_routes(base)
    if dynamic_registration:
        routes.append(web.post(f"{base}/register", _named("register", register.handle)))
        # RFC 7592: the registration_client_uri is {issuer}/register?client_id=...
        routes.append(
            web.get(
                f"{base}/register", _named("register", client_configuration.handle_read), allow_head=False
            )
        )
        routes.append(web.put(f"{base}/register", _named("register", client_configuration.handle_update)))
        routes.append(web.delete(f"{base}/register", _named("register", client_configuration.handle_delete)))
    routes += control.routes(base)
    return routes


@functools.lru_cache(maxsize=64)
def route_table(issuer_path: str, dynamic_registration: bool) -> RouteTable:
    return RouteTable(route_defs(issuer_path, dynamic_registration))


async def _route(request: web.Request) -> web.StreamResponse:
    handler = request.app[ROUTE_TABLE].resolve(request)
    return await handler(request)


async def _guarded(request: web.Request) -> web.StreamResponse:
    return await error_middleware(request, _route)


async def _faulted(request: web.Request) -> web.StreamResponse:
    return await fault_middleware(request, _guarded)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    """Every request: journal, then faults, then errors to HTTP, then the route's handler.

    The three middlewares are called here rather than registered with aiohttp: the app has
    one catch-all route, so they wrap every request either way, and aiohttp's middleware
    machinery (a wrapper per middleware plus its current-app bookkeeping) costs about as much
    per request as the three of them.
    """
    return await journal_middleware(request, _faulted)


def create_app(state: IdPState) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[STATE] = state
    app[ROUTE_TABLE] = route_table(state.issuer_path, state.config.dynamic_registration)
    app.router.add_route("*", "/{path:.*}", _dispatch)
    return app


def _user_flow_routes(base: str) -> list[web.RouteDef]:
    """Authorization (with its login and consent pages), userinfo, introspection, revocation, logout."""
    routes: list[web.RouteDef] = []
    for name, handler in (
        ("authorize", authorize.handle),
        ("userinfo", userinfo.handle),
        ("end_session", end_session.handle),
    ):
        routes.append(web.get(f"{base}/{name}", _named(name, handler), allow_head=False))
        routes.append(web.post(f"{base}/{name}", _named(name, handler)))
    return [
        *routes,
        web.post(f"{base}/authorize/login", _named("authorize", pages.login)),
        web.get(f"{base}/authorize/consent", _named("authorize", pages.consent), allow_head=False),
        web.post(f"{base}/authorize/consent", _named("authorize", pages.consent)),
        web.post(f"{base}/end_session/confirm", _named("end_session", end_session.confirm)),
        web.post(f"{base}/introspect", _named("introspect", introspect.handle)),
        web.post(f"{base}/revoke", _named("revoke", revoke.handle)),
    ]


def _polled_grant_routes(base: str) -> list[web.RouteDef]:
    """The device flow (with its verification pages) and CIBA; each answers 404 when disabled."""
    return [
        web.post(f"{base}/device_authorization", _named("device_authorization", device_authorization.handle)),
        web.get(f"{base}/device", _named("device", device.handle), allow_head=False),
        web.post(f"{base}/device", _named("device", device.handle)),
        web.post(f"{base}/device/login", _named("device", device.login)),
        web.get(f"{base}/device/consent", _named("device", device.consent), allow_head=False),
        web.post(f"{base}/device/consent", _named("device", device.consent)),
        web.post(f"{base}/bc-authorize", _named("bc_authorize", bc_authorize.handle)),
    ]
