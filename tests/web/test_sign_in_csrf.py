"""Sign-in and consent are bound to the browser that started them (issue 9: login CSRF).

The attack: start a transaction in your own browser, then make the victim's browser post
``transaction=...&user=bob`` from your site; the victim ends up signed in as bob. Each
``requests.Session`` here is one browser with its own cookie jar.
"""

from __future__ import annotations

import pytest
import requests
from userflow import authorize_params, decide, form_login, pkce, query_of, transaction_of

from mockidp import MockIdP
from mockidp.demo import demo_config

pytestmark = pytest.mark.mockidp(login="form")


def start(idp: MockIdP, browser: requests.Session, **extra: str) -> str:
    """GET /authorize in this browser: the login page's transaction id."""
    _, challenge = pkce()
    page = browser.get(
        idp.url("authorize"), params=authorize_params(challenge, **extra), allow_redirects=False
    )
    assert page.status_code == 200, page.text
    return transaction_of(page.text)


def signed_in(idp: MockIdP, browser: requests.Session) -> bool:
    _, challenge = pkce()
    params = authorize_params(challenge, prompt="none", scope="openid")
    r = browser.get(idp.url("authorize"), params=params, allow_redirects=False)
    return "code" in query_of(r.headers["Location"])


@pytest.fixture
def bob(mockidp: MockIdP) -> str:
    mockidp.add_user(sub="bob", password="bob-pw")
    return "bob"


@pytest.mark.parametrize("victim_started_one", [False, True])
def test_login_posted_from_another_browser_signs_nobody_in(
    mockidp: MockIdP, http: requests.Session, bob: str, victim_started_one: bool
) -> None:
    with requests.Session() as attacker:
        txn = start(mockidp, attacker)
    if victim_started_one:
        start(mockidp, http)  # the victim's browser holds its own browser key
    for data in (
        {"transaction": txn, "user": bob},
        {"transaction": txn, "username": bob, "password": "bob-pw"},
    ):
        r = http.post(mockidp.url("authorize/login"), data=data, allow_redirects=False)
        assert r.status_code == (403 if victim_started_one else 400)
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "another browser" in r.text if victim_started_one else "did not send the cookie" in r.text
        assert "Location" not in r.headers
        assert not any(c.name.startswith("mockidp_session") for c in http.cookies)
    assert not mockidp.state.store.grants.sessions()
    assert not signed_in(mockidp, http)


def test_consent_from_another_browser_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    """The attacker signs in and lets the victim's browser approve: no code for either."""
    with requests.Session() as attacker:
        consent, _ = form_login(mockidp, attacker)
    txn = transaction_of(consent.text)
    start(mockidp, http)
    r = http.get(mockidp.url("authorize/consent"), params={"transaction": txn})
    assert r.status_code == 403 and "another browser" in r.text
    r = http.post(
        mockidp.url("authorize/consent"),
        data={"transaction": txn, "decision": "approve"},
        allow_redirects=False,
    )
    assert r.status_code == 403 and "Location" not in r.headers
    assert not mockidp.state.store.grants.codes()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port on this machine is another origin
        {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_posts_are_refused_even_with_the_cookie(
    mockidp: MockIdP, http: requests.Session, headers: dict[str, str]
) -> None:
    txn = start(mockidp, http)
    r = http.post(
        mockidp.url("authorize/login"),
        data={"transaction": txn, "user": "alice"},
        headers=headers,
        allow_redirects=False,
    )
    assert r.status_code == 403 and "another web site" in r.text
    assert not mockidp.state.store.grants.sessions()
    consent, _ = form_login(mockidp, http)
    r = http.post(
        mockidp.url("authorize/consent"),
        data={"transaction": transaction_of(consent.text), "decision": "approve"},
        headers=headers,
        allow_redirects=False,
    )
    assert r.status_code == 403 and "Location" not in r.headers


def test_same_origin_browser_posts_are_served(mockidp: MockIdP, http: requests.Session) -> None:
    """What a real browser sends for the pages' own forms."""
    origin = mockidp.issuer.rstrip("/")
    same = {"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    txn = start(mockidp, http)
    r = http.post(
        mockidp.url("authorize/login"),
        data={"transaction": txn, "user": "alice"},
        headers=same,
        allow_redirects=False,
    )
    assert r.status_code == 303
    consent = http.get(r.headers["Location"])
    r = http.post(
        mockidp.url("authorize/consent"),
        data={"transaction": transaction_of(consent.text), "decision": "approve"},
        headers=same,
        allow_redirects=False,
    )
    assert "code" in query_of(r.headers["Location"])


def test_browser_key_cookie_attributes(mockidp: MockIdP, http: requests.Session) -> None:
    _, challenge = pkce()
    r = http.get(mockidp.url("authorize"), params=authorize_params(challenge), allow_redirects=False)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("mockidp_browser_")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/authorize", "Max-Age=600"):
        assert attribute in cookie
    assert "Secure" not in cookie  # http issuer


def test_two_tabs_in_one_browser_both_finish(mockidp: MockIdP, http: requests.Session) -> None:
    first, second = start(mockidp, http, state="tab-1"), start(mockidp, http, state="tab-2")
    for txn, state in ((second, "tab-2"), (first, "tab-1")):
        r = http.post(
            mockidp.url("authorize/login"), data={"transaction": txn, "user": "alice"}, allow_redirects=False
        )
        assert r.status_code == 303, r.text
        consent = http.get(r.headers["Location"])
        assert decide(mockidp, http, consent.text, "approve")["state"] == state


def test_forged_browser_key_cookie_does_not_help(mockidp: MockIdP, http: requests.Session) -> None:
    with requests.Session() as attacker:
        txn = start(mockidp, attacker)
    name = next(c.name for c in attacker.cookies if c.name.startswith("mockidp_browser_"))
    for value in ("x", "A" * 43, ""):
        r = http.post(
            mockidp.url("authorize/login"),
            data={"transaction": txn, "user": "alice"},
            headers={"Cookie": f"{name}={value}"},
            allow_redirects=False,
        )
        assert r.status_code in (400, 403)
    assert not mockidp.state.store.grants.sessions()


@pytest.mark.parametrize(("issuer", "secure"), [("https://idp.example", True), (None, False)])
def test_cookies_are_secure_when_the_issuer_is_https(issuer: str | None, secure: bool) -> None:
    with MockIdP(demo_config(), issuer=issuer, login="form") as idp, requests.Session() as browser:
        _, challenge = pkce()
        base = f"http://127.0.0.1:{idp.port}"
        page = browser.get(f"{base}/authorize", params=authorize_params(challenge), allow_redirects=False)
        key_cookie = page.headers["Set-Cookie"]
        assert ("; Secure" in key_cookie) is secure
        key = key_cookie.split(";", 1)[0]  # requests keeps Secure cookies off plain http: send it by hand
        r = browser.post(
            f"{base}/authorize/login",
            data={"transaction": transaction_of(page.text), "user": "alice"},
            headers={"Cookie": key},
            allow_redirects=False,
        )
        assert r.status_code == 303, r.text
        session_cookie = r.headers["Set-Cookie"]
        assert session_cookie.startswith("mockidp_session_") and "HttpOnly" in session_cookie
        assert ("; Secure" in session_cookie) is secure
