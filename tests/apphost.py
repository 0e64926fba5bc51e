"""Serve any aiohttp app on 127.0.0.1 for a test (a JWKS host, a document host, a fake peer)."""

from __future__ import annotations

from aiohttp import web

from mockidp.runtime import AppRuntime
from mockidp.web.listen import listen


class AppHost(AppRuntime):
    """``with AppHost(app) as host:`` serves ``app``; ``host.base_url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, app: web.Application) -> None:
        super().__init__()
        self.app = app
        self.port = 0

    async def _listen(self) -> web.AppRunner:
        runner, self.port = await listen(self.app, "127.0.0.1", 0)
        return runner

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
