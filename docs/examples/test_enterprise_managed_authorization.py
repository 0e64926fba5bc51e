"""Enterprise-managed authorization (MCP ext-auth; ID-JAG), both legs in one process: the
enterprise IdP issues an ID-JAG by token exchange, the MCP server's authorization server
redeems it with the jwt-bearer grant."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from mockidp import MockIdP

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MCP_SERVER = "https://mcp.example/mcp"


@pytest.fixture
def legs():
    with MockIdP(issuer="/enterprise", users=[{"sub": "alice"}]) as idp, MockIdP(issuer="/mcp-as") as mcp_as:
        # the MCP server's AS trusts the enterprise IdP for ID-JAGs
        mcp_as.reconfigure(
            apis=[{"audience": MCP_SERVER, "scopes": ["tools:call"]}],
            clients=[
                {
                    "client_id": "agent",
                    "client_secret": "secret-at-mcp-as",
                    "grant_types": [JWT_BEARER],
                    "audiences": [MCP_SERVER],
                    "scopes": ["tools:call"],
                }
            ],
            trusted_issuers=[
                {
                    "issuer": idp.issuer,
                    "kind": "enterprise-idp",
                    "jwks_uri": idp.jwks_uri,
                    "allow_http_loopback": True,  # both on loopback http in a test
                    "audiences": [MCP_SERVER],
                    "scopes": ["tools:call"],
                }
            ],
        )
        # the enterprise IdP lets the agent ask for ID-JAGs for that AS
        idp.add_client(
            client_id="agent",
            client_secret="secret-at-idp",
            grant_types=["authorization_code", EXCHANGE],
            redirect_uris=["http://127.0.0.1/callback"],
            exchange={"audiences": [mcp_as.issuer], "scopes": ["tools:call"]},
        )
        yield idp, mcp_as


def sign_in(idp):
    """Single sign-on at the enterprise IdP (code flow + PKCE, login: auto): the agent's ID token."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = requests.get(
        idp.url("authorize"),
        params={
            "response_type": "code", "client_id": "agent", "redirect_uri": "http://127.0.0.1/callback",
            "scope": "openid", "login_hint": "alice", "code_challenge": challenge,
            "code_challenge_method": "S256", "state": "s",
        },
        allow_redirects=False,
    )  # fmt: skip
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        idp.token_endpoint,
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
              "redirect_uri": "http://127.0.0.1/callback"},
        auth=("agent", "secret-at-idp"),
    )  # fmt: skip
    return tokens.json()["id_token"]


def test_id_jag_for_the_mcp_server(legs):
    idp, mcp_as = legs
    id_token = sign_in(idp)  # the user's ID token for the agent

    # leg 1, at the enterprise IdP: token exchange for an ID-JAG
    r = requests.post(
        idp.token_endpoint,
        data={
            "grant_type": EXCHANGE,
            "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "audience": mcp_as.issuer,
            "resource": MCP_SERVER,
            "scope": "tools:call",
        },
        auth=("agent", "secret-at-idp"),
    )
    assert r.status_code == 200 and r.json()["token_type"] == "N_A"
    id_jag = r.json()["access_token"]
    assert jwt.get_unverified_header(id_jag)["typ"] == "oauth-id-jag+jwt"

    # leg 2, at the MCP server's AS: the jwt-bearer grant
    r = requests.post(
        mcp_as.token_endpoint,
        data={"grant_type": JWT_BEARER, "assertion": id_jag, "resource": MCP_SERVER},
        auth=("agent", "secret-at-mcp-as"),
    )
    assert r.status_code == 200
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["aud"], claims["scope"]) == ("alice", MCP_SERVER, "tools:call")


def test_a_broken_id_jag_is_refused(legs):
    """The enterprise leg can hand out broken ID-JAGs, to test a real resource AS with."""
    idp, mcp_as = legs
    idp.plan_defects(["id-jag-aud-wrong"], token="id-jag")
    id_token = sign_in(idp)
    r = requests.post(
        idp.token_endpoint,
        data={
            "grant_type": EXCHANGE,
            "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "audience": mcp_as.issuer,
            "resource": MCP_SERVER,
        },
        auth=("agent", "secret-at-idp"),
    )
    r = requests.post(
        mcp_as.token_endpoint,
        data={"grant_type": JWT_BEARER, "assertion": r.json()["access_token"], "resource": MCP_SERVER},
        auth=("agent", "secret-at-mcp-as"),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
