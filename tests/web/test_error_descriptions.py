"""Every ``error_description`` fits RFC 6749 section 5.2's character set, whatever was echoed.

The audit sent ``grün``, ``"`` and ``\\`` in request values and got them back verbatim in
error bodies. Each error path below echoes a request value into its description: a JSON
body, an authorization error redirect, or a ``WWW-Authenticate`` challenge (IdP and mock
APIs alike). Hypothesis drives them all with arbitrary text.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from userflow import CALLBACK, authorize_params, pkce, query_of

from mockidp import MockIdP
from mockidp.demo import demo_config
from mockidp.errors import safe_description
from mockidp.resources import MockApis

#: RFC 6749 section 5.2 / RFC 6750 section 3: %x20-21 / %x23-5B / %x5D-7E
RFC_6749_SET = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*")
AGENT = ("demo-agent", "demo-agent-secret")
AUDIT_PROBE = 'grün"\\x'  # one token, so scope lists keep it whole


class Site:
    def __init__(self, idp: MockIdP, apis: MockApis, http: requests.Session) -> None:
        self.idp, self.apis, self.http = idp, apis, http


Send = Callable[[Site, str], requests.Response]


def _b64(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _token_with_typ(text: str) -> str:
    """A JWS-shaped token whose ``typ`` is ``text``: strict validation echoes it back."""
    return f"{_b64({'alg': 'RS256', 'kid': 'k', 'typ': text})}.{_b64({'sub': 'x'})}.c2ln"


def _authorize(site: Site, **extra: str) -> requests.Response:
    _, challenge = pkce()
    params = authorize_params(challenge, **extra)
    return site.http.get(site.idp.url("authorize"), params=params, allow_redirects=False)


def _token(site: Site, data: dict[str, str] | list[tuple[str, str]]) -> requests.Response:
    return site.http.post(site.idp.token_endpoint, data=data, auth=AGENT)


PATHS: dict[str, Send] = {
    "token grant_type": lambda s, t: _token(s, {"grant_type": t}),
    "token scope": lambda s, t: _token(s, {"grant_type": "client_credentials", "scope": t}),
    "token resource": lambda s, t: _token(s, {"grant_type": "client_credentials", "resource": t}),
    "token repeated parameter": lambda s, t: _token(
        s, [("grant_type", "client_credentials"), (t, "1"), (t, "2")]
    ),
    "introspect repeated parameter": lambda s, t: s.http.post(
        s.idp.url("introspect"), data=[("token", "x"), (t, "1"), (t, "2")], auth=AGENT
    ),
    "revoke repeated parameter": lambda s, t: s.http.post(
        s.idp.url("revoke"), data=[("token", "x"), (t, "1"), (t, "2")], auth=AGENT
    ),
    "authorize response_type": lambda s, t: _authorize(s, response_type=t),
    "authorize scope": lambda s, t: _authorize(s, scope=t),
    "authorize prompt": lambda s, t: _authorize(s, prompt=t),
    "authorize resource": lambda s, t: _authorize(s, resource=t),
    "authorize code_challenge_method": lambda s, t: _authorize(s, code_challenge_method=t),
    "register scope": lambda s, t: s.http.post(
        s.idp.url("register"), json={"redirect_uris": [CALLBACK], "scope": t}
    ),
    "register grant type": lambda s, t: s.http.post(
        s.idp.url("register"), json={"redirect_uris": [CALLBACK], "grant_types": [t]}
    ),
    "register redirect uri": lambda s, t: s.http.post(s.idp.url("register"), json={"redirect_uris": [t]}),
    "userinfo token typ": lambda s, t: s.http.get(
        s.idp.url("userinfo"), headers={"Authorization": f"Bearer {_token_with_typ(t)}"}
    ),
    "mock API token typ": lambda s, t: s.http.get(
        s.apis["inventory"].url, headers={"Authorization": f"Bearer {_token_with_typ(t)}"}
    ),
    "control unknown key": lambda s, t: s.http.post(s.idp.url("_mockidp/clock"), json={t: 1}),
    "no such endpoint": lambda s, t: s.http.get(s.idp.url("x-" + quote(t, safe=""))),
}


def descriptions(r: requests.Response) -> list[str]:
    """Every error_description in the answer: JSON body, redirect query, challenge."""
    found: list[str] = []
    if 300 <= r.status_code < 400:
        query = query_of(r.headers["Location"])
        found += [query["error_description"]] if "error_description" in query else []
    elif r.headers.get("Content-Type", "").startswith("application/json"):
        body = r.json()
        if isinstance(body, dict) and "error_description" in body:
            found.append(body["error_description"])
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.isascii(), challenge
    found += re.findall(r'error_description="([^"]*)"', challenge)
    return found


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with MockIdP(demo_config()) as idp, MockApis(idp, ["inventory"]) as apis, requests.Session() as http:
        http.trust_env = False
        yield Site(idp, apis, http)
        assert idp.state.server_errors.take() == []


@pytest.mark.parametrize("path", sorted(PATHS))
def test_audit_probe_is_escaped_not_echoed(site: Site, path: str) -> None:
    """``grün"\\x`` comes back percent-encoded: recognisable, and inside the RFC's set."""
    r = PATHS[path](site, AUDIT_PROBE)
    assert r.status_code < 500, r.text
    found = descriptions(r)
    assert found, f"{path}: no error_description in {r.status_code} {r.headers} {r.text[:200]}"
    # repr() in a description doubles the backslash; either way it is escaped
    assert any("gr%C3%BCn%22%5C" in d for d in found), found
    for description in found:
        assert RFC_6749_SET.fullmatch(description), description


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(sorted(PATHS)), text=st.text(min_size=1, max_size=40))
def test_any_echoed_text_fits_the_rfc_character_set(site: Site, path: str, text: str) -> None:
    r = PATHS[path](site, text)
    assert r.status_code < 500, (path, text, r.text)
    for description in descriptions(r):
        assert RFC_6749_SET.fullmatch(description), (path, text, description)


@given(text=st.text())
def test_safe_description_keeps_allowed_text_and_escapes_the_rest(text: str) -> None:
    safe = safe_description(text)
    assert RFC_6749_SET.fullmatch(safe)
    if RFC_6749_SET.fullmatch(text):
        assert safe == text
