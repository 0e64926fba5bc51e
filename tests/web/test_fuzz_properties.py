"""Hypothesis properties: parsers and endpoints answer every input with success or a clean error."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fuzzing import ALLOWED_ERRORS, DESCRIPTION_CHARS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from userflow import tokens

from mockidp import ConfigError, IdPConfig, MockIdP
from mockidp.demo import demo_config
from mockidp.errors import OAuthError
from mockidp.params import decode

# Hypothesis runs with many examples each: CI runs them, the fast loop leaves them out
pytestmark = pytest.mark.slow

FAST = settings(max_examples=150, deadline=None)
HTTP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKEN_PARAMS = ["grant_type", "client_id", "client_secret", "scope", "resource", "audience", "code"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
REGISTRATION_KEYS = [
    "redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "scope",
    "jwks",
    "jwks_uri",
    "client_name",
    "application_type",
    "contacts",
    "post_logout_redirect_uris",
]
META_VALUES = st.one_of(
    JSON,
    st.sampled_from(["none", "client_secret_basic", "client_secret_post", "code", "web", "native"]),
    st.lists(
        st.sampled_from(
            [
                "authorization_code",
                "client_credentials",
                "refresh_token",
                "implicit",
                "code",
                "token",
                "https://app.example/cb",
                "http://127.0.0.1:9/cb",
                "http://evil.example/cb",
                "com.example.app:/cb",
            ]
        ),
        max_size=4,
    ),
)


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    with MockIdP(demo_config()) as server:
        yield server


def assert_oauth_error(r: requests.Response, statuses: tuple[int, ...] = (400, 401)) -> dict[str, Any]:
    assert r.status_code in statuses, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert body["error"] in ALLOWED_ERRORS
    assert isinstance(body.get("error_description", ""), str)
    assert DESCRIPTION_CHARS.fullmatch(body.get("error_description", "")), body
    assert r.headers["Cache-Control"] == "no-store"
    return body


def authorize_answer(
    session: requests.Session, idp: MockIdP, params: dict[str, str]
) -> dict[str, list[str]] | None:
    """Send an authorization request with fuzzed parameters and check the answer's form: a 400
    OAuth error (a NUL or a bad encoding, refused before the client is known; then None), else
    a redirect carrying a code or an allowed error with a clean description (its query)."""
    r = session.get(idp.url("authorize"), params=params, allow_redirects=False)
    if r.status_code == 400:
        assert_oauth_error(r, (400,))
        return None
    assert r.status_code == 302, r.text
    query = parse_qs(urlsplit(r.headers["Location"]).query)
    assert ("code" in query) != ("error" in query)
    if "error" in query:
        assert query["error"][0] in ALLOWED_ERRORS
        assert DESCRIPTION_CHARS.fullmatch(query["error_description"][0])
    return query


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_decode_never_crashes(raw: bytes | str) -> None:
    try:
        params = decode(raw)
    except OAuthError as exc:
        error = exc.error
        assert error == "invalid_request"
    else:
        for name, values in params.values.items():
            assert values and all(v and "\x00" not in v for v in values), name


@FAST
@given(st.dictionaries(st.sampled_from(["issuer", "login", "signing_alg", "access_token_ttl", "x"]), JSON))
def test_config_from_any_dict_is_a_model_or_a_config_error(data: dict[str, Any]) -> None:
    try:
        config = IdPConfig.from_dict(data)
    except ConfigError as exc:
        top = exc.key_path.split(".")[0].split("[")[0]
        assert top in data or not top
    else:
        assert IdPConfig.from_dict({k: v for k, v in data.items()}) == config


@HTTP
@given(
    st.lists(
        st.tuples(st.sampled_from(TOKEN_PARAMS), st.text(min_size=1, max_size=40)),
        max_size=8,
    ),
    st.booleans(),
)
def test_token_endpoint_answers_any_form(
    idp: MockIdP, session: requests.Session, pairs: list[tuple[str, str]], basic: bool
) -> None:
    auth = ("demo-agent", "demo-agent-secret") if basic else None
    r = session.post(idp.token_endpoint, data=pairs, auth=auth)
    if r.status_code == 200:
        body = r.json()
        assert body["token_type"] == "Bearer"
        assert dict(pairs).get("grant_type") == "client_credentials"
    else:
        assert_oauth_error(r)
    assert not idp.state.server_errors.errors


@HTTP
@given(st.text(max_size=60), st.text(max_size=60))
def test_any_basic_credentials_are_refused_cleanly(
    idp: MockIdP, session: requests.Session, client_id: str, secret: str
) -> None:
    header = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode("utf-8", "surrogatepass")).decode()
    r = session.post(
        idp.token_endpoint, data={"grant_type": "client_credentials"}, headers={"Authorization": header}
    )
    if (client_id, secret) == ("demo-agent", "demo-agent-secret"):
        assert r.status_code == 200
        return
    body = assert_oauth_error(r)
    if body["error"] == "invalid_client":
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Basic")


@HTTP
@given(st.dictionaries(st.sampled_from(REGISTRATION_KEYS), META_VALUES, max_size=6))
def test_registration_is_consistent(
    idp: MockIdP, session: requests.Session, metadata: dict[str, Any]
) -> None:
    r = session.post(
        idp.url("register"), data=json.dumps(metadata), headers={"Content-Type": "application/json"}
    )
    if r.status_code != 201:
        body = assert_oauth_error(r, (400,))
        assert body["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
        return
    body = r.json()
    client = idp.clients[body["client_id"]]
    public = body["token_endpoint_auth_method"] == "none"
    assert client.is_public == public == ("client_secret" not in body)
    assert public or body["client_secret_expires_at"] == 0
    assert ("authorization_code" in body["grant_types"]) == ("code" in body["response_types"])
    assert not (public and "client_credentials" in body["grant_types"])
    assert not ("jwks" in body and "jwks_uri" in body)
    for uri in body["redirect_uris"]:
        assert "#" not in uri and not uri.startswith("http://evil")
    assert list(client.redirect_uris) == body["redirect_uris"]


#: JSON numbers as text, so non-finite and out-of-float-range values reach the server as sent
CLOCK_NUMBERS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e308", "-1e308", "1e400", "-1e400", "1" + "0" * 400, "253402300800", "-1"]),
)


@HTTP
@given(
    st.dictionaries(st.sampled_from(["set", "advance"]), CLOCK_NUMBERS, min_size=1),
    st.sampled_from([None, "true", "false"]),
)
def test_clock_moves_are_applied_or_refused_and_tokens_keep_working(
    idp: MockIdP, session: requests.Session, moves: dict[str, str], freeze: str | None
) -> None:
    idp.reset()
    members = [f'"{key}": {value}' for key, value in moves.items()]
    if freeze is not None:
        members.append(f'"freeze": {freeze}')
    before = idp.clock.now()
    r = session.post(
        idp.url("_mockidp/clock"),
        data="{" + ", ".join(members) + "}",
        headers={"Content-Type": "application/json"},
    )
    if r.status_code == 400:
        assert assert_oauth_error(r, (400,))["key_path"] in moves
        assert idp.clock.frozen is False and abs(idp.clock.now() - before) < 5  # nothing moved
    else:
        assert r.status_code == 200, r.text
    # a clock set to the last second of 9999 and left running passes it by the test's own duration
    assert 0 <= idp.clock.now() <= 253_402_300_799 + 60
    token = session.post(
        idp.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=("demo-agent", "demo-agent-secret"),
    )
    assert token.status_code == 200, token.text
    assert not idp.state.server_errors.errors


PLAN_NAMES = st.sampled_from(
    ["roles", "groups", "tenant", "iss", "sub", "scope", "cnf", "act", ""]
) | st.text(max_size=12)
PLAN_VALUES = JSON | st.sampled_from(
    ["${client_id}", "${sub} in ${scope}", "${user.claims.x}", "${nope}", "$$"]
)


@HTTP
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"claims": st.dictionaries(PLAN_NAMES, PLAN_VALUES, max_size=3)},
            optional={"times": st.one_of(st.none(), st.integers(-2, 3), JSON), "client_id": JSON},
        ),
    )
)
def test_claims_plans_are_planned_or_refused_and_never_forge_registered_claims(
    idp: MockIdP, session: requests.Session, body: Any
) -> None:
    idp.reset()
    # json.dumps writes Infinity for inf: not JSON, which the control API must refuse cleanly
    raw = json.dumps(body)
    r = session.post(idp.url("_mockidp/token-claims"), data=raw, headers={"Content-Type": "application/json"})
    if r.status_code == 400:
        assert_oauth_error(r, (400,))
        assert idp.planned_claims == []  # all or nothing
    else:
        assert r.status_code == 201, r.text
    token = session.post(
        idp.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=("demo-agent", "demo-agent-secret"),
    )
    assert token.status_code == 200, token.text
    payload = token.json()["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["iss"], claims["sub"], claims["client_id"]) == (idp.issuer, "demo-agent", "demo-agent")
    assert "cnf" not in claims and "act" not in claims
    assert not idp.state.server_errors.errors


@pytest.fixture(scope="module")
def leveled() -> Iterator[MockIdP]:
    with MockIdP(demo_config(), acr_levels=["pwd", "mfa", "hwk"]) as server:
        yield server


@HTTP
@given(
    st.one_of(
        st.none(), st.text(max_size=40), st.sampled_from(["mfa", "hwk pwd", "urn:x mfa", " ", "mfa mfa"])
    ),
    st.one_of(
        st.none(),
        st.text(max_size=60),
        JSON.map(json.dumps),
        st.sampled_from(['{"id_token": {"acr": {"values": ["hwk"]}}}', '{"userinfo": {"email": null}}']),
    ),
)
def test_authorize_answers_any_acr_values_and_claims_parameter(
    leveled: MockIdP, session: requests.Session, acr_values: str | None, claims: str | None
) -> None:
    leveled.reset()
    params = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": "http://127.0.0.1/callback",
        "scope": "openid",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    for name, value in (("acr_values", acr_values), ("claims", claims)):
        if value is not None:
            params[name] = value
    query = authorize_answer(session, leveled, params)
    if query is None:
        return
    if "code" in query:
        code = query["code"][0]
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        body = session.post(
            leveled.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1/callback",
                "code_verifier": verifier,
                "client_id": "demo-app",
            },
        ).json()
        payload = body["id_token"].split(".")[1]
        id_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert id_claims["acr"] in ("pwd", "mfa", "hwk") and id_claims["amr"][-1] == id_claims["acr"]
    assert not leveled.state.server_errors.errors


def _user_tokens(idp: MockIdP) -> list[str]:
    alice = idp.issue_token(client_id="demo-app", subject="alice", scope="openid")
    machine = idp.issue_token(client_id="demo-agent")
    broken = [
        idp.issue_token(client_id="demo-app", subject="alice", scope="openid", defects=[d])
        for d in ("aud-wrong", "aud-missing", "iat-missing", "payload-utf16")
    ]
    return [alice, machine, *broken]


@HTTP
@given(st.data())
def test_userinfo_answers_any_bearer_with_200_401_or_403(
    idp: MockIdP, session: requests.Session, data: st.DataObject
) -> None:
    idp.reset()
    token = data.draw(
        st.sampled_from(_user_tokens(idp))
        | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=200)
    )
    r = session.get(idp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401, 403), r.text
    if r.status_code != 200:
        assert r.headers["WWW-Authenticate"].startswith('Bearer realm="mockidp"')
    assert not idp.state.server_errors.errors


@HTTP
@given(
    st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["id", "access"])),
    st.sampled_from([None, "none", "login", "select_account", "consent", "none login"]),
    st.sampled_from([None, "alice", "nobody"]),
)
def test_authorize_answers_any_id_token_hint_and_prompt(
    idp: MockIdP, session: requests.Session, hint: str | None, prompt: str | None, login_hint: str | None
) -> None:
    verifier_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    params = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": "http://127.0.0.1/callback",
        "scope": "openid",
        "code_challenge": verifier_challenge,
        "code_challenge_method": "S256",
    }
    if hint == "id":
        hint = tokens(idp, session)["id_token"]  # a valid hint, for alice
    elif hint == "access":
        hint = idp.issue_token(client_id="demo-app", subject="alice", scope="openid")  # not an ID token
    for name, value in (("id_token_hint", hint), ("prompt", prompt), ("login_hint", login_hint)):
        if value is not None:
            params[name] = value
    authorize_answer(session, idp, params)
    assert not idp.state.server_errors.errors
