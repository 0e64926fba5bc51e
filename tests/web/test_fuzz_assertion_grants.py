"""Hypothesis over the parameters of the assertion grants (jwt-bearer, token exchange, ID-JAG):
any mix of real tokens, tampered tokens and junk gets a 200 whose token keeps the rules, or a
clean OAuth error; never a 5xx, a stack trace or a server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fuzzing import ALLOWED_ERRORS, DESCRIPTION_CHARS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from userflow import claims_of

from mockidp import MockIdP, WorkloadIssuer
from mockidp.issuance import issue_id_token

# Hypothesis runs with many examples each: CI runs them, the fast loop leaves them out
pytestmark = pytest.mark.slow

HTTP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
TYPES = [
    "urn:ietf:params:oauth:token-type:access_token",
    "urn:ietf:params:oauth:token-type:id_token",
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id-jag",
    "urn:ietf:params:oauth:token-type:refresh_token",
    "access_token",
]
API = "https://api.example"
CI = WorkloadIssuer("https://ci.example")
PARAMS = [
    "grant_type",
    "assertion",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "resource",
    "audience",
    "scope",
    "client_id",
]
#: filled by the fixture: real tokens of this IdP and of the trusted issuer, and broken copies
TOKENS: list[str] = []
REDEEMED: set[str] = set()
OK: list[str] = []


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    config: dict[str, Any] = {
        "apis": [{"audience": API, "scopes": ["read", "write"]}],
        "users": [{"sub": "alice"}],
        "clients": [
            {
                "client_id": "agent",
                "client_secret": "agent-secret",
                "grant_types": [JWT_BEARER, EXCHANGE, "client_credentials"],
                "audiences": [API],
                "scopes": ["read", "write"],
                "exchange": {
                    "audiences": [API, "https://as.example"],
                    "scopes": ["read"],
                    "max_act_depth": 2,
                },
            }
        ],
        "trusted_issuers": [CI.trusted_issuer(audiences=[API], scopes=["read"])],
    }
    with MockIdP(config) as server:
        user = server.issue_token(client_id="agent", subject="alice", audience=API, scope="read write")
        machine = server.issue_token(client_id="agent", audience=API, scope="read")
        delegated = server.issue_token(
            client_id="agent", subject="alice", audience=API, scope="read", claims={"act": {"sub": "x"}}
        )
        id_token = issue_id_token(
            server.state,
            client_id="agent",
            user=server.users["alice"],
            nonce=None,
            auth_time=server.clock.now(),
            access_token=None,
            scopes=["openid"],
        )
        workload = [CI.mint(f"wl-{i}", audience=server.issuer) for i in range(30)]
        real = [user, machine, delegated, id_token, *workload]
        TOKENS[:] = [*real, *(t[:-3] + "AAA" for t in real[:4]), *(t + "." for t in real[:2]), "a.b.c", "x"]
        yield server


VALUES = st.one_of(
    st.sampled_from(
        [JWT_BEARER, EXCHANGE, *TYPES, API, "https://as.example", "read", "write", "read openid"]
    ),
    st.integers(0, 10_000).map(lambda i: TOKENS[i % len(TOKENS)] if TOKENS else "x"),
    st.text(min_size=1, max_size=40),
)


TOKEN_VALUES = st.integers(0, 10_000).map(lambda i: TOKENS[i % len(TOKENS)] if TOKENS else "x")
#: token-exchange forms shaped like real ones (a subject token and its type), with random extras
EXCHANGE_FORMS = st.tuples(
    st.just([("grant_type", EXCHANGE)]),
    st.tuples(st.just("subject_token"), TOKEN_VALUES).map(lambda p: [p]),
    st.tuples(st.just("subject_token_type"), st.sampled_from(TYPES[:3])).map(lambda p: [p]),
    st.lists(st.tuples(st.sampled_from(PARAMS[4:]), VALUES), max_size=4),
).map(lambda parts: [pair for part in parts for pair in part])


#: jwt-bearer forms with a token as the assertion, with random extras
BEARER_FORMS = st.tuples(
    st.just([("grant_type", JWT_BEARER)]),
    st.tuples(st.just("assertion"), TOKEN_VALUES).map(lambda p: [p]),
    st.lists(st.tuples(st.sampled_from(PARAMS[6:]), VALUES), max_size=3),
).map(lambda parts: [pair for part in parts for pair in part])


@HTTP
@given(
    st.sampled_from([JWT_BEARER, EXCHANGE]).flatmap(
        lambda g: st.lists(st.tuples(st.sampled_from(PARAMS), VALUES), max_size=8).map(
            lambda pairs: [("grant_type", g), *[(k, v) for k, v in pairs if k != "grant_type"]]
        )
    )
    | EXCHANGE_FORMS
    | BEARER_FORMS
)
def test_assertion_grants_answer_any_form(
    idp: MockIdP, session: requests.Session, data: list[tuple[str, str]]
) -> None:
    grant = data[0][1]
    r = session.post(idp.token_endpoint, data=data, auth=("agent", "agent-secret"))
    assert r.headers["Cache-Control"] == "no-store"
    if r.status_code == 200:
        body = r.json()
        sent = dict(data)
        if body["token_type"] == "N_A":  # an ID-JAG for the one audience the policy names
            assert sent["requested_token_type"] == TYPES[3]
            assert claims_of(body["access_token"])["aud"] == "https://as.example"
        else:
            claims = claims_of(body["access_token"])
            assert claims["aud"] == API and set(claims["scope"].split()) <= {"read"}
            if grant == EXCHANGE:  # the user, the machine or a partner's workload; the agent acts
                assert claims["act"]["sub"] == "agent"
                assert claims["sub"] in ("alice", "agent") or claims["sub"].startswith("wl-")
            else:  # a workload JWT, each redeemed at most once
                assert claims["sub"].startswith("wl-") and claims["sub"] not in REDEEMED
                REDEEMED.add(claims["sub"])
        OK.append(grant)
    else:
        assert r.status_code in (400, 401), (r.status_code, r.text)
        body = r.json()
        assert body["error"] in ALLOWED_ERRORS
        assert DESCRIPTION_CHARS.fullmatch(body.get("error_description", "")), body
    assert not idp.state.server_errors.errors


def test_the_fuzzer_reached_success_too() -> None:
    """Run after the property (file order): random forms did get tokens, not only errors."""
    if OK:  # not when the property test was deselected
        assert set(OK) == {JWT_BEARER, EXCHANGE}, OK
