"""``create_app(state)``: the aiohttp application of one IdP, with routes under the issuer path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..state import IdPState
from .handlers import discovery, jwks, token
from .keys import ENDPOINT, STATE
from .middleware import error_middleware, journal_middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: request bodies above this are refused with 413 before any parsing
MAX_BODY = 256 * 1024


def _named(name: str, handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        request[ENDPOINT] = name
        return await handler(request)

    return wrapped


def well_known_paths(issuer_path: str, name: str) -> list[str]:
    """Where metadata is found: path-inserted (RFC 8414 section 3.1) and path-appended (OIDC)."""
    if not issuer_path:
        return [f"/.well-known/{name}"]
    return [f"/.well-known/{name}{issuer_path}", f"{issuer_path}/.well-known/{name}"]


def create_app(state: IdPState) -> web.Application:
    app = web.Application(middlewares=[journal_middleware, error_middleware], client_max_size=MAX_BODY)
    app[STATE] = state
    base = state.issuer_path
    routes: list[web.RouteDef] = []
    for doc in ("openid-configuration", "oauth-authorization-server"):
        for path in well_known_paths(base, doc):
            routes.append(web.get(path, _named("discovery", discovery.handle), allow_head=False))
    routes += [
        web.get(f"{base}/jwks", _named("jwks", jwks.handle), allow_head=False),
        web.post(f"{base}/token", _named("token", token.handle)),
    ]
    app.add_routes(routes)
    return app
