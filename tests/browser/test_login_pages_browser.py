"""A real headless Chromium signs in and consents on the login pages, and also denies.

Drives Debian's ``/usr/bin/chromium`` through Playwright (no browser download). The code
arrives at a tiny loopback listener registered as the demo app's redirect URI (loopback:
any port). A screenshot of every page goes to ``test-artifacts/``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from userflow import Authorized, authorize_params, pkce, query_of, redeem, transaction_of

from mockidp import MockIdP

Shot = Callable[[Any, str], None]


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.mockidp(login="form")]


class _Callback(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>App</title><h1>Back at the app</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def callback() -> Iterator[str]:
    """A loopback listener standing in for the app's redirect URI; yields its callback URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def start(idp: MockIdP, page: Any, callback: str, **extra: str) -> str:
    verifier, challenge = pkce()
    params = authorize_params(challenge, redirect_uri=callback, **extra)
    page.goto(f"{idp.url('authorize')}?{urlencode(params)}")
    return verifier


def test_password_sign_in_and_approve(
    mockidp: MockIdP, page: Any, callback: str, http: requests.Session, shot: Shot
) -> None:
    verifier = start(mockidp, page, callback)
    assert page.get_by_role("heading", name="Sign in", exact=True).is_visible()
    shot(page, "01-login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    alert = page.get_by_role("alert")
    assert "Wrong username or password" in alert.inner_text()
    shot(page, "02-login-wrong-password")
    page.get_by_label("Password").fill("alice-pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Authorize demo-app").wait_for()
    assert "demo-api:read" in page.content()
    shot(page, "03-consent")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{callback}?*")
    shot(page, "04-back-at-the-app")
    query = query_of(page.url)
    assert query["state"] == "st-123" and query["iss"] == mockidp.issuer
    r = redeem(mockidp, http, Authorized(query["code"], verifier, callback, query))
    assert r.status_code == 200, r.text
    assert "id_token" in r.json()


def test_one_click_user_and_deny(mockidp: MockIdP, page: Any, callback: str) -> None:
    start(mockidp, page, callback)
    page.get_by_role("button", name="Alice Example").click()
    page.get_by_role("heading", name="Authorize demo-app").wait_for()
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{callback}?*")
    query = query_of(page.url)
    assert query["error"] == "access_denied"
    assert query["state"] == "st-123"
    assert "code" not in query


def test_keyboard_focus_is_visible(mockidp: MockIdP, page: Any, callback: str, shot: Shot) -> None:
    start(mockidp, page, callback)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
    assert focused in ("password", "username")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    shot(page, "05-login-keyboard-focus")


def test_error_and_signed_out_pages(mockidp: MockIdP, page: Any, callback: str, shot: Shot) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge, redirect_uri="https://evil.example/steal")
    response = page.goto(f"{mockidp.url('authorize')}?{urlencode(params)}")
    assert response.status == 400
    assert page.url.startswith(mockidp.issuer)
    shot(page, "06-error-bad-redirect")
    page.goto(mockidp.url("end_session"))
    assert page.get_by_role("heading", name="You are signed out").is_visible()
    shot(page, "07-signed-out")


def test_sign_in_form_posted_from_another_site_is_refused(
    mockidp: MockIdP, page: Any, callback: str, shot: Shot
) -> None:
    """Login CSRF: a page elsewhere auto-submits an attacker's transaction for the victim."""
    mockidp.add_user(sub="bob", password="bob-pw")
    _, challenge = pkce()
    with requests.Session() as attacker:
        params = authorize_params(challenge, redirect_uri=callback)
        txn = transaction_of(attacker.get(mockidp.url("authorize"), params=params).text)
    start(mockidp, page, callback)  # the victim's browser has a sign-in of its own going
    evil = (
        f'<form method="post" action="{mockidp.url("authorize/login")}">'
        f'<input name="transaction" value="{txn}"><input name="user" value="bob"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page.route(
        "http://attacker.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
    )
    page.goto("http://attacker.example/")
    page.get_by_role("heading", name="Request refused").wait_for()
    assert page.url == mockidp.url("authorize/login")
    assert "another web site" in page.get_by_role("alert").inner_text()
    shot(page, "08-cross-site-sign-in-refused")
    assert not mockidp.state.store.grants.sessions()


def test_logout_without_hint_asks_first(mockidp: MockIdP, page: Any, callback: str, shot: Shot) -> None:
    start(mockidp, page, callback)
    page.get_by_role("button", name="Alice Example").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{callback}?*")
    assert len(mockidp.state.store.grants.sessions()) == 1
    page.goto(f"{mockidp.url('end_session')}?{urlencode({'client_id': 'demo-app'})}")
    page.get_by_role("heading", name="Sign out?").wait_for()
    assert "Signed in as alice" in page.content()
    shot(page, "09-logout-confirmation")
    assert len(mockidp.state.store.grants.sessions()) == 1  # nothing ended yet
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You are signed out").wait_for()
    assert not mockidp.state.store.grants.sessions()
