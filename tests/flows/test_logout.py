"""RP-initiated logout: id_token_hint, exact post_logout_redirect_uri, state, session end."""

from __future__ import annotations

import re

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
    tokens,
)

from mockidp import MockIdP
from mockidp.demo import DEMO_PATH

LOGGED_OUT = "http://127.0.0.1/logged-out"


def end_session(idp: MockIdP, http: requests.Session, **params: str) -> requests.Response:
    return http.get(idp.url("end_session"), params=params, allow_redirects=False)


def test_redirects_to_registered_uri_with_state(mockidp: MockIdP, http: requests.Session) -> None:
    id_token = tokens(mockidp, http)["id_token"]
    r = end_session(mockidp, http, id_token_hint=id_token, post_logout_redirect_uri=LOGGED_OUT, state="bye")
    assert r.status_code == 302
    assert r.headers["Location"] == f"{LOGGED_OUT}?state=bye"


def test_client_id_identifies_the_client_without_hint(mockidp: MockIdP, http: requests.Session) -> None:
    r = end_session(mockidp, http, client_id=APP, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 302 and r.headers["Location"] == LOGGED_OUT


def test_expired_hint_is_fine(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    id_token = tokens(mockidp, http)["id_token"]
    mockidp.clock.advance(3600)
    r = end_session(mockidp, http, id_token_hint=id_token, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 302


def test_without_redirect_shows_signed_out_page(mockidp: MockIdP, http: requests.Session) -> None:
    r = end_session(mockidp, http)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "You are signed out" in r.text


def test_post_form_works(mockidp: MockIdP, http: requests.Session) -> None:
    id_token = tokens(mockidp, http)["id_token"]
    r = http.post(
        mockidp.url("end_session"),
        data={"id_token_hint": id_token, "post_logout_redirect_uri": LOGGED_OUT},
        allow_redirects=False,
    )
    assert r.status_code == 302


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"post_logout_redirect_uri": "http://127.0.0.1/logged-out/x"}, "not a registered"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:9999/logged-out"}, "not a registered"),
        ({"post_logout_redirect_uri": "https://evil.example/"}, "not a registered"),
        ({"client_id": "someone-else"}, "not an audience"),
        ({"id_token_hint": "garbage"}, "not an ID token issued by this provider"),
    ],
)
def test_refusals_show_a_page_never_redirect(
    mockidp: MockIdP, http: requests.Session, params: dict[str, str], message: str
) -> None:
    id_token = tokens(mockidp, http)["id_token"]
    r = end_session(mockidp, http, **{"id_token_hint": id_token, **params})
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert message in r.text


