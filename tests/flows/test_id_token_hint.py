"""``id_token_hint`` at the authorization endpoint (OIDC Core 3.1.2.1).

The audit's probe: ``prompt=none`` with an ``id_token_hint`` for bob while alice is signed in
returned a code for alice. The hint names the user the client expects; another signed-in user
means ``login_required`` for ``prompt=none`` and the account chooser otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from userflow import (
    APP,
    Authorized,
    authorize_params,
    claims_of,
    decide,
    form_login,
    pkce,
    query_of,
    redeem,
    tokens,
)

from mockidp import MockIdP

BOB = {"sub": "bob", "username": "bob", "password": "bob-pw", "claims": {"name": "Bob Builder"}}


def signed_in(idp: MockIdP, http: requests.Session, username: str, password: str) -> str:
    """Sign ``username`` in on ``http`` (login: form), approve, and return their ID token."""
    consent, got = form_login(idp, http, username=username, password=password, scope="openid")
    query = decide(idp, http, consent.text, "approve")
    r = redeem(idp, http, Authorized(query["code"], got.verifier, got.redirect_uri, query))
    assert r.status_code == 200, r.text
    id_token: str = r.json()["id_token"]
    return id_token


@pytest.fixture
def other_browser() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def hints(mockidp: MockIdP, http: requests.Session, other_browser: requests.Session) -> dict[str, str]:
    """alice is signed in on ``http``; bob on another browser. Their ID tokens."""
    mockidp.add_user(**BOB)
    return {
        "bob": signed_in(mockidp, other_browser, "bob", "bob-pw"),
        "alice": signed_in(mockidp, http, "alice", "alice-pw"),
    }


def authorize(idp: MockIdP, http: requests.Session, **extra: str) -> requests.Response:
    _, challenge = pkce()
    params = authorize_params(challenge, scope="openid", **extra)
    return http.get(idp.url("authorize"), params=params, allow_redirects=False)


@pytest.mark.mockidp(login="form")
def test_prompt_none_with_a_hint_for_another_user_is_login_required(
    mockidp: MockIdP, http: requests.Session, hints: dict[str, str]
) -> None:
    r = authorize(mockidp, http, prompt="none", id_token_hint=hints["bob"])
    assert r.status_code == 302
    query = query_of(r.headers["Location"])
    assert query["error"] == "login_required", query
    assert "id_token_hint" in query["error_description"]
    assert "code" not in query and query["state"] == "st-123"


@pytest.mark.mockidp(login="form")
def test_prompt_none_with_the_signed_in_users_hint_gets_a_code(
    mockidp: MockIdP, http: requests.Session, hints: dict[str, str]
) -> None:
    r = authorize(mockidp, http, prompt="none", id_token_hint=hints["alice"])
    assert "code" in query_of(r.headers["Location"])


@pytest.mark.mockidp(login="form")
def test_a_hint_for_another_user_shows_the_account_chooser(
    mockidp: MockIdP, http: requests.Session, hints: dict[str, str]
) -> None:
    r = authorize(mockidp, http, id_token_hint=hints["bob"])
    assert r.status_code == 200, r.headers.get("Location")
    assert "Sign in" in r.text
    assert "Alice Example" in r.text and "Bob Builder" in r.text  # one button per account
    assert 'value="bob"' in r.text  # the hinted account is filled in


@pytest.mark.mockidp(login="form")
def test_an_expired_hint_still_names_the_user(
    mockidp: MockIdP, http: requests.Session, hints: dict[str, str]
) -> None:
    mockidp.clock.advance(3600)  # ID tokens live 300 s; a hint may be expired (OIDC Core 3.1.2.1)
    r = authorize(mockidp, http, prompt="none", id_token_hint=hints["bob"])
    assert query_of(r.headers["Location"])["error"] == "login_required"


@pytest.mark.parametrize(
    "hint",
    ["not-a-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.", "a.b.c"],
    ids=["garbage", "alg-none", "junk-segments"],
)
def test_a_hint_this_idp_did_not_sign_is_invalid_request(
    mockidp: MockIdP, http: requests.Session, hint: str
) -> None:
    r = authorize(mockidp, http, id_token_hint=hint)
    query = query_of(r.headers["Location"])
    assert query["error"] == "invalid_request"
    assert "id_token_hint" in query["error_description"]


def test_an_access_token_is_not_a_hint(mockidp: MockIdP, http: requests.Session) -> None:
    access = tokens(mockidp, http)["access_token"]
    query = query_of(authorize(mockidp, http, id_token_hint=access).headers["Location"])
    assert query["error"] == "invalid_request"


def test_login_auto_signs_in_the_hinted_user(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_user(**BOB)
    bob_token = tokens(mockidp, http, login_hint="bob")["id_token"]
    body = tokens(mockidp, http, id_token_hint=bob_token)
    assert claims_of(body["id_token"])["sub"] == "bob"
    query = query_of(
        authorize(mockidp, http, login_hint="alice", id_token_hint=bob_token).headers["Location"]
    )
    assert query["error"] == "login_required"
    assert claims_of(bob_token)["aud"] == APP
