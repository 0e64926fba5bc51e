"""Authorization endpoint and the authorization_code grant (login: auto), over real HTTP."""

from __future__ import annotations

import pytest
import requests
from userflow import (
    APP,
    CALLBACK,
    authorize,
    authorize_params,
    claims_of,
    header_of,
    pkce,
    query_of,
    redeem,
    tokens,
)

from mockidp import MockIdP
from mockidp.flows.authorization_request import redirect_uri_matches
from mockidp.tokens import token_hash

CONFIDENTIAL = {
    "client_id": "web",
    "client_secret": "web-secret",
    "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": ["https://app.example/cb"],
    "scopes": ["openid", "demo-api:read"],
    "audiences": ["demo-api"],
}


def authorize_error(idp: MockIdP, http: requests.Session, **extra: str) -> dict[str, str]:
    _, challenge = pkce()
    r = http.get(idp.url("authorize"), params=authorize_params(challenge, **extra), allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(extra.get("redirect_uri") or CALLBACK)
    query = query_of(r.headers["Location"])
    assert "code" not in query
    assert query["iss"] == idp.issuer
    return query


def test_success_redirect_carries_code_state_and_iss(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http)
    assert set(got.params) == {"code", "state", "iss"}
    assert got.params["state"] == "st-123"
    assert got.params["iss"] == mockidp.issuer


def test_full_token_response(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http)
    r = redeem(mockidp, http, got)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "openid profile email offline_access demo-api:read"
    assert body["refresh_token"].startswith("rt_")
    access = claims_of(body["access_token"])
    assert header_of(body["access_token"])["typ"] == "at+jwt"
    assert access["sub"] == "alice"
    assert access["client_id"] == APP
    assert access["aud"] == ["demo-api", mockidp.issuer]  # the API, and userinfo (openid)
    id_claims = claims_of(body["id_token"])
    assert header_of(body["id_token"])["typ"] == "JWT"
    assert id_claims["iss"] == mockidp.issuer
    assert id_claims["aud"] == id_claims["azp"] == APP
    assert id_claims["sub"] == "alice"
    assert id_claims["nonce"] == "n-456"
    assert id_claims["at_hash"] == token_hash(body["access_token"], "RS256")
    assert id_claims["email"] == "alice@example.com"
    assert id_claims["name"] == "Alice Example"
    assert isinstance(id_claims["auth_time"], int)


def test_id_token_only_with_openid_and_claims_follow_scopes(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http, scope="demo-api:read", nonce="")
    assert "id_token" not in body
    assert "refresh_token" in body  # non-OIDC request: the client's refresh grant suffices
    body = tokens(mockidp, http, scope="openid")
    id_claims = claims_of(body["id_token"])
    assert "email" not in id_claims and "name" not in id_claims
    assert "refresh_token" not in body  # OIDC without offline_access


def test_nonce_is_optional_and_only_echoed(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http, nonce="")
    assert "nonce" not in claims_of(body["id_token"])


def test_login_hint_selects_user(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_user(sub="bob-1", username="bob", password="pw", claims={"name": "Bob"})
    body = tokens(mockidp, http, login_hint="bob")
    assert claims_of(body["id_token"])["sub"] == "bob-1"
    body = tokens(mockidp, http, login_hint="bob-1")
    assert claims_of(body["access_token"])["sub"] == "bob-1"
    query = authorize_error(mockidp, http, login_hint="nobody")
    assert query["error"] == "login_required"


def test_resource_is_bound_to_the_code(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_api(audience="other-api", scopes=["other:read"])
    body = tokens(mockidp, http, resource="demo-api")
    assert claims_of(body["access_token"])["aud"] == ["demo-api", mockidp.issuer]
    query = authorize_error(mockidp, http, resource="other-api")
    assert query["error"] == "invalid_target"


def test_loopback_redirect_may_vary_port_only() -> None:
    reg = "http://127.0.0.1/callback"
    assert redirect_uri_matches(reg, "http://127.0.0.1:5555/callback")
    assert redirect_uri_matches("http://[::1]/cb", "http://[::1]:80/cb")
    assert not redirect_uri_matches(reg, "http://127.0.0.1:5555/callback/x")
    assert not redirect_uri_matches(reg, "http://127.0.0.1:5555/callback?x=1")
    assert not redirect_uri_matches(reg, "https://127.0.0.1:5555/callback")
    assert not redirect_uri_matches(reg, "http://127.0.0.2:5555/callback")
    assert not redirect_uri_matches(reg, "http://127.0.0.1:99999/callback")
    assert not redirect_uri_matches(reg, "http://127.0.0.1.evil:5555/callback")
    assert not redirect_uri_matches("https://app.example/cb", "https://app.example:444/cb")
    assert not redirect_uri_matches("https://app.example/cb", "https://APP.example/cb")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8765/elsewhere",
        "https://evil.example/callback",
        "http://127.0.0.1:8765/callback#frag",
        "http://127.0.0.1:8765/callback?extra=1",
    ],
)
def test_unregistered_redirect_uri_gets_a_page_not_a_redirect(
    mockidp: MockIdP, http: requests.Session, redirect_uri: str
) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge, redirect_uri=redirect_uri)
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    assert "not a registered redirect URI" in r.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"client_id": "nobody"}, "no client is registered"),
        ({"client_id": ""}, "no client_id"),
    ],
)
def test_unknown_client_gets_a_page(
    mockidp: MockIdP, http: requests.Session, params: dict[str, str], message: str
) -> None:
    _, challenge = pkce()
    r = http.get(
        mockidp.url("authorize"), params=authorize_params(challenge, **params), allow_redirects=False
    )
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert message in r.text


