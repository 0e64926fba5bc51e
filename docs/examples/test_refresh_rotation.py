"""Refresh tokens rotate on every use; a reused one revokes the whole family."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def sign_in(idp, scope="openid offline_access demo-api:read"):
    """Authorization code + PKCE with login: auto; returns the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    r = requests.get(
        idp.url("authorize"),
        params={
            "response_type": "code",
            "client_id": "demo-app",
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    return requests.post(
        idp.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": "demo-app",
        },
    ).json()


def refresh(idp, refresh_token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "demo-app"}
    return requests.post(idp.token_endpoint, data={**data, **extra})


def test_rotation_and_reuse_detection(mockidp):
    first = sign_in(mockidp)
    second = refresh(mockidp, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]

    # The old token again: refused, and the newer one dies with it.
    assert refresh(mockidp, first["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(mockidp, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_may_narrow_the_scope_but_never_widen_it(mockidp):
    tokens = sign_in(mockidp)
    narrowed = refresh(mockidp, tokens["refresh_token"], scope="openid offline_access").json()
    assert narrowed["scope"] == "openid offline_access"
    widened = refresh(mockidp, narrowed["refresh_token"], scope="openid profile")
    assert widened.json()["error"] == "invalid_scope"


def test_refresh_tokens_expire_on_the_mock_clock(mockidp):
    mockidp.clock.freeze()
    tokens = sign_in(mockidp)
    mockidp.clock.advance(86400)  # refresh_token_ttl
    assert refresh(mockidp, tokens["refresh_token"]).json()["error"] == "invalid_grant"
