"""The MCP Python SDK's ``PrivateKeyJWTOAuthProvider`` against mockidp, and an SDK-built server.

The SDK client finds mockidp through the server's RFC 9728 metadata, signs its assertion with
``SignedJWTParameters`` (PyJWT, ``aud`` = the issuer, no ``kid``), gets a token with client
credentials and calls the tool; the SDK server (``mcp_server.py``) validates that token with
PyJWT and mockidp's JWKS. A wrong key gets no token and so no tool call.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.auth.extensions.client_credentials import PrivateKeyJWTOAuthProvider, SignedJWTParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_server import McpServerThread, MemoryStorage, tool_text

from mockidp import MockIdP

pytestmark = [pytest.mark.interop]

SCOPE = "whoami:read"
CLIENT = "mcp-signed-agent"
TIMEOUT = 20


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def mcp_server(mockidp: MockIdP) -> Iterator[McpServerThread]:
    with McpServerThread(mockidp.issuer, SCOPE) as server:
        mockidp.add_api(audience=server.url, scopes=[SCOPE])
        public = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        mockidp.add_client(
            client_id=CLIENT,
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [{**public, "alg": "RS256", "use": "sig"}]},
            grant_types=["client_credentials"],
            scopes=[SCOPE],
            audiences=[server.url],
        )
        yield server


async def call_whoami(server_url: str, issuer: str, key: rsa.RSAPrivateKey, storage: MemoryStorage) -> str:
    params = SignedJWTParameters(issuer=CLIENT, subject=CLIENT, signing_key=pem(key), lifetime_seconds=120)
    auth = PrivateKeyJWTOAuthProvider(
        server_url=server_url,
        storage=storage,
        client_id=CLIENT,
        assertion_provider=params.create_assertion_provider(),
        scope=SCOPE,
        issuer=issuer,
    )
    with anyio.fail_after(TIMEOUT):
        async with (
            httpx2.AsyncClient(auth=auth, trust_env=False, timeout=10) as http,
            Client(streamable_http_client(server_url, http_client=http), cache=None) as client,
        ):
            result = await client.call_tool("whoami", {})
    return tool_text(result)


@pytest.mark.asyncio
async def test_sdk_private_key_jwt_provider_gets_a_token_the_sdk_server_accepts(
    mockidp: MockIdP, mcp_server: McpServerThread
) -> None:
    storage = MemoryStorage()
    assert await call_whoami(mcp_server.url, mockidp.issuer, KEY, storage) == CLIENT
    token = next(r for r in mockidp.requests if r.endpoint == "token" and r.status == 200)
    assert token.form["grant_type"] == ["client_credentials"]
    assert token.client_assertion is not None
    assert token.client_assertion["claims"]["aud"] == mockidp.issuer  # rfc7523bis: the issuer
    assert "kid" not in token.client_assertion["header"]  # one key: none needed
    assert storage.tokens is not None
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == mcp_server.url
    assert claims["client_id"] == CLIENT
    assert mcp_server.verifier.last_error == ""


@pytest.mark.asyncio
async def test_sdk_provider_with_the_wrong_key_gets_no_token(
    mockidp: MockIdP, mcp_server: McpServerThread
) -> None:
    wrong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps its OAuth error in task groups
        await call_whoami(mcp_server.url, mockidp.issuer, wrong, MemoryStorage())
    refused = [r for r in mockidp.requests if r.endpoint == "token"]
    assert refused and all(r.status == 401 for r in refused)
