"""Token exchange (RFC 8693) over real loopback HTTP: the issued token, each RFC error, scope
narrowing, ``may_act``, ``act`` nesting and its maximum depth, and the client's exchange policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from userflow import claims_of

from mockidp import MockIdP, WorkloadIssuer
from mockidp.issuance import issue_id_token

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
IDT = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
FRONT, BACK, ELSEWHERE = "https://front.example", "https://back.example", "https://elsewhere.example"
GATEWAY = ("gateway", "gateway-secret")
PARTNER = WorkloadIssuer("https://partner-idp.example")


def config(max_act_depth: int = 2) -> dict[str, Any]:
    return {
        "apis": [
            {"audience": FRONT, "scopes": ["front:read"]},
            {"audience": BACK, "scopes": ["back:read", "back:write"]},
            {"audience": ELSEWHERE, "scopes": ["else:read"]},
        ],
        "users": [{"sub": "alice"}, {"sub": "bob"}],
        "clients": [
            {
                "client_id": "app",
                "client_secret": "app-secret",
                "grant_types": ["client_credentials"],
                "audiences": [FRONT, BACK],
                "scopes": ["openid", "front:read", "back:read", "back:write"],
            },
            {
                "client_id": GATEWAY[0],
                "client_secret": GATEWAY[1],
                "grant_types": [EXCHANGE, "client_credentials"],
                "audiences": [FRONT],
                "exchange": {"audiences": [BACK], "scopes": ["back:read"], "max_act_depth": max_act_depth},
            },
            {
                "client_id": "second-hop",
                "client_secret": "second-secret",
                "grant_types": [EXCHANGE],
                "exchange": {"audiences": [BACK], "scopes": ["back:read"], "max_act_depth": 3},
            },
            {"client_id": "plain", "client_secret": "plain-secret", "audiences": [FRONT]},
        ],
        "trusted_issuers": [PARTNER.trusted_issuer(audiences=[BACK], scopes=["back:read"])],
    }


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP(config()) as server:
        yield server


def user_token(idp: MockIdP, scope: str = "front:read back:read", **claims: Any) -> str:
    return idp.issue_token(
        client_id="app", subject="alice", audience=[FRONT, BACK], scope=scope, claims=claims or None
    )


def exchange(
    idp: MockIdP, http: requests.Session, auth: tuple[str, str] = GATEWAY, **params: str
) -> requests.Response:
    return http.post(idp.token_endpoint, data={"grant_type": EXCHANGE, **params}, auth=auth)


def error(r: requests.Response, code: str, words: str = "") -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == code, r.text
    assert words in r.json()["error_description"], r.text


def test_user_token_for_another_resource_with_the_client_as_actor(
    idp: MockIdP, http: requests.Session
) -> None:
    r = exchange(idp, http, subject_token=user_token(idp), subject_token_type=AT, resource=BACK)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["issued_token_type"] == AT and body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    claims = claims_of(body["access_token"])
    assert (claims["sub"], claims["aud"], claims["scope"]) == ("alice", BACK, "back:read")
    assert claims["act"] == {"sub": "gateway", "client_id": "gateway"}
    assert claims["client_id"] == "gateway"


def test_actor_token_names_the_actor(idp: MockIdP, http: requests.Session) -> None:
    agent = http.post(idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=GATEWAY).json()
    r = exchange(
        idp,
        http,
        subject_token=user_token(idp),
        subject_token_type=AT,
        actor_token=agent["access_token"],
        actor_token_type=AT,
        audience=BACK,
    )
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["act"] == {"sub": "gateway", "client_id": "gateway"}


def test_chain_nests_and_respects_max_depth(idp: MockIdP, http: requests.Session) -> None:
    first = exchange(idp, http, subject_token=user_token(idp), subject_token_type=AT, resource=BACK).json()
    second = exchange(
        idp, http, ("second-hop", "second-secret"), subject_token=first["access_token"], subject_token_type=AT
    )
    assert second.status_code == 200, second.text
    act = claims_of(second.json()["access_token"])["act"]
    assert act == {
        "sub": "second-hop",
        "client_id": "second-hop",
        "act": {"sub": "gateway", "client_id": "gateway"},
    }
    # the gateway allows two actors: a third one is refused
    third = exchange(idp, http, subject_token=second.json()["access_token"], subject_token_type=AT)
    error(third, "invalid_request", "would hold 3 actors")


def test_max_depth_one_refuses_any_earlier_delegation(http: requests.Session) -> None:
    with MockIdP(config(max_act_depth=1)) as idp:
        delegated = user_token(idp, act={"sub": "someone-else"})
        error(
            exchange(idp, http, subject_token=delegated, subject_token_type=AT), "invalid_request", "2 actors"
        )


def test_may_act_is_honoured(idp: MockIdP, http: requests.Session) -> None:
    allowed = user_token(idp, may_act={"sub": "gateway"})
    assert exchange(idp, http, subject_token=allowed, subject_token_type=AT).status_code == 200
    other = user_token(idp, may_act={"sub": "some-other-agent"})
    error(exchange(idp, http, subject_token=other, subject_token_type=AT), "invalid_request", "may_act")
    malformed = user_token(idp, may_act="gateway")
    error(exchange(idp, http, subject_token=malformed, subject_token_type=AT), "invalid_request", "may_act")


def test_scopes_only_narrow(idp: MockIdP, http: requests.Session) -> None:
    subject = user_token(idp, scope="front:read")  # no back:read in the subject token
    error(
        exchange(idp, http, subject_token=subject, subject_token_type=AT, scope="back:read"),
        "invalid_scope",
        "scopes only narrow",
    )
    r = exchange(idp, http, subject_token=subject, subject_token_type=AT)
    assert r.status_code == 200 and r.json()["scope"] == "", r.text  # nothing to carry over
    wide = user_token(idp, scope="front:read back:read back:write")
    error(
        exchange(idp, http, subject_token=wide, subject_token_type=AT, scope="back:write"),
        "invalid_scope",
        "back:write",  # in the subject token, but not in the gateway's exchange policy
    )


def test_exchange_policy_limits_the_target(idp: MockIdP, http: requests.Session) -> None:
    subject = user_token(idp)
    error(exchange(idp, http, subject_token=subject, subject_token_type=AT, resource=FRONT), "invalid_target")
    error(
        exchange(idp, http, subject_token=subject, subject_token_type=AT, resource=ELSEWHERE),
        "invalid_target",
    )
    error(
        exchange(idp, http, subject_token=subject, subject_token_type=AT, resource="https://nowhere.example"),
        "invalid_target",
        "not a registered API",
    )
    r = exchange(idp, http, ("plain", "plain-secret"), subject_token=subject, subject_token_type=AT)
    assert (r.status_code, r.json()["error"]) == (400, "unauthorized_client")


def test_id_token_subject(idp: MockIdP, http: requests.Session) -> None:
    id_token = issue_id_token(
        idp.state,
        client_id="gateway",
        user=idp.users["alice"],
        nonce=None,
        auth_time=idp.clock.now(),
        access_token=None,
        scopes=["openid"],
    )
    r = exchange(idp, http, subject_token=id_token, subject_token_type=IDT, resource=BACK)
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["sub"] == "alice"
    error(exchange(idp, http, subject_token=id_token, subject_token_type=AT), "invalid_request", "typ")
    # an ID token is for the client it was issued to: another client cannot exchange it
    error(
        exchange(idp, http, ("second-hop", "second-secret"), subject_token=id_token, subject_token_type=IDT),
        "invalid_request",
        "not issued to this client",
    )


def test_trusted_issuer_subject_token(idp: MockIdP, http: requests.Session) -> None:
    partner_token = PARTNER.mint("carol@partner", audience=idp.issuer)
    r = exchange(idp, http, subject_token=partner_token, subject_token_type=JWT, resource=BACK)
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["sub"] == "carol@partner"
    stranger = WorkloadIssuer("https://stranger.example").mint("x", audience=idp.issuer)
    error(
        exchange(idp, http, subject_token=stranger, subject_token_type=JWT),
        "invalid_request",
        "not a trusted",
    )
    not_for_us = PARTNER.mint("carol@partner", audience="https://someone-else.example")
    error(exchange(idp, http, subject_token=not_for_us, subject_token_type=JWT), "invalid_request", "aud")


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({}, "invalid_request", "subject_token"),
        ({"subject_token": "x"}, "invalid_request", "subject_token_type"),
        (
            {"subject_token": "x", "subject_token_type": "urn:example:saml"},
            "invalid_request",
            "not supported",
        ),
        ({"subject_token": "x", "subject_token_type": AT}, "invalid_request", "subject_token refused"),
        ({"actor_token_type": AT}, "invalid_request", "actor_token_type is sent without actor_token"),
        ({"actor_token": "x"}, "invalid_request", "actor_token_type"),
        ({"requested_token_type": "urn:ietf:params:oauth:token-type:saml2"}, "invalid_request", "not issued"),
        ({"resource": "https://back.example#frag"}, "invalid_target", "fragment"),
    ],
)
def test_rfc_errors(
    idp: MockIdP, http: requests.Session, params: dict[str, str], code: str, words: str
) -> None:
    if "subject_token" not in params and params:
        params = {"subject_token": user_token(idp), "subject_token_type": AT, **params}
    error(exchange(idp, http, GATEWAY, **params), code, words)


def test_revoked_or_expired_subject_refused(idp: MockIdP, http: requests.Session) -> None:
    revoked = user_token(idp)
    assert (
        http.post(idp.url("revoke"), data={"token": revoked}, auth=("app", "app-secret")).status_code == 200
    )
    error(exchange(idp, http, subject_token=revoked, subject_token_type=AT), "invalid_request", "revoked")
    old = user_token(idp)
    idp.clock.advance(3600)
    error(exchange(idp, http, subject_token=old, subject_token_type=AT), "invalid_request", "expired")


def test_advertised_only_when_a_client_may_use_it(idp: MockIdP, http: requests.Session) -> None:
    doc = http.get(idp.metadata_url).json()
    assert EXCHANGE in doc["grant_types_supported"]
    assert doc["identity_chaining_requested_token_types_supported"] == [
        "urn:ietf:params:oauth:token-type:id-jag"
    ]
    with MockIdP() as plain:
        doc = http.get(plain.metadata_url).json()
        assert EXCHANGE not in doc["grant_types_supported"]
        assert "identity_chaining_requested_token_types_supported" not in doc
