"""ID-JAG, both legs over loopback HTTP: the enterprise IdP's token exchange (its checks and its
answer) and the resource AS's jwt-bearer redemption, which refuses every broken ID-JAG of the
defect catalog (planned at the IdP leg) with ``invalid_grant``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from userflow import claims_of

from mockidp import MockIdP
from mockidp.defects import defect_names, get_defect
from mockidp.issuance import issue_id_token

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
AT = "urn:ietf:params:oauth:token-type:access_token"
MCP, OTHER = "https://mcp.example/mcp", "https://other.example/mcp"
AT_IDP = ("agent", "agent-secret-at-idp")
AT_AS = ("agent", "agent-secret-at-as")


@dataclass
class Legs:
    idp: MockIdP
    resource_as: MockIdP


@pytest.fixture
def legs() -> Iterator[Legs]:
    with (
        MockIdP(issuer="/enterprise", users=[{"sub": "alice"}]) as idp,
        MockIdP(issuer="/mcp-as") as resource_as,
    ):
        resource_as.reconfigure(
            apis=[{"audience": MCP, "scopes": ["mcp:read", "mcp:write"]}, {"audience": OTHER}],
            clients=[
                {
                    "client_id": AT_AS[0],
                    "client_secret": AT_AS[1],
                    "grant_types": [JWT_BEARER],
                    "audiences": [MCP, OTHER],
                    "scopes": ["mcp:read", "mcp:write"],
                },
                {
                    "client_id": "public-agent",
                    "grant_types": [JWT_BEARER],
                    "redirect_uris": ["http://127.0.0.1/cb"],
                },
            ],
            trusted_issuers=[
                {
                    "issuer": idp.issuer,
                    "kind": "enterprise-idp",
                    "jwks": idp.jwks(),
                    "audiences": [MCP, OTHER],
                    "scopes": ["mcp:read"],
                }
            ],
        )
        idp.add_client(
            client_id=AT_IDP[0],
            client_secret=AT_IDP[1],
            grant_types=[EXCHANGE],
            exchange={"audiences": [resource_as.issuer], "scopes": ["mcp:read"]},
        )
        idp.add_client(client_id="other-app", client_secret="other-secret", grant_types=[EXCHANGE])
        yield Legs(idp, resource_as)


def id_token(idp: MockIdP, client_id: str = "agent") -> str:
    return issue_id_token(
        idp.state,
        client_id=client_id,
        user=idp.users["alice"],
        nonce=None,
        auth_time=idp.clock.now(),
        access_token=None,
        scopes=["openid"],
    )


def request_jag(legs: Legs, http: requests.Session, **extra: Any) -> requests.Response:
    data = {
        "grant_type": EXCHANGE,
        "requested_token_type": ID_JAG,
        "subject_token": id_token(legs.idp),
        "subject_token_type": ID_TOKEN,
        "audience": legs.resource_as.issuer,
        "resource": MCP,
        "scope": "mcp:read",
        **extra,
    }
    return http.post(
        legs.idp.token_endpoint, data={k: v for k, v in data.items() if v is not None}, auth=AT_IDP
    )


def redeem(
    legs: Legs, http: requests.Session, jag: str, auth: Any = AT_AS, **extra: str
) -> requests.Response:
    data = {"grant_type": JWT_BEARER, "assertion": jag, "resource": MCP, **extra}
    return http.post(legs.resource_as.token_endpoint, data=data, auth=auth)


def test_both_legs(legs: Legs, http: requests.Session) -> None:
    r = request_jag(legs, http)
    assert r.status_code == 200, r.text
    assert (r.json()["token_type"], r.json()["issued_token_type"]) == ("N_A", ID_JAG)
    token = redeem(legs, http, r.json()["access_token"])
    assert token.status_code == 200, token.text
    claims = claims_of(token.json()["access_token"])
    assert (claims["sub"], claims["aud"], claims["scope"], claims["client_id"]) == (
        "alice",
        MCP,
        "mcp:read",
        "agent",
    )
    assert "refresh_token" not in token.json()
    # single use: the same ID-JAG a second time is a replay
    again = redeem(legs, http, r.json()["access_token"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_resource_defaults_to_the_granted_one_and_scope_narrows(legs: Legs, http: requests.Session) -> None:
    jag = request_jag(legs, http).json()["access_token"]
    r = http.post(
        legs.resource_as.token_endpoint, data={"grant_type": JWT_BEARER, "assertion": jag}, auth=AT_AS
    )
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["aud"] == MCP
    jag = request_jag(legs, http).json()["access_token"]
    r = redeem(legs, http, jag, scope="mcp:write")  # the client may, the ID-JAG does not grant it
    assert (r.status_code, r.json()["error"]) == (400, "invalid_scope"), r.text


@pytest.mark.parametrize("kind", ["enterprise-idp", None])
@pytest.mark.parametrize("name", defect_names("id-jag"))
def test_resource_as_refuses_every_broken_id_jag(
    legs: Legs, http: requests.Session, name: str, kind: str
) -> None:
    if kind is None:  # an entry with the contract's keys only: ID-JAGs are told apart by typ
        entry = {
            "issuer": legs.idp.issuer,
            "jwks": legs.idp.jwks(),
            "audiences": [MCP, OTHER],
            "scopes": ["mcp:read"],
        }
        legs.resource_as.reconfigure(trusted_issuers=[entry])
    legs.idp.plan_defects([name], token="id-jag")
    r = request_jag(legs, http)
    assert r.status_code == 200, r.text
    refused = redeem(legs, http, r.json()["access_token"])
    defect = get_defect(name)
    assert (refused.status_code, refused.json()["error"]) == (defect.expected_status, defect.expected_error)
    assert "refused" in refused.json()["error_description"]


def test_wrong_resource_requested_is_refused(legs: Legs, http: requests.Session) -> None:
    jag = request_jag(legs, http).json()["access_token"]
    r = redeem(legs, http, jag, resource=OTHER)
    assert r.status_code == 400 and "is not the one it grants" in r.json()["error_description"], r.text


def test_public_client_cannot_redeem(legs: Legs, http: requests.Session) -> None:
    jag = request_jag(legs, http).json()["access_token"]
    r = redeem(legs, http, jag, auth=None, client_id="public-agent")
    assert r.status_code == 400 and "confidential" in r.json()["error_description"], r.text


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        ({"audience": "https://unlisted-as.example"}, "invalid_target", "may not get an ID-JAG"),
        ({"audience": None}, "invalid_request", "exactly one audience"),
        ({"subject_token_type": AT}, "invalid_request", "typ"),
        ({"resource": "not-a-uri"}, "invalid_target", "absolute URI"),
        ({"scope": "mcp:write"}, "invalid_scope", "mcp:write"),
        ({"actor_token": "x", "actor_token_type": AT}, "invalid_request", "no actor_token"),
    ],
)
def test_idp_leg_refusals(
    legs: Legs, http: requests.Session, extra: dict[str, Any], code: str, words: str
) -> None:
    r = request_jag(legs, http, **extra)
    assert (r.status_code, r.json()["error"]) == (400, code), r.text
    assert words in r.json()["error_description"], r.text


def test_id_token_of_another_client_is_refused(legs: Legs, http: requests.Session) -> None:
    r = request_jag(legs, http, subject_token=id_token(legs.idp, "other-app"))
    assert r.status_code == 400 and "not issued to this client" in r.json()["error_description"], r.text


def test_issuer_kinds_are_not_interchangeable(legs: Legs, http: requests.Session) -> None:
    """A workload issuer's JWT is no ID-JAG, and an enterprise IdP's ID-JAG no workload JWT."""
    jag = request_jag(legs, http).json()["access_token"]
    legs.resource_as.reconfigure(
        trusted_issuers=[
            {"issuer": legs.idp.issuer, "kind": "workload", "jwks": legs.idp.jwks(), "audiences": [MCP]}
        ]
    )
    r = redeem(legs, http, jag)
    assert r.status_code == 400 and "workload JWTs, not ID-JAGs" in r.json()["error_description"], r.text
