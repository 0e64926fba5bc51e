"""Enterprise-managed authorization (MCP ext-auth, ID-JAG), both legs in one process, with the
MCP Python SDK's ``IdentityAssertionOAuthProvider`` and an SDK-built MCP server.

Two mockidps with issuer paths play the enterprise IdP (``/enterprise``) and the MCP server's
authorization server (``/mcp-as``). The user signs in at the enterprise IdP (authorization code
+ PKCE, ``login: auto``); the SDK's assertion provider gets an ID-JAG there by token exchange;
the SDK redeems it at the resource AS with the jwt-bearer grant and calls the tool.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.auth.extensions.identity_assertion import IdentityAssertionOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp_server import McpServerThread, MemoryStorage, tool_text
from userflow import claims_of, header_of

from mockidp import MockIdP

pytestmark = pytest.mark.interop

SCOPE = "whoami:read"
CALLBACK = "http://127.0.0.1/callback"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
#: the agent is registered at both servers, under the same client_id, with a secret for each
AT_IDP = ("agent", "agent-secret-at-idp")
AT_AS = ("agent", "agent-secret-at-as")


@dataclass
class Legs:
    enterprise: MockIdP
    resource_as: MockIdP
    server: McpServerThread


@pytest.fixture
def legs() -> Iterator[Legs]:
    with (
        MockIdP(
            issuer="/enterprise", users=[{"sub": "alice", "claims": {"email": "alice@corp.example"}}]
        ) as idp,
        MockIdP(issuer="/mcp-as") as resource_as,
        McpServerThread(resource_as.issuer, SCOPE) as server,
    ):
        resource_as.reconfigure(
            apis=[{"audience": server.url, "scopes": [SCOPE]}],
            clients=[
                {
                    "client_id": AT_AS[0],
                    "client_secret": AT_AS[1],
                    "grant_types": [JWT_BEARER],
                    "audiences": [server.url],
                    "scopes": [SCOPE],
                }
            ],
            trusted_issuers=[
                {
                    "issuer": idp.issuer,  # the contract's keys only: the kind follows from typ
                    "jwks_uri": idp.jwks_uri,
                    "allow_http_loopback": True,  # both legs on loopback http in this test
                    "audiences": [server.url],
                    "scopes": [SCOPE],
                }
            ],
        )
        idp.add_client(
            client_id=AT_IDP[0],
            client_secret=AT_IDP[1],
            grant_types=["authorization_code", EXCHANGE],
            redirect_uris=[CALLBACK],
            scopes=["openid", "email"],
            exchange={"audiences": [resource_as.issuer], "scopes": [SCOPE]},
        )
        yield Legs(idp, resource_as, server)


def sign_in(idp: MockIdP) -> str:
    """The user's single sign-on at the enterprise IdP: the agent's ID token for alice."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with requests.Session() as http:
        http.trust_env = False
        r = http.get(
            idp.url("authorize"),
            params={
                "response_type": "code",
                "client_id": AT_IDP[0],
                "redirect_uri": CALLBACK,
                "scope": "openid email",
                "login_hint": "alice",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": "s",
            },
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text
        code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        }
        r = http.post(idp.token_endpoint, data=data, auth=AT_IDP)
        assert r.status_code == 200, r.text
        id_token: str = r.json()["id_token"]
        return id_token


def test_sdk_redeems_an_id_jag_from_the_idp_leg_and_calls_the_tool(legs: Legs) -> None:
    id_token = sign_in(legs.enterprise)
    issued: list[dict[str, Any]] = []

    async def assertion_provider(audience: str, resource: str) -> str:
        """The IdP leg: RFC 8693 token exchange of the ID token for an ID-JAG."""
        data = {
            "grant_type": EXCHANGE,
            "requested_token_type": ID_JAG,
            "subject_token": id_token,
            "subject_token_type": ID_TOKEN,
            "audience": audience,
            "resource": resource,
            "scope": SCOPE,
        }
        async with httpx2.AsyncClient(trust_env=False, timeout=10) as http:
            response = await http.post(legs.enterprise.token_endpoint, data=data, auth=AT_IDP)
        assert response.status_code == 200, response.text
        issued.append(response.json())
        jag: str = response.json()["access_token"]
        return jag

    async def main() -> str:
        auth = IdentityAssertionOAuthProvider(
            server_url=legs.server.url,
            storage=MemoryStorage(),
            client_id=AT_AS[0],
            client_secret=AT_AS[1],
            issuer=legs.resource_as.issuer,
            assertion_provider=assertion_provider,
            scope=SCOPE,
        )
        with anyio.fail_after(20):
            async with (
                httpx2.AsyncClient(auth=auth, trust_env=False, timeout=10) as http,
                Client(streamable_http_client(legs.server.url, http_client=http), cache=None) as client,
            ):
                result = await client.call_tool("whoami", {})
        return tool_text(result)

    assert anyio.run(main) == "alice"

    # the IdP leg's answer (draft-ietf-oauth-identity-assertion-authz-grant §4.3)
    body = issued[0]
    assert (body["issued_token_type"], body["token_type"]) == (ID_JAG, "N_A")
    assert header_of(body["access_token"])["typ"] == "oauth-id-jag+jwt"
    jag = claims_of(body["access_token"])
    assert jag["iss"] == legs.enterprise.issuer and jag["sub"] == "alice"
    assert jag["aud"] == legs.resource_as.issuer
    assert (jag["client_id"], jag["resource"], jag["scope"]) == ("agent", legs.server.url, SCOPE)
    assert jag["exp"] - jag["iat"] <= 300
    # the resource AS's token: the user, restricted to the MCP server
    redeemed = [r for r in legs.resource_as.requests if r.endpoint == "token"]
    assert [(r.form["grant_type"], r.status) for r in redeemed] == [([JWT_BEARER], 200)]
    metadata = requests.get(legs.resource_as.oauth_metadata_url, timeout=5).json()
    assert metadata["authorization_grant_profiles_supported"] == [
        "urn:ietf:params:oauth:grant-profile:id-jag"
    ]
    assert JWT_BEARER in metadata["grant_types_supported"]
