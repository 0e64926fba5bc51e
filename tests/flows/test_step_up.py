"""Sign-in levels and step-up (RFC 9470): ``acr``/``amr``/``auth_time`` in tokens, ``acr_values``
at /authorize, and mock APIs that demand a stronger or fresher sign-in per route."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from userflow import APP, CALLBACK, claims_of, decide, pkce, tokens, transaction_of

from mockidp import MockIdP
from mockidp.resources import MockApis

LEVELS = ["pwd", "mfa", "hwk"]
step_up = pytest.mark.mockidp(acr_levels=LEVELS)


def parse_challenge(value: str) -> dict[str, str]:
    """``Bearer a="1", b="2"`` -> {a: 1, b: 2} (the mock APIs never put commas inside values)."""
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer"
    pairs = (part.strip().split("=", 1) for part in rest.split(","))
    return {k: v.strip('"') for k, v in pairs}


@pytest.fixture
def apis(mockidp: MockIdP) -> Iterator[MockApis]:
    with MockApis(mockidp, ["inventory"]) as running:
        yield running


@step_up
def test_levels_in_tokens_and_metadata(mockidp: MockIdP, http: requests.Session) -> None:
    meta = http.get(mockidp.metadata_url).json()
    assert meta["acr_values_supported"] == LEVELS
    assert {"acr", "amr", "auth_time"} <= set(meta["claims_supported"])
    mockidp.clock.freeze(1_700_000_000)
    body = tokens(mockidp, http, scope="openid demo-api:read")
    for token in (body["access_token"], body["id_token"]):
        claims = claims_of(token)
        assert (claims["acr"], claims["amr"], claims["auth_time"]) == ("pwd", ["pwd"], 1_700_000_000)
    stronger = tokens(mockidp, http, scope="openid offline_access demo-api:read", acr_values="urn:x hwk mfa")
    assert claims_of(stronger["access_token"])["acr"] == "hwk"
    assert claims_of(stronger["id_token"])["amr"] == ["pwd", "mfa", "hwk"]
    refreshed = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": stronger["refresh_token"], "client_id": APP},
    ).json()
    assert claims_of(refreshed["access_token"])["acr"] == "hwk"  # a refresh keeps the sign-in


@step_up
def test_claims_parameter_can_ask_for_acr(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(
        mockidp, http, scope="openid", claims='{"id_token": {"acr": {"essential": true, "values": ["mfa"]}}}'
    )
    assert claims_of(body["id_token"])["acr"] == "mfa"


def test_without_levels_no_acr(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http, scope="openid demo-api:read", acr_values="mfa")
    assert "acr" not in claims_of(body["id_token"]) and "amr" not in claims_of(body["access_token"])
    assert "auth_time" in claims_of(body["access_token"])


@pytest.mark.mockidp(acr_levels=LEVELS, login="form")
def test_form_login_offers_levels_and_step_up_needs_a_new_sign_in(
    mockidp: MockIdP, http: requests.Session
) -> None:
    def start(**extra: str) -> tuple[requests.Response, str]:
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": APP,
            "redirect_uri": CALLBACK,
            "scope": "openid demo-api:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        return http.get(mockidp.url("authorize"), params=params, allow_redirects=False), verifier

    def redeem(code: str, verifier: str) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
        r = http.post(mockidp.token_endpoint, data={**data, "code_verifier": verifier, "client_id": APP})
        return claims_of(r.json()["access_token"])

    page, verifier = start()
    assert 'name="acr" value="pwd" checked' in page.text and 'value="hwk"' in page.text
    r = http.post(
        mockidp.url("authorize/login"),
        data={
            "transaction": transaction_of(page.text),
            "username": "alice",
            "password": "alice-pw",
            "acr": "pwd",
        },
        allow_redirects=False,
    )
    consent = http.get(r.headers["Location"], allow_redirects=False)
    assert redeem(decide(mockidp, http, consent.text, "approve")["code"], verifier)["acr"] == "pwd"
    # the session is at pwd: a request for mfa shows the login page again, with mfa preselected
    page, verifier = start(acr_values="mfa")
    assert page.status_code == 200 and 'name="acr" value="mfa" checked' in page.text
    refused, _ = start(acr_values="mfa", prompt="none")
    assert "error=login_required" in refused.headers["Location"]
    r = http.post(
        mockidp.url("authorize/login"),
        data={"transaction": transaction_of(page.text), "user": "alice", "acr": "mfa"},
        allow_redirects=False,
    )
    consent = http.get(r.headers["Location"], allow_redirects=False)
    assert redeem(decide(mockidp, http, consent.text, "approve")["code"], verifier)["acr"] == "mfa"
    # now the mfa session serves a pwd request without a new sign-in
    quiet, _ = start(prompt="none")
    assert "code=" in quiet.headers["Location"]


@step_up
def test_mock_api_answers_rfc9470_challenges(
    mockidp: MockIdP, apis: MockApis, http: requests.Session
) -> None:
    inventory = apis["inventory"]
    inventory.require("/admin", acr="mfa")
    inventory.require("/fresh", max_age=60)
    mockidp.clock.freeze()
    scope = "openid inventory:read"
    weak = tokens(mockidp, http, scope=scope, resource=inventory.url)["access_token"]
    bearer = {"Authorization": f"Bearer {weak}"}
    assert http.get(inventory.url + "/items", headers=bearer).status_code == 200
    r = http.get(inventory.url + "/admin/users", headers=bearer)
    assert r.status_code == 401 and r.json() == {"error": "insufficient_user_authentication"}
    challenge = parse_challenge(r.headers["WWW-Authenticate"])
    assert challenge["error"] == "insufficient_user_authentication" and challenge["acr_values"] == "mfa"
    assert http.get(inventory.url + "/fresh", headers=bearer).status_code == 200
    mockidp.clock.advance(61)
    r = http.get(inventory.url + "/fresh", headers=bearer)
    assert r.status_code == 401 and parse_challenge(r.headers["WWW-Authenticate"])["max_age"] == "60"
    strong = tokens(mockidp, http, scope=scope, resource=inventory.url, acr_values="hwk")["access_token"]
    assert (
        http.get(inventory.url + "/admin", headers={"Authorization": f"Bearer {strong}"}).status_code == 200
    )
    assert [c.error for c in inventory.snapshot()][-1] is None


@pytest.mark.interop
@step_up
def test_step_up_round_trip_with_authlib(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    """The API asks for mfa (RFC 9470), the client re-authorizes with acr_values=mfa, the new token passes."""
    inventory = apis["inventory"]
    inventory.require("/admin", acr="mfa")
    meta = http.get(mockidp.metadata_url).json()
    client = OAuth2Session(
        client_id=APP,
        redirect_uri=CALLBACK,
        scope="openid inventory:read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    client.trust_env = False

    def sign_in(**extra: str) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(48)
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, resource=inventory.url, **extra
        )
        location = http.get(url, allow_redirects=False).headers["Location"]
        token: dict[str, Any] = client.fetch_token(
            meta["token_endpoint"],
            authorization_response=location,
            code_verifier=verifier,
            resource=inventory.url,
        )
        return token

    sign_in()
    r = client.get(inventory.url + "/admin")
    assert r.status_code == 401
    challenge = parse_challenge(r.headers["WWW-Authenticate"])
    assert challenge["error"] == "insufficient_user_authentication"
    assert challenge["acr_values"] in meta["acr_values_supported"]
    token = sign_in(acr_values=challenge["acr_values"])
    assert claims_of(token["id_token"])["acr"] == "mfa"
    r = client.get(inventory.url + "/admin")
    assert r.status_code == 200, r.text
    seen = inventory.snapshot()[-1].claims
    assert seen is not None and seen["acr"] == "mfa"


@pytest.mark.parametrize("enforcing", [True, False])
def test_check_api_step_up_defects_tell_enforcing_apis_apart(enforcing: bool) -> None:
    """check-api's machinery, run by name: the valid token carries the sign-in the API wants
    (``access_token_claims`` with ``${now}``), the defects weaken it."""
    from mockidp.conformance.check_api import ApiTarget, RunOptions, prepare, run_cases
    from mockidp.defects import CATALOG
    from mockidp.demo import demo_config

    with MockIdP(demo_config(), acr_levels=LEVELS) as idp, MockApis(idp, ["inventory"]) as hosted:
        api = hosted["inventory"]
        if enforcing:
            api.require(acr="mfa", max_age=300)
        idp.add_api(
            audience=api.url, scopes=api.scopes, access_token_claims={"acr": "mfa", "auth_time": "${now}"}
        )
        target = ApiTarget(url=api.url, audience=api.url, scope="inventory:read")
        prepare(idp, target)
        names = ("acr-too-weak", "auth-time-too-old")
        only_the_catalog = RunOptions(placement=False, expiry_wait=False)
        report = run_cases(idp, target, {n: CATALOG[n] for n in names}, options=only_the_catalog)
    results = {c.name: c.passed for c in report.cases}
    assert results == {"valid-token": True, "no-token": True, **dict.fromkeys(names, enforcing)}, report
