"""The MCP Python SDK, client and server, against the ``mockidp`` fixture over loopback HTTP.

The agent side is the SDK's ``OAuthClientProvider`` doing what an MCP client does on a 401:
protected-resource metadata (RFC 9728), authorization server metadata (RFC 8414), dynamic
registration (RFC 7591), authorization code + PKCE S256 with the RFC 8707 ``resource``, then
the tool call with the token. The resource side is an SDK-built MCP server (``mcp_server.py``)
whose verifier must refuse mockidp's broken tokens. Neither side is ours, so a mockidp
regression that only our own validators tolerate shows up here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider, OAuthFlowError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp.shared.exceptions import MCPError
from mcp_server import HeadlessBrowser, McpServerThread, MemoryStorage

from mockidp import MockIdP

pytestmark = [pytest.mark.interop, pytest.mark.mockidp(users=[{"sub": "alice", "username": "alice"}])]

SCOPE = "whoami:read"
REDIRECT_URI = "http://127.0.0.1/callback"  # never contacted: the redirect handler reads the code
TIMEOUT = 20


@pytest.fixture
def mcp_server(mockidp: MockIdP) -> Iterator[McpServerThread]:
    """The SDK server on a free port, then mockidp told about it: its URL is the API audience."""
    with McpServerThread(mockidp.issuer, SCOPE) as server:
        mockidp.add_api(audience=server.url, scopes=[SCOPE])
        yield server


def oauth_provider(server_url: str, browser: HeadlessBrowser, storage: MemoryStorage) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        client_name="mockidp interop agent",
        redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]  # pydantic coerces str
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="none",  # a public client, as MCP clients usually are
    )
    return OAuthClientProvider(
        server_url=server_url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )


async def call_whoami(server_url: str, browser: HeadlessBrowser, storage: MemoryStorage) -> str:
    """Connect with the SDK client (which runs the OAuth flow on the first 401) and call whoami."""
    auth = oauth_provider(server_url, browser, storage)
    with anyio.fail_after(TIMEOUT):
        async with (
            httpx2.AsyncClient(auth=auth, trust_env=False, timeout=10) as http,
            Client(streamable_http_client(server_url, http_client=http), cache=None) as client,
        ):
            tools = await client.list_tools()
            assert [tool.name for tool in tools.tools] == ["whoami"]
            result = await client.call_tool("whoami", {})
    assert not result.is_error, result
    text = result.content[0]
    assert text.type == "text"
    return text.text


@pytest.mark.asyncio
async def test_sdk_client_gets_a_token_and_calls_the_sdk_server(
    mockidp: MockIdP, mcp_server: McpServerThread
) -> None:
    browser, storage = HeadlessBrowser(REDIRECT_URI), MemoryStorage()
    assert await call_whoami(mcp_server.url, browser, storage) == "alice"

    journal = mockidp.requests
    endpoints = [r.endpoint for r in journal]
    for step in ("register", "authorize", "token"):
        assert step in endpoints, endpoints
    assert endpoints.index("register") < endpoints.index("authorize") < endpoints.index("token")
    authorize = next(r for r in journal if r.endpoint == "authorize").query
    assert authorize["code_challenge_method"] == ["S256"]
    assert len(authorize["code_challenge"][0]) == 43
    assert authorize["state"] and authorize["state"][0]
    assert authorize["resource"] == [mcp_server.url]
    # PRM scopes_supported, plus offline_access: the AS offers it and the client wants refresh
    assert authorize["scope"][0].split() == [SCOPE, "offline_access"]
    token = next(r for r in journal if r.endpoint == "token")
    assert token.status == 200
    assert token.form["grant_type"] == ["authorization_code"]
    verifier = re.fullmatch(r"\[redacted len=(\d+) sha256:[0-9a-f]{8}\]", token.form["code_verifier"][0])
    assert verifier and int(verifier.group(1)) >= 43  # the journal keeps its length, not its value
    assert token.form["resource"] == [mcp_server.url]
    assert browser.result is not None and browser.result.iss == mockidp.issuer  # RFC 9207

    assert storage.tokens is not None
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == mcp_server.url  # the server checked it too, with the signature
    assert SCOPE in claims["scope"].split()
    assert storage.tokens.refresh_token  # offline_access was granted


def contains(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is ``exc`` or nested in it (task groups wrap client errors)."""
    if isinstance(exc, kind):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(contains(inner, kind) for inner in exc.exceptions)
    return exc.__cause__ is not None and contains(exc.__cause__, kind)


@pytest.mark.asyncio
async def test_sdk_server_refuses_planned_aud_wrong_tokens(
    mockidp: MockIdP, mcp_server: McpServerThread
) -> None:
    """The token endpoint breaks every token; the SDK flow succeeds each time, the server says 401.

    The SDK client re-authorizes on a 401 once per request (its discovery probe, then the
    initialize fallback) and then gives up with the server's error, so the loop is bounded.
    """
    mockidp.plan_defects(["aud-wrong"], times=None)
    with pytest.raises(BaseException) as info:
        await call_whoami(mcp_server.url, HeadlessBrowser(REDIRECT_URI), MemoryStorage())
    assert contains(info.value, MCPError) and not contains(info.value, OAuthFlowError), info.value
    tokens = [r.status for r in mockidp.requests if r.endpoint == "token"]
    assert tokens and set(tokens) == {200}, tokens
    assert "InvalidAudienceError" in mcp_server.verifier.last_error


