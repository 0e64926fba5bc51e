"""The agent's own https host in the ``basic-cimd`` trial: it serves the agent's client ID metadata document.

An MCP client that has a metadata document publishes it on its own https host; the SDK refuses
an ``http`` document URL. check-agent plays that host for the agent: one document on
``https://127.0.0.1:<port>/client.json`` with a certificate from mockidp's local CA (which the
IdP trusts when it fetches documents), naming the redirect URI the agent is told to use and
``token_endpoint_auth_method: none``. It counts the fetches, so a check can tell that the IdP
resolved the document rather than a client registered another way.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..runtime import AppRuntime
from ..tls import issue_cert
from ..web.listen import listen

DOCUMENT_PATH = "/client.json"
CLIENT_NAME = "mockidp check-agent client"


class ClientDocumentHost(AppRuntime):
    """One client ID metadata document over https on 127.0.0.1, for ``redirect_uri``."""

    def __init__(self, redirect_uri: str) -> None:
        super().__init__()
        self.redirect_uri = redirect_uri
        self.fetches = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}{DOCUMENT_PATH}"

    def document(self) -> dict[str, Any]:
        return {
            "client_id": self.url,
            "client_name": CLIENT_NAME,
            "redirect_uris": [self.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }

    async def _serve(self, request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response(self.document(), headers={"Cache-Control": "max-age=300"})

    async def _listen(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_get(DOCUMENT_PATH, self._serve)
        runner, self.port = await listen(app, "127.0.0.1", 0, issue_cert("127.0.0.1").server_context())
        return runner
