"""Enterprise-managed authorization (MCP ext-auth; ID-JAG), both legs in one process: the
enterprise IdP issues an ID-JAG by token exchange, the MCP server's authorization server
redeems it with the jwt-bearer grant."""

import jwt
import pytest
import requests

from mockidp import MockIdP
from mockidp.issuance import issue_id_token

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


def test_id_jag_for_the_mcp_server(legs):
    idp, mcp_as = legs
    # the user's ID token for the agent (what single sign-on at the enterprise IdP gives it)
    id_token = issue_id_token(
        idp.state, client_id="agent", user=idp.users["alice"], nonce=None,
        auth_time=idp.clock.now(), access_token=None, scopes=["openid"],
    )  # fmt: skip

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
    id_token = issue_id_token(
        idp.state, client_id="agent", user=idp.users["alice"], nonce=None,
        auth_time=idp.clock.now(), access_token=None, scopes=["openid"],
    )  # fmt: skip
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
