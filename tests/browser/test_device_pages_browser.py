"""A real headless Chromium works through the device verification pages (RFC 8628 section 3.3):
it opens ``verification_uri_complete``, signs in, approves (or denies), while the device polls.

Drives Debian's ``/usr/bin/chromium`` through Playwright, like ``test_login_pages_browser.py``;
screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from userflow import claims_of

from mockidp import MockIdP

Shot = Callable[[Any, str], None]

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
CONFIG: dict[str, Any] = {
    "login": "form",
    "users": [
        {"sub": "alice", "password": "alice-pw", "claims": {"name": "Alice Example"}},
        {"sub": "bob", "password": "bob-pw", "claims": {"name": "Bob Example"}},
    ],
    "clients": [{"client_id": "tv", "client_name": "Living-room TV", "grant_types": [DEVICE]}],
    "device": {"interval": 1},
}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP(CONFIG) as server:
        yield server


def device_start(idp: MockIdP) -> dict[str, Any]:
    r = requests.post(idp.url("device_authorization"), data={"client_id": "tv", "scope": "openid profile"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def poll(idp: MockIdP, device_code: str) -> requests.Response:
    idp.clock.advance(30)
    return requests.post(
        idp.token_endpoint, data={"grant_type": DEVICE, "device_code": device_code, "client_id": "tv"}
    )


def test_enter_the_code_sign_in_and_approve(idp: MockIdP, page: Any, shot: Shot) -> None:
    started = device_start(idp)
    page.goto(idp.url("device"))
    page.get_by_role("heading", name="Connect a device").wait_for()
    shot(page, "device-01-enter-code")
    page.get_by_label("Code").fill("BCDF-GHJK")
    page.get_by_role("button", name="Continue").click()
    assert "unknown, expired or already used" in page.get_by_role("alert").inner_text()
    page.get_by_label("Code").fill(started["user_code"].lower())  # case does not matter
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Sign in", exact=True).wait_for()
    shot(page, "device-02-sign-in")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("bob-pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Authorize Living-room TV").wait_for()
    assert page.locator("#shown-code").inner_text() == started["user_code"]
    shot(page, "device-03-consent")
    assert poll(idp, started["device_code"]).json()["error"] == "authorization_pending"
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("heading", name="Device connected").wait_for()
    shot(page, "device-04-done")
    tokens = poll(idp, started["device_code"])
    assert tokens.status_code == 200, tokens.text
    assert claims_of(tokens.json()["id_token"])["sub"] == "bob"


def test_the_complete_uri_fills_the_code_and_a_one_click_user_denies(idp: MockIdP, page: Any) -> None:
    started = device_start(idp)
    page.goto(started["verification_uri_complete"])
    assert page.get_by_label("Code").input_value() == started["user_code"]
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Alice Example").click()
    page.get_by_role("heading", name="Authorize Living-room TV").wait_for()
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("heading", name="Request denied").wait_for()
    assert poll(idp, started["device_code"]).json()["error"] == "access_denied"


def test_a_code_form_posted_from_another_site_is_refused(idp: MockIdP, page: Any, shot: Shot) -> None:
    started = device_start(idp)
    page.goto(idp.url("device"))  # the victim's browser holds a key cookie for the pages
    evil = (
        f'<form method="post" action="{idp.url("device")}">'
        f'<input name="user_code" value="{started["user_code"]}"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page.route(
        "http://attacker.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
    )
    page.goto("http://attacker.example/")
    page.get_by_role("heading", name="Request refused").wait_for()
    assert "another web site" in page.get_by_role("alert").inner_text()
    shot(page, "device-05-cross-site-refused")
