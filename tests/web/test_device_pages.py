"""The device verification pages (``login: form``) over HTTP, one ``requests.Session`` per
browser: enter the code, sign in, approve or deny; and the sign-in pages' CSRF defences hold
here too (another origin, another browser, no cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from userflow import claims_of, transaction_of

from mockidp import MockIdP

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
CONFIG: dict[str, Any] = {
    "login": "form",
    "users": [{"sub": "alice", "password": "alice-pw"}, {"sub": "bob", "password": "bob-pw"}],
    "clients": [{"client_id": "tv", "client_name": "Living-room TV", "grant_types": [DEVICE]}],
    "device": {"interval": 1},
}


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP(CONFIG) as server:
        yield server


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def device_start(idp: MockIdP, **form: str) -> dict[str, Any]:
    r = requests.post(idp.url("device_authorization"), data={"client_id": "tv", "scope": "openid", **form})
    assert r.status_code == 200, r.text
    return dict(r.json())


def poll(idp: MockIdP, device_code: str) -> requests.Response:
    idp.clock.advance(30)
    return requests.post(
        idp.token_endpoint, data={"grant_type": DEVICE, "device_code": device_code, "client_id": "tv"}
    )


def enter_code(idp: MockIdP, browser: requests.Session, user_code: str) -> requests.Response:
    page = browser.get(idp.url("device"), params={"user_code": user_code})
    assert page.status_code == 200 and f'value="{user_code}"' in page.text
    return browser.post(idp.url("device"), data={"user_code": user_code}, allow_redirects=False)


def test_enter_code_sign_in_approve(idp: MockIdP, browser: requests.Session) -> None:
    started = device_start(idp)
    assert poll(idp, started["device_code"]).json()["error"] == "authorization_pending"
    login = enter_code(idp, browser, started["user_code"].lower().replace("-", " "))
    assert login.status_code == 200 and "Sign in" in login.text
    txn = transaction_of(login.text)
    wrong = browser.post(
        idp.url("device/login"), data={"transaction": txn, "username": "bob", "password": "x"}
    )
    assert "Wrong username or password" in wrong.text
    consent = browser.post(
        idp.url("device/login"), data={"transaction": txn, "username": "bob", "password": "bob-pw"}
    )
    assert (
        consent.status_code == 200
        and "Living-room TV" in consent.text
        and started["user_code"] in consent.text
    )
    done = browser.post(idp.url("device/consent"), data={"transaction": txn, "decision": "approve"})
    assert "Device connected" in done.text
    tokens = poll(idp, started["device_code"])
    assert tokens.status_code == 200, tokens.text
    assert claims_of(tokens.json()["id_token"])["sub"] == "bob"
    # the code is used up: entering it again leads nowhere
    assert "unknown, expired or already used" in enter_code(idp, browser, started["user_code"]).text


def test_a_signed_in_browser_goes_straight_to_consent_and_can_deny(
    idp: MockIdP, browser: requests.Session
) -> None:
    first = device_start(idp)
    txn = transaction_of(enter_code(idp, browser, first["user_code"]).text)
    browser.post(idp.url("device/login"), data={"transaction": txn, "user": "alice"})
    browser.post(idp.url("device/consent"), data={"transaction": txn, "decision": "approve"})
    second = device_start(idp)
    r = enter_code(idp, browser, second["user_code"])
    assert r.status_code == 303 and "/device/consent?transaction=" in r.headers["Location"]
    txn = r.headers["Location"].rsplit("=", 1)[1]
    denied = browser.post(idp.url("device/consent"), data={"transaction": txn, "decision": "deny"})
    assert "Request denied" in denied.text
    assert poll(idp, second["device_code"]).json()["error"] == "access_denied"


def test_an_unknown_code_shows_the_form_again(idp: MockIdP, browser: requests.Session) -> None:
    r = enter_code(idp, browser, "BCDF-GHJK")
    assert r.status_code == 200 and 'role="alert"' in r.text and 'aria-invalid="true"' in r.text


def test_posts_from_another_site_are_refused(idp: MockIdP, browser: requests.Session) -> None:
    started = device_start(idp)
    txn = transaction_of(enter_code(idp, browser, started["user_code"]).text)
    evil = {"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"}
    for path, data in (
        ("device", {"user_code": started["user_code"]}),
        ("device/login", {"transaction": txn, "user": "bob"}),
        ("device/consent", {"transaction": txn, "decision": "approve"}),
    ):
        r = browser.post(idp.url(path), data=data, headers=evil, allow_redirects=False)
        assert r.status_code == 403 and "another web site" in r.text, path
    assert idp.polled_requests()[0]["status"] == "pending"


def test_another_browser_cannot_finish_or_use_a_transaction(idp: MockIdP, browser: requests.Session) -> None:
    """Login CSRF on the device pages: the attacker's transaction posted from the victim's browser."""
    started = device_start(idp)
    with requests.Session() as attacker:
        txn = transaction_of(enter_code(idp, attacker, started["user_code"]).text)
    no_cookie = browser.post(idp.url("device/login"), data={"transaction": txn, "user": "bob"})
    assert no_cookie.status_code == 400 and "did not send the cookie" in no_cookie.text
    browser.get(idp.url("device"))  # the victim's browser now has its own key
    other = browser.post(idp.url("device/login"), data={"transaction": txn, "user": "bob"})
    assert other.status_code == 403 and "another browser" in other.text
    assert not idp.state.store.grants.sessions()
    fresh = requests.post(idp.url("device"), data={"user_code": started["user_code"]})
    assert fresh.status_code == 400 and "did not send the cookie" in fresh.text


def test_the_pages_escape_what_they_show(idp: MockIdP, browser: requests.Session) -> None:
    r = browser.get(idp.url("device"), params={"user_code": '"><script>alert(1)</script>'})
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    assert (
        r.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    )
