"""Misbehaviour for the MCP trials: metadata members left out, metadata at chosen paths only, an
``iss`` that differs by a trailing slash, and registrations whose ``scope`` does not bind."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockidp import ConfigError, MockIdP

ISS_SUPPORT = "authorization_response_iss_parameter_supported"


def test_metadata_omit_drops_members_and_single_list_values(mockidp: MockIdP, http: requests.Session) -> None:
    url = mockidp.url("/.well-known/oauth-authorization-server")
    honest = http.get(url).json()
    assert honest[ISS_SUPPORT] is True and "offline_access" in honest["scopes_supported"]
    mockidp.misbehave(metadata_omit=[ISS_SUPPORT, "scopes_supported:offline_access", "nope:x"])
    lying = http.get(url).json()
    assert ISS_SUPPORT not in lying
    assert lying["scopes_supported"] == [s for s in honest["scopes_supported"] if s != "offline_access"]
    mockidp.misbehave(metadata_omit=["scopes_supported"])
    assert "scopes_supported" not in http.get(url).json()


@pytest.mark.mockidp(issuer="/tenant1")
def test_metadata_only_at_answers_404_elsewhere(mockidp: MockIdP, http: requests.Session) -> None:
    origin = mockidp.issuer.removesuffix("/tenant1")
    inserted = f"{origin}/.well-known/oauth-authorization-server/tenant1"
    appended = f"{origin}/tenant1/.well-known/openid-configuration"
    assert http.get(inserted).status_code == 200 and http.get(appended).status_code == 200
    mockidp.misbehave(metadata_only_at=["{issuer_path}/.well-known/openid-configuration"])
    assert http.get(appended).json()["issuer"] == mockidp.issuer
    missing = http.get(inserted)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert http.get(f"{origin}/.well-known/openid-configuration/tenant1").status_code == 404


def test_iss_variant_is_the_issuer_with_a_trailing_slash(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.misbehave(authorization_iss="variant")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 43).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "scope": "openid",
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert parse_qs(urlsplit(r.headers["Location"]).query)["iss"] == [mockidp.issuer + "/"]


def test_registered_scope_ignored_lets_a_client_ask_beyond_its_registration(
    mockidp: MockIdP, http: requests.Session
) -> None:
    body = {"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none", "scope": "openid"}
    assert http.post(mockidp.url("register"), json=body).json()["scope"] == "openid"
    mockidp.misbehave(registered_scope_ignored=True)
    wide = http.post(mockidp.url("register"), json=body).json()["scope"].split()
    assert {"openid", "profile", "offline_access"} <= set(wide)


def test_bad_switch_values_are_config_errors(mockidp: MockIdP) -> None:
    with pytest.raises(ConfigError, match="metadata_omit"):
        mockidp.misbehave(metadata_omit="scopes_supported")