@pytest.mark.asyncio
async def test_sdk_client_stops_at_a_lying_metadata_issuer(
    mockidp: MockIdP, mcp_server: McpServerThread
) -> None:
    """RFC 8414 section 3.3: metadata naming another issuer must not be used (mix-up defence)."""
    mockidp.misbehave(metadata_issuer="https://evil.example")
    with pytest.raises(BaseException) as info:
        await call_whoami(mcp_server.url, HeadlessBrowser(REDIRECT_URI), MemoryStorage())
    assert contains(info.value, OAuthFlowError), info.value
    endpoints = {r.endpoint for r in mockidp.requests}
    assert not endpoints & {"register", "authorize", "token"}, endpoints


@pytest.mark.asyncio
@pytest.mark.parametrize("switch", ["authorization_iss", "authorization_state"])
async def test_sdk_client_refuses_a_tampered_authorization_response(
    mockidp: MockIdP, mcp_server: McpServerThread, switch: str
) -> None:
    """RFC 9207 ``iss`` and the CSRF ``state``: a wrong one must stop the client before /token."""
    mockidp.misbehave(**{switch: "wrong"})
    with pytest.raises(BaseException) as info:
        await call_whoami(mcp_server.url, HeadlessBrowser(REDIRECT_URI), MemoryStorage())
    assert contains(info.value, OAuthFlowError), info.value
    endpoints = [r.endpoint for r in mockidp.requests]
    assert "authorize" in endpoints and "token" not in endpoints, endpoints


# --- the SDK server against catalog defects, directly over HTTP --------------------------------

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}


def post_initialize(url: str, token: str) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    with httpx.Client(trust_env=False, timeout=10) as http:
        return http.post(url, json=INITIALIZE, headers=headers)


@pytest.fixture
def probe_client(mockidp: MockIdP, mcp_server: McpServerThread) -> str:
    """A confidential client allowed to mint tokens for the MCP server (``issue_token``)."""
    mockidp.add_client(
        client_id="probe",
        client_secret="probe-secret",
        grant_types=["client_credentials"],
        scopes=[SCOPE],
        audiences=[mcp_server.url],
    )
    return "probe"


def test_sdk_server_accepts_an_honest_token(
    mockidp: MockIdP, mcp_server: McpServerThread, probe_client: str
) -> None:
    token = mockidp.issue_token(client_id=probe_client, audience=mcp_server.url, scope=SCOPE)
    response = post_initialize(mcp_server.url, token)
    assert response.status_code == 200, (response.text, mcp_server.verifier.last_error)


@pytest.mark.parametrize(
    "defect",
    [
        "expired",
        "aud-wrong",
        "alg-none",
        "iss-wrong",
        "payload-tampered",
        "signature-unknown-key",
        "alg-confusion-hs256-jwk",
        "jku-attacker",
        "typ-jwt",
        "id-token-as-access-token",
    ],
)
def test_sdk_server_refuses_a_broken_token(
    mockidp: MockIdP, mcp_server: McpServerThread, probe_client: str, defect: str
) -> None:
    token = mockidp.issue_token(
        client_id=probe_client, audience=mcp_server.url, scope=SCOPE, defects=[defect]
    )
    response = post_initialize(mcp_server.url, token)
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    prm = mcp_server.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    assert f'resource_metadata="{prm}"' in challenge  # RFC 9728 section 5.1
    assert mcp_server.verifier.last_error


def test_sdk_server_answers_403_for_a_missing_scope(
    mockidp: MockIdP, mcp_server: McpServerThread, probe_client: str
) -> None:
    token = mockidp.issue_token(
        client_id=probe_client, audience=mcp_server.url, scope=SCOPE, defects=["scope-insufficient"]
    )
    response = post_initialize(mcp_server.url, token)
    assert response.status_code == 403, response.text
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_prm_names_mockidp_as_authorization_server(mockidp: MockIdP, mcp_server: McpServerThread) -> None:
    prm_url = mcp_server.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    with httpx.Client(trust_env=False, timeout=10) as http:
        prm = http.get(prm_url).json()
    assert prm["resource"] == mcp_server.url
    assert prm["authorization_servers"] == [mockidp.issuer]  # exactly: no trailing slash


def test_docs_page_shows_this_code_verbatim() -> None:
    """docs/howto-mcp.md copies its code from this file and mcp_server.py; keep them in sync."""
    here = Path(__file__).resolve().parent
    sources = (here / "test_interop_mcp.py").read_text("utf-8")
    sources += (here.parent / "mcp_server.py").read_text("utf-8")
    sources += (here / "test_cimd_mcp.py").read_text("utf-8")
    page = (here.parents[1] / "docs" / "howto-mcp.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    assert len(blocks) == 7
    for block in blocks:
        assert block in sources, f"docs/howto-mcp.md shows code that is not in the tests:\n{block}"
