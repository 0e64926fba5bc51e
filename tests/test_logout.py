"""RP-initiated logout: id_token_hint, exact post_logout_redirect_uri, state, session end."""

from __future__ import annotations

import pytest
import requests
from userflow import APP, authorize_params, decide, form_login, pkce, query_of, tokens

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


@pytest.mark.mockidp(login="form")
def test_logout_ends_the_login_session(mockidp: MockIdP, http: requests.Session) -> None:
    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    _, challenge = pkce()
    params = authorize_params(challenge, prompt="none")
    query = query_of(
        http.get(mockidp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
    )
    assert "code" in query  # signed in
    kept = dict(http.cookies)
    r = end_session(mockidp, http, client_id=APP, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 302
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    http.cookies.update(kept)  # a browser that kept the cookie still finds the session gone
    query = query_of(
        http.get(mockidp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
    )
    assert query["error"] == "login_required"
    assert not mockidp.state.store.grants.sessions
