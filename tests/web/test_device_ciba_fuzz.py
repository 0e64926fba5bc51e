"""Hypothesis over the device flow and CIBA endpoints: every input gets tokens or a clean
RFC 6749 error (never a 5xx), and valid ``authorization_details`` come back unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fuzzing import Answer, Target, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockidp import MockIdP

# Hypothesis runs with many examples each: CI runs them, the fast loop leaves them out
pytestmark = pytest.mark.slow

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
CIBA = "urn:openid:params:grant-type:ciba"
HTTP = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CONFIG: dict[str, Any] = {
    "users": [{"sub": "alice", "password": "pw"}],
    "clients": [
        {"client_id": "tv", "grant_types": [DEVICE]},
        {"client_id": "agent", "client_secret": "s", "grant_types": [CIBA]},
    ],
    "device": {"interval": 1},
    "ciba": {"interval": 1},
}
PARAMS = [
    "client_id",
    "scope",
    "resource",
    "login_hint",
    "id_token_hint",
    "login_hint_token",
    "binding_message",
    "authorization_details",
    "requested_expiry",
    "acr_values",
    "user_code",
    "request",
    "device_code",
    "auth_req_id",
    "grant_type",
]
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["tv", "agent", "openid", "alice", "nobody", DEVICE, CIBA, "0", "-1", "86401", "[]", "[{}]"]
    ),
    st.sampled_from(
        ['[{"type": "x"}]', '[{"type": "x", "actions": [1]}]', '{"type": "x"}', "[" * 2000, "NaN"]
    ),
)
FORMS = st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=7)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
DETAILS = st.lists(
    st.fixed_dictionaries(
        {"type": st.text(min_size=1, max_size=20)},
        optional={"actions": st.lists(st.text(max_size=10), max_size=3)},
    ).flatmap(
        lambda base: st.dictionaries(
            st.text(max_size=8).filter(
                lambda k: k not in ("type", "actions", "locations", "datatypes", "identifier", "privileges")
            ),
            JSON,
            max_size=3,
        ).map(lambda extra: {**extra, **base})
    ),
    min_size=1,
    max_size=3,
)


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    with MockIdP(CONFIG) as server:
        yield server


def answer(r: requests.Response) -> Answer:
    return Answer(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)


@HTTP
@given(form=FORMS, basic=st.booleans())
def test_device_authorization_answers_cleanly(idp: MockIdP, form: dict[str, str], basic: bool) -> None:
    r = requests.post(idp.url("device_authorization"), data=form, auth=("agent", "s") if basic else None)
    assert not problems(Target("device_authorization", "POST", "/device_authorization"), answer(r)), r.text
    if r.status_code == 200:
        assert {"device_code", "user_code", "verification_uri", "expires_in", "interval"} <= set(r.json())


@HTTP
@given(form=FORMS)
def test_backchannel_authentication_answers_cleanly(idp: MockIdP, form: dict[str, str]) -> None:
    r = requests.post(idp.url("bc-authorize"), data=form, auth=("agent", "s"))
    assert not problems(Target("bc_authorize", "POST", "/bc-authorize"), answer(r)), r.text
    if r.status_code == 200:
        assert set(r.json()) == {"auth_req_id", "expires_in", "interval"}


@HTTP
@given(form=FORMS, grant=st.sampled_from([DEVICE, CIBA]))
def test_polling_answers_cleanly(idp: MockIdP, form: dict[str, str], grant: str) -> None:
    r = requests.post(idp.token_endpoint, data={**form, "grant_type": grant}, auth=("agent", "s"))
    assert not problems(Target("token", "POST", "/token"), answer(r)), r.text


@HTTP
@given(code=st.text(max_size=40), method=st.sampled_from(["GET", "POST"]))
def test_verification_page_answers_cleanly(idp: MockIdP, code: str, method: str) -> None:
    with requests.Session() as browser:
        browser.get(idp.url("device"))
        if method == "GET":
            r = browser.get(idp.url("device"), params={"user_code": code})
        else:
            r = browser.post(idp.url("device"), data={"user_code": code}, allow_redirects=False)
    assert r.status_code in (200, 303, 400), r.text  # 400: a NUL in the form, refused by the parser
    assert not problems(Target("device", method, "/device"), answer(r))


@HTTP
@given(details=DETAILS)
def test_valid_authorization_details_come_back_unchanged(idp: MockIdP, details: list[dict[str, Any]]) -> None:
    sent = json.dumps(details)
    started = requests.post(
        idp.url("bc-authorize"),
        data={"scope": "openid", "login_hint": "alice", "authorization_details": sent},
        auth=("agent", "s"),
    )
    if len(sent) > 8 * 1024:
        assert started.json()["error"] == "invalid_authorization_details"
        return
    assert started.status_code == 200, started.text
    tokens = requests.post(
        idp.token_endpoint,
        data={"grant_type": CIBA, "auth_req_id": started.json()["auth_req_id"]},
        auth=("agent", "s"),
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["authorization_details"] == details
