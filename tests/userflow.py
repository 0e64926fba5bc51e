"""Helpers for the user-flow tests: PKCE pairs, an authorization round trip, token calls."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from mockidp import MockIdP

APP = "demo-app"
CALLBACK = "http://127.0.0.1:8765/callback"


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def header_of(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    header: dict[str, Any] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return header


def query_of(location: str) -> dict[str, str]:
    """The query of a redirect, each parameter exactly once."""
    parsed = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


@dataclass
class Authorized:
    code: str
    verifier: str
    redirect_uri: str
    params: dict[str, str]


def authorize_params(challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": APP,
        "redirect_uri": CALLBACK,
        "scope": "openid profile email offline_access demo-api:read",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}


def authorize(idp: MockIdP, http: requests.Session, **extra: str) -> Authorized:
    """Run the authorization request (login: auto) and return the code it redirects with."""
    verifier, challenge = pkce()
    params = authorize_params(challenge, **extra)
    r = http.get(idp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 302, r.text
    query = query_of(r.headers["Location"])
    assert "code" in query, query
    return Authorized(query["code"], verifier, params.get("redirect_uri", CALLBACK), query)


def redeem(
    idp: MockIdP,
    http: requests.Session,
    got: Authorized,
    headers: Mapping[str, str] | None = None,
    /,
    **extra: str,
) -> requests.Response:
    """The code's token request (a public client with PKCE); ``extra`` form fields override
    or, set to "", remove; ``headers`` such as a DPoP proof (positional: no form field can
    take its name)."""
    data = {
        "grant_type": "authorization_code",
        "code": got.code,
        "redirect_uri": got.redirect_uri,
        "code_verifier": got.verifier,
        "client_id": APP,
    }
    data.update(extra)
    return http.post(idp.token_endpoint, data={k: v for k, v in data.items() if v != ""}, headers=headers)


def tokens(idp: MockIdP, http: requests.Session, **extra: str) -> dict[str, Any]:
    """A full token response for the demo app's user."""
    client = {"client_id": extra["client_id"]} if "client_id" in extra else {}
    r = redeem(idp, http, authorize(idp, http, **extra), **client)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refresh(idp: MockIdP, http: requests.Session, token: str, **extra: str) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": APP}
    data.update(extra)
    return http.post(idp.token_endpoint, data=data)


TRANSACTION = re.compile(r'name="transaction" value="([^"]+)"')


def transaction_of(html: str) -> str:
    found = TRANSACTION.search(html)
    assert found, html
    return found.group(1)


def form_login(
    idp: MockIdP, http: requests.Session, *, username: str = "alice", password: str = "alice-pw", **extra: str
) -> tuple[requests.Response, Authorized]:
    """login: form, by HTTP: the login page, the password form, the consent page.

    Returns the consent page response and the PKCE details (the code is not issued yet).
    """
    verifier, challenge = pkce()
    params = authorize_params(challenge, **extra)
    page = http.get(idp.url("authorize"), params=params, allow_redirects=False)
    assert page.status_code == 200, page.text
    txn = transaction_of(page.text)
    r = http.post(
        idp.url("authorize/login"),
        data={"transaction": txn, "username": username, "password": password},
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text
    consent = http.get(r.headers["Location"], allow_redirects=False)
    assert consent.status_code == 200
    return consent, Authorized("", verifier, params["redirect_uri"], {})


def decide(idp: MockIdP, http: requests.Session, consent_page: str, decision: str) -> dict[str, str]:
    r = http.post(
        idp.url("authorize/consent"),
        data={"transaction": transaction_of(consent_page), "decision": decision},
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return query_of(r.headers["Location"])
