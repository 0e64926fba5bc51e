"""The journal holds no usable secret: a full code flow, read back through the control API.

Issue 9 found codes, PKCE verifiers, refresh tokens and access tokens in ``GET
/_mockidp/journal``. Every credential is now a marker with its length and a short hash, which
a test that knows the value can compute with :func:`mockidp.redacted`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
import requests
from userflow import APP, authorize, redeem, refresh

from mockidp import MockIdP, redacted
from mockidp.journal import redact_headers, redact_params

AGENT = ("demo-agent", "demo-agent-secret")
MARKER = re.compile(r"\[redacted len=(\d+) sha256:([0-9a-f]{8})\]")


def pieces(secret: str) -> list[str]:
    """The secret and, for a JWT, each segment long enough to identify it."""
    return [secret, *(part for part in secret.split(".") if len(part) >= 16)]


def by_endpoint(journal: list[dict[str, Any]], endpoint: str) -> list[dict[str, Any]]:
    return [r for r in journal if r["endpoint"] == endpoint]


def test_full_code_flow_leaves_no_secret_in_the_journal(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http)
    first = redeem(mockidp, http, got)
    assert first.status_code == 200, first.text
    tokens = first.json()
    second = refresh(mockidp, http, tokens["refresh_token"])
    assert second.status_code == 200, second.text
    renewed = second.json()
    introspected = http.post(mockidp.url("introspect"), data={"token": renewed["access_token"]}, auth=AGENT)
    assert introspected.json()["active"] is True
    bearer = {"Authorization": f"Bearer {renewed['access_token']}", "DPoP": "proof.of.possession"}
    http.get(mockidp.url("userinfo"), headers=bearer)
    http.post(mockidp.url("userinfo"), data={"access_token": tokens["access_token"]})
    http.get(
        mockidp.url("userinfo"), params={"access_token": renewed["access_token"]}
    )  # refused, still journaled
    http.get(mockidp.url("end_session"), params={"id_token_hint": renewed["id_token"]})
    http.post(mockidp.url("revoke"), data={"token": renewed["refresh_token"], "client_id": APP})

    r = http.get(mockidp.url("_mockidp/journal"))
    assert r.status_code == 200
    secrets = {
        "code": got.code,
        "code_verifier": got.verifier,
        "client_secret": AGENT[1],
        "basic": base64.b64encode(f"{AGENT[0]}:{AGENT[1]}".encode()).decode(),
        **{f"first {k}": v for k, v in tokens.items() if k.endswith("_token")},
        **{f"renewed {k}": v for k, v in renewed.items() if k.endswith("_token")},
    }
    for name, secret in secrets.items():
        for piece in pieces(secret):
            assert piece not in r.text, f"{name} is in the journal"

    journal = r.json()["requests"]
    token_calls = by_endpoint(journal, "token")
    assert token_calls[0]["form"]["code"] == [redacted(got.code)]
    assert token_calls[0]["form"]["code_verifier"] == [redacted(got.verifier)]
    assert token_calls[0]["form"]["grant_type"] == ["authorization_code"]  # the rest stays readable
    assert token_calls[1]["form"]["refresh_token"] == [redacted(tokens["refresh_token"])]
    introspect = by_endpoint(journal, "introspect")[0]
    assert introspect["form"]["token"] == [redacted(renewed["access_token"])]
    assert introspect["headers"]["Authorization"] == f"Basic {redacted(secrets['basic'])}"
    header, form, query = by_endpoint(journal, "userinfo")
    assert header["headers"]["Authorization"] == f"Bearer {redacted(renewed['access_token'])}"
    assert header["headers"]["DPoP"] == redacted("proof.of.possession")
    assert form["form"]["access_token"] == [redacted(tokens["access_token"])]
    assert query["query"]["access_token"] == [redacted(renewed["access_token"])]
    logout = by_endpoint(journal, "end_session")[0]
    assert logout["query"]["id_token_hint"] == [redacted(renewed["id_token"])]
    assert by_endpoint(journal, "revoke")[0]["form"]["token"] == [redacted(renewed["refresh_token"])]


def test_marker_keeps_length_and_a_short_sha256() -> None:
    value = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    marker = redacted(value)
    found = MARKER.fullmatch(marker)
    assert found, marker
    assert int(found.group(1)) == len(value) == 43
    assert found.group(2) == hashlib.sha256(value.encode()).hexdigest()[:8]
    assert redacted(value) == marker != redacted(value + "x")


@pytest.mark.parametrize(
    "name",
    [
        "code",
        "code_verifier",
        "refresh_token",
        "access_token",
        "token",
        "client_secret",
        "client_assertion",
        "password",
        "id_token_hint",
        "assertion",
        "subject_token",
        "actor_token",
    ],
)
def test_every_credential_parameter_is_redacted(name: str) -> None:
    params = {name: ["s3cret-value", "another"], "scope": ["openid"]}
    assert redact_params(params) == {
        name: [redacted("s3cret-value"), redacted("another")],
        "scope": ["openid"],
    }


def test_credential_headers_are_redacted_and_cookie_names_kept() -> None:
    headers = {
        "Authorization": "Bearer abc.def",
        "Proxy-Authorization": "Basic dXNlcjpwdw==",
        "DPoP": "eyJ.eyJ.sig",
        "Cookie": "mockidp_session_1=sid_x; mockidp_browser_1=key",
        "User-Agent": "test",
    }
    assert redact_headers(headers) == {
        "Authorization": f"Bearer {redacted('abc.def')}",
        "Proxy-Authorization": f"Basic {redacted('dXNlcjpwdw==')}",
        "DPoP": redacted("eyJ.eyJ.sig"),
        "Cookie": f"mockidp_session_1={redacted('sid_x')}; mockidp_browser_1={redacted('key')}",
        "User-Agent": "test",
    }


@pytest.mark.mockidp(login="form")
def test_session_cookies_and_passwords_of_the_login_pages_are_redacted(
    mockidp: MockIdP, http: requests.Session
) -> None:
    from userflow import decide, form_login

    consent, _ = form_login(mockidp, http)
    decide(mockidp, http, consent.text, "approve")
    values = list(http.cookies.values())
    assert len(values) == 2  # the login session and the browser key
    r = http.get(mockidp.url("_mockidp/journal"))
    assert "alice-pw" not in r.text
    for value in values:
        assert value and value not in r.text
    login = next(x for x in r.json()["requests"] if x["path"].endswith("/authorize/login"))
    assert login["form"]["password"] == [redacted("alice-pw")]
