"""``MockApis``: the mock protected APIs of one IdP, served together on one loopback port.

Each API lives under ``/<name>`` and its RFC 9728 metadata under
``/.well-known/oauth-protected-resource/<name>`` (an MCP API's options may move it). Starting
them registers each one with the IdP (audience = its URL, scopes ``<name>:read``/``<name>:write``)
and lets the named clients get tokens for them. Every metadata request, found or not, is kept
(:attr:`MockApis.metadata_requests`): where a client looked is part of what it did.

A ``successor`` IdP is the second authorization server of the migration trial: the APIs are
registered there too, and an MCP API with ``migrate`` switches to it after its first admitted call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from aiohttp import web

from ..config import ApiConfig, ClientConfig
from ..runtime import AppRuntime
from ..server import MockIdP
from ..targets import OIDC_SCOPES
from ..tls import LOOPBACK_NAMES, server_context
from ..web.listen import advertised_host, http_origin, listen
from .api import ApiCall, MockApi, answer
from .mcp import mcp_answer
from .mcp_options import McpOptions

DEFAULT_APIS = ("inventory", "billing")
log = logging.getLogger("mockidp")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class MetadataRequest:
    """One GET of a well-known (or the custom) metadata location on the APIs' host."""

    path: str
    status: int
    time: float


def _default_oidc_scopes(client: ClientConfig) -> tuple[str, ...]:
    """What a client that lists no scopes may have in the user flows: every OIDC scope
    (``targets.unlisted_oidc_scope``); a machine client, none."""
    if "authorization_code" not in client.allowed_grant_types:
        return ()
    return tuple(sorted(OIDC_SCOPES))


class MockApis(AppRuntime):
    """Resource servers that trust ``idp``; a sync and an async context manager like MockIdP.

    They listen on a free port of ``host``: by default the IdP's own host, so an IdP on ``::1``
    gets its APIs on ``::1`` too.
    """

    __test__ = False
    _already_started = "these mock APIs are already started"

    def __init__(
        self,
        idp: MockIdP,
        names: Sequence[str] = DEFAULT_APIS,
        *,
        clients: Iterable[str] | None = None,
        host: str | None = None,
        tls: bool | None = None,
        mcp: McpOptions | None = None,
        successor: MockIdP | None = None,
    ) -> None:
        """``tls``: serve https with a local-CA certificate (``mockidp.tls``); by default as the IdP does."""
        super().__init__()
        self.idp = idp
        self.successor = successor
        self.host = idp.host if host is None else host
        self.tls = idp.tls if tls is None else tls
        self.apis = {name: MockApi(name, mcp=mcp) for name in names}
        self.metadata_requests: list[MetadataRequest] = []
        self._clients = clients
        self._port = 0

    def __getitem__(self, name: str) -> MockApi:
        return self.apis[name]

    @property
    def calls(self) -> list[ApiCall]:
        """Every call to every API, in arrival order."""
        return sorted((c for api in self.apis.values() for c in api.snapshot()), key=lambda c: c.time)

    def env(self) -> dict[str, str]:
        """``MOCKIDP_API_<NAME>_URL`` for each API, as agents receive them."""
        return {f"MOCKIDP_API_{n.upper().replace('-', '_')}_URL": a.url for n, a in self.apis.items()}

    def authority(self, api: MockApi) -> MockIdP:
        """The IdP whose tokens ``api`` accepts now (the successor once it has migrated)."""
        return self.successor if api.migrated and self.successor is not None else self.idp

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._bug_middleware])
        for api in self.apis.values():
            handler = self._handler(api)
            app.router.add_route("*", api.path, handler)
            app.router.add_route("*", api.path + "/{tail:.*}", handler)
        # after the APIs: every other well-known or custom path is a metadata request too
        app.router.add_get("/.well-known/{tail:.*}", self._metadata, allow_head=False)
        app.router.add_get("/custom/{tail:.*}", self._metadata, allow_head=False)
        return app

    def _handler(self, api: MockApi) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if api.mcp is not None:
                response, call = await mcp_answer(self.authority(api).state, api, request)
                if call is not None:
                    api.record(call)
                    if call.claims is not None and api.mcp.migrate and self.successor is not None:
                        api.migrated = True  # the next request meets the second authorization server
                return response
            response, plain = answer(self.idp.state, api, request)
            api.record(plain)
            if api.delay(request):
                await asyncio.sleep(api.delay(request))
            return response

        return handle

    async def _metadata(self, request: web.Request) -> web.StreamResponse:
        """The RFC 9728 document of the API whose metadata lives at this path, else 404."""
        api = next((a for a in self.apis.values() if a.metadata_path == request.path), None)
        status = 200 if api is not None else 404
        self.metadata_requests.append(MetadataRequest(request.path, status, self.idp.state.clock.now()))
        if api is None:
            return web.json_response({"error": "not_found"}, status=404)
        return web.json_response(api.metadata(self.authority(api).issuer))

    @web.middleware
    async def _bug_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            self.idp.state.server_errors.add(exc)
            log.exception("mock API bug while handling %s %s", request.method, request.path)
            return web.json_response({"error": "server_error"}, status=500)

    async def _listen(self) -> web.AppRunner:
        context = server_context((*LOOPBACK_NAMES, advertised_host(self.host))) if self.tls else None
        runner, self._port = await listen(self._app(), self.host, 0, context)
        return runner

    def _started(self) -> None:
        for api in self.apis.values():
            api.url = http_origin(self.host, self._port, tls=self.tls) + api.path
        self._register()

    def _register(self) -> None:
        """Make the IdP issue tokens for the APIs: audience = URL, and the clients get the scopes."""
        for api in self.apis.values():
            self.idp.add_api(ApiConfig(audience=api.url, scopes=api.scopes))
            if self.successor is not None:
                self.successor.add_api(ApiConfig(audience=api.url, scopes=api.scopes))
        names = set(self.idp.clients) if self._clients is None else set(self._clients)
        urls = tuple(a.url for a in self.apis.values())
        scopes = tuple(s for a in self.apis.values() for s in a.scopes)
        for client_id in names:
            client = self.idp.clients[client_id]
            # a client that listed no scopes could have every OIDC scope in the user flows;
            # once it lists the API scopes, its list must name those too to keep them
            listed = client.scopes or _default_oidc_scopes(client)
            self.idp.add_client(
                dataclasses.replace(
                    client,
                    audiences=client.audiences + urls,
                    scopes=listed + tuple(s for s in scopes if s not in listed),
                )
            )
