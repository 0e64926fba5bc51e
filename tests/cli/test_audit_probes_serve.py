"""The audit's probes against a real ``mockidp serve`` process (the demo configuration).

Each finding fixed for issue 9 that the audit found over HTTP is sent again the same way:
the clock that broke /token, echoed characters in ``error_description``, a machine token at
userinfo, OIDC scopes outside a client's list, defective tokens at userinfo, and
``prompt=none`` with an ``id_token_hint`` for someone else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from serving import ServeProcess
from userflow import query_of, transaction_of

AGENT = ("demo-agent", "demo-agent-secret")
CALLBACK = "http://127.0.0.1/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
DESCRIPTION_CHARS = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*")


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with ServeProcess("--port", "0", "--login", "auto") as server:
        yield server.issuer


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def machine_token(issuer: str, http: requests.Session, **extra: str) -> requests.Response:
    return http.post(f"{issuer}/token", data={"grant_type": "client_credentials", **extra}, auth=AGENT)


def test_an_infinite_clock_is_refused_and_token_keeps_working(issuer: str, http: requests.Session) -> None:
    r = http.post(f"{issuer}/_mockidp/clock", json={"advance": 1e308})
    assert r.status_code == 400 and r.json()["key_path"] == "advance"
    assert machine_token(issuer, http).status_code == 200


def test_echoed_characters_are_escaped(issuer: str, http: requests.Session) -> None:
    r = machine_token(issuer, http, scope='grün"\\')
    assert r.status_code == 400
    description = r.json()["error_description"]
    assert DESCRIPTION_CHARS.fullmatch(description) and "gr%C3%BCn%22" in description


def test_machine_agent_gets_no_oidc_scope_and_no_profile(issuer: str, http: requests.Session) -> None:
    assert machine_token(issuer, http, scope="openid").json()["error"] == "invalid_scope"
    token = machine_token(issuer, http).json()["access_token"]
    r = http.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


@pytest.mark.parametrize("defect", ["aud-wrong", "aud-missing", "iat-missing", "payload-utf16"])
def test_defective_user_tokens_are_refused_at_userinfo(
    issuer: str, http: requests.Session, defect: str
) -> None:
    minted = http.post(
        f"{issuer}/_mockidp/tokens",
        json={"client_id": "demo-app", "subject": "alice", "scope": "openid", "defects": [defect]},
    )
    assert minted.status_code in (200, 201), minted.text
    token = minted.json()["access_token"]
    r = http.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="mockidp", error="invalid_token"')


def sign_in(issuer: str, http: requests.Session, username: str, password: str, **extra: str) -> str:
    """login: form by HTTP (login page, password, consent); returns the code."""
    params = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **extra,
    }
    page = http.get(f"{issuer}/authorize", params=params, allow_redirects=False)
    assert page.status_code == 200, page.text
    login = {"transaction": transaction_of(page.text), "username": username, "password": password}
    r = http.post(f"{issuer}/authorize/login", data=login, allow_redirects=False)
    consent = http.get(r.headers["Location"], allow_redirects=False)
    decision = {"transaction": transaction_of(consent.text), "decision": "approve"}
    r = http.post(f"{issuer}/authorize/consent", data=decision, allow_redirects=False)
    return query_of(r.headers["Location"])["code"]


def test_prompt_none_with_a_hint_for_another_user_is_login_required(http: requests.Session) -> None:
    with ServeProcess("--port", "0") as server, requests.Session() as other_browser:
        issuer = server.issuer
        other_browser.trust_env = False
        added = http.post(f"{issuer}/_mockidp/users", json={"sub": "bob", "password": "bob-pw"})
        assert added.status_code == 201, added.text
        code = sign_in(issuer, other_browser, "bob", "bob-pw")
        redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
        r = other_browser.post(
            f"{issuer}/token", data={**redeem, "code_verifier": VERIFIER, "client_id": "demo-app"}
        )
        bob_id_token = r.json()["id_token"]
        sign_in(issuer, http, "alice", "alice-pw")  # this browser: alice
        params = {
            "response_type": "code",
            "client_id": "demo-app",
            "redirect_uri": CALLBACK,
            "scope": "openid",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            "prompt": "none",
        }
        r = http.get(f"{issuer}/authorize", params=params, allow_redirects=False)
        assert "code" in query_of(r.headers["Location"])  # alice's session works
        r = http.get(
            f"{issuer}/authorize", params={**params, "id_token_hint": bob_id_token}, allow_redirects=False
        )
        query = query_of(r.headers["Location"])
        assert query["error"] == "login_required" and "code" not in query
