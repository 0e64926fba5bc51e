"""The HTTP control API under ``{issuer}/_mockidp/``: the library's test hooks, for other processes.

Tests in other languages, and agents running out of process, mint tokens, queue faults,
read the journal, drive the clock and add registrations through it. It answers loopback
callers only, whose ``Host`` is a loopback name or the issuer's host and who are not a web page
of another origin (403 otherwise); it speaks JSON both ways, is never faulted, and is described by
the OpenAPI 3.1 document at ``{issuer}/_mockidp/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ...errors import Forbidden
from ...faults import CONTROL_ENDPOINT
from ..fault_middleware import ENDPOINT_ATTR
from ..keys import ENDPOINT
from ..origin import from_another_site, is_loopback, trusted_host
from . import handlers, openapi

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PREFIX = "/_mockidp"


def _guarded(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        request[ENDPOINT] = CONTROL_ENDPOINT
        if not is_loopback(request.remote):
            raise Forbidden("the mockidp control API answers loopback clients only")
        if not trusted_host(request):
            raise Forbidden(
                "the mockidp control API answers requests for a loopback host name or the issuer's "
                "host only (a DNS-rebound name is refused)"
            )
        if from_another_site(request):
            raise Forbidden("the mockidp control API refuses requests from web pages of other origins")
        return await handler(request)

    setattr(wrapped, ENDPOINT_ATTR, CONTROL_ENDPOINT)
    return wrapped


#: (method, path below the prefix, handler); the OpenAPI test checks each one is documented
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/tokens", handlers.mint_token),
    ("GET", "/faults", handlers.list_faults),
    ("POST", "/faults", handlers.add_faults),
    ("DELETE", "/faults", handlers.clear_faults),
    ("GET", "/token-defects", handlers.list_token_defects),
    ("POST", "/token-defects", handlers.plan_token_defects),
    ("DELETE", "/token-defects", handlers.clear_token_defects),
    ("GET", "/token-claims", handlers.list_token_claims),
    ("POST", "/token-claims", handlers.plan_token_claims),
    ("DELETE", "/token-claims", handlers.clear_token_claims),
    ("GET", "/misbehaviour", handlers.get_misbehaviour),
    ("POST", "/misbehaviour", handlers.set_misbehaviour),
    ("DELETE", "/misbehaviour", handlers.reset_misbehaviour),
    ("GET", "/journal", handlers.read_journal),
    ("DELETE", "/journal", handlers.clear_journal),
    ("GET", "/clock", handlers.get_clock),
    ("POST", "/clock", handlers.set_clock),
    ("POST", "/clients", handlers.add_clients),
    ("POST", "/users", handlers.add_users),
    ("POST", "/apis", handlers.add_apis),
    ("POST", "/rotate-keys", handlers.rotate_keys),
    ("POST", "/add-key", handlers.add_key),
    ("POST", "/activate-key", handlers.activate_key),
    ("POST", "/retire-key", handlers.retire_key),
    ("POST", "/reset", handlers.reset),
    ("GET", "/polled-requests", handlers.list_polled_requests),
    ("POST", "/polled-requests/approve", handlers.approve_polled_request),
    ("POST", "/polled-requests/deny", handlers.deny_polled_request),
    ("POST", "/polled-requests/expire", handlers.expire_polled_request),
    ("GET", "/openapi.json", openapi.handle),
)


def routes(issuer_path: str) -> list[web.RouteDef]:
    """The control routes under ``{issuer_path}/_mockidp``."""
    return [
        web.route(method, f"{issuer_path}{PREFIX}{path}", _guarded(handler))
        for method, path, handler in ROUTES
    ]