def test_redirect_needs_a_client(mockidp: MockIdP, http: requests.Session) -> None:
    r = end_session(mockidp, http, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 400


def test_hint_from_another_idp_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    with MockIdP(DEMO_PATH) as other:
        foreign = tokens(other, http)["id_token"]
    r = end_session(mockidp, http, id_token_hint=foreign, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 400


def test_access_token_is_not_an_id_token_hint(mockidp: MockIdP, http: requests.Session) -> None:
    access = tokens(mockidp, http)["access_token"]
    assert end_session(mockidp, http, id_token_hint=access).status_code == 400


CONFIRMATION = re.compile(r'name="confirmation" value="([^"]+)"')


def signed_in(idp: MockIdP, http: requests.Session, **extra: str) -> bool:
    """Whether this browser's session still answers ``prompt=none`` with a code."""
    _, challenge = pkce()
    params = authorize_params(challenge, prompt="none", scope="openid", **extra)
    r = http.get(idp.url("authorize"), params=params, allow_redirects=False)
    return "code" in query_of(r.headers["Location"])


def sign_in_with_id_token(idp: MockIdP, http: requests.Session, username: str = "alice") -> str:
    """login: form in this browser, approve, redeem: the ID token the app would hold."""
    consent, got = form_login(idp, http, username=username, password=f"{username}-pw", scope="openid")
    query = decide(idp, http, consent.text, "approve")
    r = redeem(idp, http, Authorized(query["code"], got.verifier, got.redirect_uri, query))
    assert r.status_code == 200, r.text
    token: str = r.json()["id_token"]
    return token


def confirm(idp: MockIdP, http: requests.Session, page: str, **override: str) -> requests.Response:
    """Submit the confirmation page's form as the browser would (hidden fields and all)."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    fields.update(override)
    return http.post(idp.url("end_session/confirm"), data=fields, allow_redirects=False)


@pytest.mark.mockidp(login="form")
def test_logout_ends_the_login_session(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    assert signed_in(mockidp, http)
    kept = dict(http.cookies)
    page = end_session(mockidp, http, client_id=APP, post_logout_redirect_uri=LOGGED_OUT, state="bye")
    assert page.status_code == 200 and "Sign out?" in page.text  # no hint: the person confirms
    assert signed_in(mockidp, http)
    r = confirm(mockidp, http, page.text)
    assert r.status_code == 302
    assert r.headers["Location"] == f"{LOGGED_OUT}?state=bye"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    http.cookies.update(kept)  # a browser that kept the cookie still finds the session gone
    assert not signed_in(mockidp, http)
    assert not mockidp.state.store.grants.sessions()


@pytest.mark.mockidp(login="form")
def test_forged_logout_link_needs_confirmation(mockidp: MockIdP, http: requests.Session) -> None:
    """A link or form on any site, without a hint for this session, signs nobody out by itself."""
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    for r in (
        end_session(mockidp, http),
        http.post(mockidp.url("end_session"), data={"client_id": APP}, allow_redirects=False),
    ):
        assert r.status_code == 200 and "Sign out?" in r.text
        assert "Location" not in r.headers and "Set-Cookie" not in r.headers
    assert signed_in(mockidp, http)


@pytest.mark.mockidp(login="form")
@pytest.mark.parametrize(
    "override",
    [
        {"confirmation": ""},
        {"confirmation": "0" * 64},
        {"confirmation": "grün"},
    ],
)
def test_confirmation_needs_this_sessions_token(
    mockidp: MockIdP, http: requests.Session, override: dict[str, str]
) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    page = end_session(mockidp, http, client_id=APP, post_logout_redirect_uri=LOGGED_OUT)
    r = confirm(mockidp, http, page.text, **override)
    assert r.status_code == 403 and "Location" not in r.headers
    assert "not confirmed" in r.text
    assert signed_in(mockidp, http)


@pytest.mark.mockidp(login="form")
def test_another_browsers_confirmation_token_does_not_work(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    mockidp.add_user(sub="bob", password="bob-pw")
    with requests.Session() as attacker:
        consent, _ = form_login(mockidp, attacker, username="bob", password="bob-pw")
        decide(mockidp, attacker, consent.text, "approve")
        theirs = end_session(mockidp, attacker, client_id=APP).text
    token = CONFIRMATION.search(theirs)
    assert token
    r = confirm(mockidp, http, theirs)
    assert r.status_code == 403
    assert signed_in(mockidp, http)


@pytest.mark.mockidp(login="form")
@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_cross_site_confirmation_is_refused(
    mockidp: MockIdP, http: requests.Session, headers: dict[str, str]
) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    page = end_session(mockidp, http, client_id=APP)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    r = http.post(mockidp.url("end_session/confirm"), data=fields, headers=headers, allow_redirects=False)
    assert r.status_code == 403 and "another web site" in r.text
    assert signed_in(mockidp, http)


@pytest.mark.mockidp(login="form")
def test_hint_for_this_browsers_user_ends_the_session_at_once(
    mockidp: MockIdP, http: requests.Session
) -> None:
    id_token = sign_in_with_id_token(mockidp, http)
    r = end_session(mockidp, http, id_token_hint=id_token, post_logout_redirect_uri=LOGGED_OUT, state="s")
    assert r.status_code == 302 and r.headers["Location"] == f"{LOGGED_OUT}?state=s"
    assert not signed_in(mockidp, http)


@pytest.mark.mockidp(login="form")
def test_hint_for_another_user_asks_first(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_user(sub="bob", password="bob-pw")
    with requests.Session() as other:
        bobs = sign_in_with_id_token(mockidp, other, "bob")
    sign_in_with_id_token(mockidp, http, "alice")
    r = end_session(mockidp, http, id_token_hint=bobs, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 200 and "Sign out?" in r.text and "alice" in r.text
    assert signed_in(mockidp, http)


@pytest.mark.mockidp(login="form")
def test_hint_without_the_cookie_ends_no_session_elsewhere(mockidp: MockIdP, http: requests.Session) -> None:
    """The same user signed in in two browsers; a hint sent from a third ends neither."""
    id_token = sign_in_with_id_token(mockidp, http)
    with requests.Session() as second:
        sign_in_with_id_token(mockidp, second)
        r = requests.get(
            mockidp.url("end_session"),
            params={"id_token_hint": id_token, "post_logout_redirect_uri": LOGGED_OUT},
            allow_redirects=False,
            timeout=5,
        )
        assert r.status_code == 302  # the RP still gets its redirect
        assert signed_in(mockidp, http) and signed_in(mockidp, second)
        assert len(mockidp.state.store.grants.sessions()) == 2
        r = end_session(mockidp, http, id_token_hint=id_token)
        assert r.status_code == 200 and "You are signed out" in r.text
        assert not signed_in(mockidp, http)
        assert signed_in(mockidp, second)  # only the browser that asked