def test_user_controlled_values_are_escaped_on_the_error_page(
    mockidp: MockIdP, http: requests.Session
) -> None:
    r = http.get(mockidp.url("authorize"), params={"client_id": "<script>alert(1)</script>"})
    assert r.status_code == 400
    assert "<script>alert(1)" not in r.text
    assert "&lt;script&gt;" in r.text


def test_repeated_client_id_or_redirect_uri_gets_a_page(mockidp: MockIdP, http: requests.Session) -> None:
    url = mockidp.url("authorize") + f"?client_id={APP}&client_id={APP}&response_type=code"
    r = http.get(url, allow_redirects=False)
    assert r.status_code == 400 and "repeated" in r.text


def test_redirect_uri_may_be_omitted_only_with_one_registered(
    mockidp: MockIdP, http: requests.Session
) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge, redirect_uri="", scope="demo-api:read")
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 400  # demo-app registers two
    mockidp.add_client(**{**CONFIDENTIAL, "client_id": "single"})
    params = authorize_params(challenge, redirect_uri="", scope="demo-api:read", client_id="single")
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("https://app.example/cb?code=")


@pytest.mark.parametrize(
    ("extra", "error", "fragment"),
    [
        ({"response_type": "token"}, "unsupported_response_type", "'code'"),
        ({"response_type": "code id_token"}, "unsupported_response_type", "'code'"),
        ({"response_type": ""}, "invalid_request", "response_type"),
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request", "PKCE is required"),
        ({"code_challenge_method": "plain"}, "invalid_request", "'plain' is not allowed"),
        ({"code_challenge_method": ""}, "invalid_request", "'plain' is not allowed"),
        ({"code_challenge_method": "S512"}, "invalid_request", "not supported"),
        ({"code_challenge": "short"}, "invalid_request", "malformed"),
        ({"code_challenge": ""}, "invalid_request", "without code_challenge"),
        ({"scope": "openid admin"}, "invalid_scope", "admin"),
        ({"scope": "demo-api:write"}, "invalid_scope", "demo-api:write"),
        ({"resource": "https://nowhere.example"}, "invalid_target", "not a registered API"),
        ({"response_mode": "fragment"}, "invalid_request", "response_mode"),
        ({"prompt": "none login"}, "invalid_request", "prompt=none"),
        ({"prompt": "sometimes"}, "invalid_request", "prompt"),
        ({"request": "eyJ..."}, "request_not_supported", "request"),
        ({"request_uri": "urn:x"}, "request_uri_not_supported", "request_uri"),
    ],
)
def test_refusals_redirect_with_error_state_and_iss(
    mockidp: MockIdP, http: requests.Session, extra: dict[str, str], error: str, fragment: str
) -> None:
    query = authorize_error(mockidp, http, **extra)
    assert query["error"] == error
    assert fragment in query["error_description"]
    assert query["state"] == "st-123"


def test_repeated_parameter_is_invalid_request(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    params = [*list(authorize_params(challenge).items()), ("scope", "openid")]
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    query = query_of(r.headers["Location"])
    assert query["error"] == "invalid_request"
    assert "repeated" in query["error_description"]


def test_client_without_code_grant_is_unauthorized(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(**{**CONFIDENTIAL, "client_id": "m2m", "grant_types": ["client_credentials"]})
    query = authorize_error(
        mockidp, http, client_id="m2m", redirect_uri="https://app.example/cb", scope="demo-api:read"
    )
    assert query["error"] == "unauthorized_client"


def test_plain_pkce_and_no_pkce_are_per_client_opt_outs(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(**{**CONFIDENTIAL, "client_id": "legacy", "allow_plain_pkce": True})
    verifier = "v" * 50
    params = authorize_params(
        verifier,
        client_id="legacy",
        redirect_uri="https://app.example/cb",
        code_challenge_method="plain",
        scope="openid demo-api:read",  # what the client lists
    )
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    code = query_of(r.headers["Location"])["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example/cb"}
    r = http.post(
        mockidp.token_endpoint, data={**data, "code_verifier": verifier}, auth=("legacy", "web-secret")
    )
    assert r.status_code == 200, r.text
    mockidp.add_client(**{**CONFIDENTIAL, "client_id": "nopkce", "require_pkce": False})
    params = authorize_params(
        "", client_id="nopkce", redirect_uri="https://app.example/cb", scope="openid demo-api:read"
    )
    params.pop("code_challenge_method")
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    code = query_of(r.headers["Location"])["code"]
    r = http.post(mockidp.token_endpoint, data={**data, "code": code}, auth=("nopkce", "web-secret"))
    assert r.status_code == 200, r.text


def test_authorize_accepts_post_form(mockidp: MockIdP, http: requests.Session) -> None:
    _verifier, challenge = pkce()
    r = http.post(mockidp.url("authorize"), data=authorize_params(challenge), allow_redirects=False)
    assert r.status_code == 302
    assert "code" in query_of(r.headers["Location"])


def test_misbehaviour_switch_tampers_the_response(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.state.misbehaviour.set(authorization_iss="missing")
    got = authorize(mockidp, http)
    assert "iss" not in got.params
