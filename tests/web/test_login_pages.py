"""login: form over plain HTTP: login page, consent, sessions, prompt, escaping."""

from __future__ import annotations

import pytest
import requests
from userflow import (
    APP,
    Authorized,
    authorize_params,
    decide,
    form_login,
    pkce,
    query_of,
    redeem,
    transaction_of,
)

from mockidp import MockIdP

pytestmark = pytest.mark.mockidp(login="form")


def test_login_page_is_accessible_html(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    r = http.get(mockidp.url("authorize"), params=authorize_params(challenge))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert '<html lang="en">' in r.text
    assert '<label for="username">' in r.text and '<label for="password">' in r.text
    assert "<h1" in r.text
    assert "<script" not in r.text
    assert "Alice Example" in r.text  # the one-click button


def test_password_login_consent_and_code(mockidp: MockIdP, http: requests.Session) -> None:
    consent, got = form_login(mockidp, http)
    assert "Authorize demo-app" in consent.text
    assert "demo-api:read" in consent.text and "Access to the API" in consent.text
    assert "Your email address" in consent.text
    query = decide(mockidp, http, consent.text, "approve")
    assert query["state"] == "st-123" and query["iss"] == mockidp.issuer
    r = redeem(mockidp, http, Authorized(query["code"], got.verifier, got.redirect_uri, query))
    assert r.status_code == 200, r.text


def test_deny_is_access_denied(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http)
    query = decide(mockidp, http, consent.text, "deny")
    assert query["error"] == "access_denied"
    assert query["state"] == "st-123"
    assert "code" not in query


def test_wrong_password_rerenders_with_an_accessible_error(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    page = http.get(mockidp.url("authorize"), params=authorize_params(challenge))
    txn = transaction_of(page.text)
    r = http.post(
        mockidp.url("authorize/login"),
        data={"transaction": txn, "username": "alice", "password": "nope"},
        allow_redirects=False,
    )
    assert r.status_code == 200
    assert 'role="alert"' in r.text and "Wrong username or password" in r.text
    assert 'aria-invalid="true"' in r.text
    assert transaction_of(r.text) == txn
    assert not r.cookies


def test_one_click_user_button(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    page = http.get(mockidp.url("authorize"), params=authorize_params(challenge))
    r = http.post(
        mockidp.url("authorize/login"),
        data={"transaction": transaction_of(page.text), "user": "alice"},
        allow_redirects=False,
    )
    assert r.status_code == 303
    assert "consent" in r.headers["Location"]


def test_unknown_transaction_gets_an_error_page(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.url("authorize/login"), data={"transaction": "txn_forged", "user": "alice"})
    assert r.status_code == 400
    assert "expired or is unknown" in r.text
    r = http.post(mockidp.url("authorize/consent"), data={"transaction": "txn_forged", "decision": "approve"})
    assert r.status_code == 400


def test_transaction_expires(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    _, challenge = pkce()
    page = http.get(mockidp.url("authorize"), params=authorize_params(challenge))
    mockidp.clock.advance(601)
    r = http.post(
        mockidp.url("authorize/login"), data={"transaction": transaction_of(page.text), "user": "alice"}
    )
    assert r.status_code == 400


def test_consent_page_needs_a_signed_in_transaction(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    page = http.get(mockidp.url("authorize"), params=authorize_params(challenge))
    r = http.get(mockidp.url("authorize/consent"), params={"transaction": transaction_of(page.text)})
    assert r.status_code == 400


def test_session_skips_login_and_remembered_consent_skips_consent(
    mockidp: MockIdP, http: requests.Session
) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    _, challenge = pkce()
    r = http.get(mockidp.url("authorize"), params=authorize_params(challenge), allow_redirects=False)
    assert r.status_code == 302
    assert "code" in query_of(r.headers["Location"])
    r = http.get(
        mockidp.url("authorize"), params=authorize_params(challenge, prompt="consent"), allow_redirects=False
    )
    assert r.status_code == 303 and "consent" in r.headers["Location"]
    r = http.get(
        mockidp.url("authorize"), params=authorize_params(challenge, prompt="login"), allow_redirects=False
    )
    assert r.status_code == 200 and "Sign in" in r.text


def test_prompt_select_account_shows_the_account_chooser(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    _, challenge = pkce()
    r = http.get(
        mockidp.url("authorize"),
        params=authorize_params(challenge, prompt="select_account"),
        allow_redirects=False,
    )
    assert r.status_code == 200
    assert "Sign in" in r.text and "Alice Example" in r.text  # one-click button per user


def test_prompt_none_without_session_is_login_required(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    r = http.get(
        mockidp.url("authorize"), params=authorize_params(challenge, prompt="none"), allow_redirects=False
    )
    query = query_of(r.headers["Location"])
    assert query["error"] == "login_required"
    assert query["iss"] == mockidp.issuer


def test_prompt_none_with_session_but_no_consent(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http, scope="openid")
    decide(mockidp, http, consent.text, "approve")
    _, challenge = pkce()
    params = authorize_params(challenge, prompt="none", scope="openid email")
    query = query_of(
        http.get(mockidp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
    )
    assert query["error"] == "consent_required"
    params = authorize_params(challenge, prompt="none", scope="openid")
    query = query_of(
        http.get(mockidp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
    )
    assert "code" in query


def test_configured_names_are_escaped(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(
        client_id="xss-app",
        client_name='<img src=x onerror="alert(1)">',
        redirect_uris=["http://127.0.0.1/callback"],
        scopes=["openid"],
    )
    mockidp.add_user(sub="mallory", password="pw", claims={"name": "<b>Mallory</b>"})
    _, challenge = pkce()
    r = http.get(
        mockidp.url("authorize"), params=authorize_params(challenge, client_id="xss-app", scope="openid")
    )
    assert "<img src=x" not in r.text and "&lt;img src=x" in r.text
    assert "<b>Mallory</b>" not in r.text and "&lt;b&gt;Mallory&lt;/b&gt;" in r.text


def test_username_echo_is_escaped(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    page = http.get(mockidp.url("authorize"), params=authorize_params(challenge))
    r = http.post(
        mockidp.url("authorize/login"),
        data={"transaction": transaction_of(page.text), "username": '"><script>x</script>', "password": "p"},
    )
    assert "<script>x" not in r.text
    assert "&quot;&gt;&lt;script&gt;" in r.text


def test_client_id_in_consent_is_the_requesting_client(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http)
    assert APP in consent.text


def test_max_age_forces_a_new_sign_in(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    consent, _ = form_login(mockidp, http, scope="openid")
    decide(mockidp, http, consent.text, "approve")
    mockidp.clock.advance(120)
    _, challenge = pkce()
    fresh = authorize_params(challenge, scope="openid", max_age="300", prompt="none")
    r = http.get(mockidp.url("authorize"), params=fresh, allow_redirects=False)
    assert "code" in query_of(r.headers["Location"])
    stale = authorize_params(challenge, scope="openid", max_age="60", prompt="none")
    r = http.get(mockidp.url("authorize"), params=stale, allow_redirects=False)
    assert query_of(r.headers["Location"])["error"] == "login_required"
    bad = authorize_params(challenge, scope="openid", max_age="-1")
    r = http.get(mockidp.url("authorize"), params=bad, allow_redirects=False)
    assert query_of(r.headers["Location"])["error"] == "invalid_request"


def test_consent_lists_every_requested_scope(mockidp: MockIdP, http: requests.Session) -> None:
    """A scope no target API defines (an API without a scope list, or no API at all) is still
    granted, so the person must see it before approving."""
    mockidp.add_api(audience="open-api")  # defines no scopes: any client scope goes
    mockidp.add_client(
        client_id="wide-app",
        redirect_uris=["http://127.0.0.1/callback"],
        scopes=["openid", "files:delete"],
        audiences=["open-api"],
    )
    consent, _ = form_login(mockidp, http, client_id="wide-app", scope="openid files:delete")
    assert "files:delete" in consent.text
    query = decide(mockidp, http, consent.text, "approve")
    assert "code" in query
