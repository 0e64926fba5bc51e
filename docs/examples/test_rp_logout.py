"""RP-initiated logout: id_token_hint, an exactly registered post_logout_redirect_uri, state."""

import requests

LOGGED_OUT = "http://127.0.0.1/logged-out"  # registered for demo-app in the demo config


def test_logout_redirects_back_with_state(mockidp):
    r = requests.get(
        mockidp.url("end_session"),
        params={"client_id": "demo-app", "post_logout_redirect_uri": LOGGED_OUT, "state": "bye"},
        allow_redirects=False,
    )
    assert r.status_code == 302 and r.headers["Location"] == f"{LOGGED_OUT}?state=bye"


def test_unregistered_logout_redirect_is_refused_with_a_page(mockidp):
    r = requests.get(
        mockidp.url("end_session"),
        params={"client_id": "demo-app", "post_logout_redirect_uri": "https://evil.example/"},
        allow_redirects=False,
    )
    assert r.status_code == 400 and "Location" not in r.headers
