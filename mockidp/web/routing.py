"""Request dispatch for an IdP's app: its routes in one table instead of aiohttp resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RouteTable:
    """An IdP's routes as ``{path: {method: handler}}``, resolved with one dict lookup.

    Registering some 45 aiohttp resources cost about 2 ms per IdP, most of what a fresh IdP
    (one per test) costs to start; one catch-all resource dispatching through this table,
    built once per issuer path, costs nothing. Answers stay aiohttp's: 404 for an unknown
    path, 405 with ``Allow`` for a known path and another method (HEAD only where listed).
    """

    def __init__(self, routes: list[web.RouteDef]) -> None:
        self.paths: dict[str, dict[str, Handler]] = {}
        for route in routes:
            self.paths.setdefault(route.path, {})[route.method] = route.handler

    def find(self, method: str, path: str) -> Handler | None:
        return self.paths.get(path, {}).get(method)

    def resolve(self, request: web.Request) -> Handler:
        methods = self.paths.get(request.path)
        if methods is None:
            raise web.HTTPNotFound()
        handler = methods.get(request.method)
        if handler is None:
            raise web.HTTPMethodNotAllowed(request.method, sorted(methods))
        return handler
