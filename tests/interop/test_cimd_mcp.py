"""Done when (issue 13): the MCP Python SDK's ``OAuthClientProvider``, given a
``client_metadata_url``, signs in with that client ID metadata document against mockidp over
TLS and calls a tool on an SDK-built MCP server.

Everything is https on 127.0.0.1 with certificates from mockidp's local CA: mockidp
(``tls=True``), the test's document host (``mockidp.issue_cert``) and the MCP server (uvicorn
with an issued certificate). The SDK's HTTP client trusts ``mockidp.ssl_context()``; mockidp
fetches the document trusting its own CA. No dynamic registration happens: the SDK sees
``client_id_metadata_document_supported`` and uses the URL as its client_id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from aiohttp import web
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp_server import HeadlessBrowser, McpServerThread, MemoryStorage

import mockidp as mockidp_lib
from mockidp import MockIdP
from mockidp.runtime import AppRuntime
from mockidp.web.listen import listen

pytestmark = [
    pytest.mark.interop,
    pytest.mark.mockidp(tls=True, login="auto", users=[{"sub": "alice", "username": "alice"}]),
]

SCOPE = "whoami:read"
#: registered port-less in the document; the SDK's redirect carries a port (RFC 8252 section 7.3)
DOCUMENT_REDIRECT = "http://127.0.0.1/callback"
REDIRECT_URI = "http://127.0.0.1:53682/callback"
TIMEOUT = 30


class DocumentHost(AppRuntime):
    """The client's own https host, serving its metadata document at ``/oauth/client.json``."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__()
        self.document = document
        self.hits = 0
        self.port = 0
        self.app = web.Application()
        self.app.router.add_get("/oauth/client.json", self.serve)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/oauth/client.json"

    async def serve(self, request: web.Request) -> web.Response:
        self.hits += 1
        body = {"client_id": self.url, **self.document}
        return web.json_response(body, headers={"Cache-Control": "max-age=300"})

    async def _listen(self) -> web.AppRunner:
        context = mockidp_lib.issue_cert("127.0.0.1").server_context()
        runner, self.port = await listen(self.app, "127.0.0.1", 0, context)
        return runner


@pytest.fixture
def document_host() -> Iterator[DocumentHost]:
    document = {
        "client_name": "CIMD interop agent",
        "redirect_uris": [DOCUMENT_REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    with DocumentHost(document) as host:
        yield host


@pytest.fixture
def mcp_server(mockidp: MockIdP) -> Iterator[McpServerThread]:
    server = McpServerThread(mockidp.issuer, SCOPE, tls=True)
    with server:
        mockidp.add_api(audience=server.url, scopes=[SCOPE])
        yield server


@pytest.mark.asyncio
async def test_sdk_signs_in_with_a_client_id_metadata_document_over_tls(
    mockidp: MockIdP, mcp_server: McpServerThread, document_host: DocumentHost
) -> None:
    assert mockidp.issuer.startswith("https://127.0.0.1:")
    trust = mockidp_lib.ssl_context()
    browser, storage = HeadlessBrowser(REDIRECT_URI, trust), MemoryStorage()
    metadata = OAuthClientMetadata(
        client_name="CIMD interop agent",
        redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]  # pydantic coerces str
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="none",
    )
    auth = OAuthClientProvider(
        server_url=mcp_server.url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
        client_metadata_url=document_host.url,
    )
    with anyio.fail_after(TIMEOUT):
        async with (
            httpx2.AsyncClient(auth=auth, trust_env=False, timeout=15, verify=trust) as http,
            Client(streamable_http_client(mcp_server.url, http_client=http), cache=None) as client,
        ):
            result = await client.call_tool("whoami", {})
    assert not result.is_error, (result, mcp_server.verifier.last_error)
    assert result.content[0].type == "text" and result.content[0].text == "alice"

    endpoints = [r.endpoint for r in mockidp.requests]
    assert "register" not in endpoints, endpoints  # CIMD, not dynamic registration
    assert endpoints.index("authorize") < endpoints.index("token")
    authorize = next(r for r in mockidp.requests if r.endpoint == "authorize")
    assert authorize.query["client_id"] == [document_host.url]
    assert authorize.query["redirect_uri"] == [REDIRECT_URI]
    token = next(r for r in mockidp.requests if r.endpoint == "token")
    assert token.status == 200 and token.form["client_id"] == [document_host.url]
    # fetched once at /authorize; /token resolved it again from the cache (max-age=300)
    assert document_host.hits == 1
    assert storage.tokens is not None
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["client_id"] == document_host.url
    assert claims["aud"] == mcp_server.url
    assert claims["iss"] == mockidp.issuer
