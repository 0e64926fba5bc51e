"""RFC 7591 dynamic client registration over real HTTP, strict validation included."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mockidp import ClientConfig, MockIdP


def register(mockidp: MockIdP, http: requests.Session, metadata: Any) -> requests.Response:
    return http.post(mockidp.url("register"), json=metadata)


def test_metadata_advertises_registration_endpoint(mockidp: MockIdP, http: requests.Session) -> None:
    doc = http.get(mockidp.metadata_url).json()
    assert doc["registration_endpoint"] == mockidp.url("register")


def test_confidential_client_defaults_and_can_get_a_token(mockidp: MockIdP, http: requests.Session) -> None:
    r = register(mockidp, http, {"grant_types": ["client_credentials"], "client_name": "agent 7"})
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["token_endpoint_auth_method"] == "client_secret_basic"  # RFC 7591 section 2 default
    assert body["client_secret_expires_at"] == 0
    assert body["client_name"] == "agent 7"
    assert body["grant_types"] == ["client_credentials"]
    assert body["response_types"] == []
    assert isinstance(body["client_id_issued_at"], int)
    stored = mockidp.clients[body["client_id"]]
    assert isinstance(stored, ClientConfig)
    assert stored.client_secret == body["client_secret"]
    assert stored.auth_methods == ("client_secret_basic",)
    token = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "resource": "demo-api", "scope": "demo-api:read"},
        auth=(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200, token.text
    # registered for basic only: client_secret_post is refused
    post = http.post(
        mockidp.token_endpoint,
        data={
            "grant_type": "client_credentials",
            "client_id": body["client_id"],
            "client_secret": body["client_secret"],
        },
    )
    assert post.status_code == 401
    assert post.json()["error"] == "invalid_client"


def test_public_client_gets_no_secret(mockidp: MockIdP, http: requests.Session) -> None:
    r = register(
        mockidp,
        http,
        {
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["http://127.0.0.1:7777/cb", "https://app.example/cb", "com.example.app:/cb"],
            "scope": "openid demo-api:read",
            "application_type": "native",
            "unknown_extension": {"ignored": True},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert "client_secret" not in body and "client_secret_expires_at" not in body
    assert body["grant_types"] == ["authorization_code"]  # RFC 7591 default
    assert body["response_types"] == ["code"]
    assert body["scope"] == "openid demo-api:read"
    assert "unknown_extension" not in body
    client = mockidp.clients[body["client_id"]]
    assert client.is_public
    assert client.redirect_uris == tuple(body["redirect_uris"])
    assert client.audiences == ("demo-api",)


def test_default_scope_is_everything_offered(mockidp: MockIdP, http: requests.Session) -> None:
    body = register(mockidp, http, {"grant_types": ["client_credentials"]}).json()
    assert set(body["scope"].split()) >= {"demo-api:read", "demo-api:write", "openid"}


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/cb",  # plain http off loopback
        "https://app.example/cb#frag",
        "/relative/cb",
        "cb",
        "javascript:alert(1)",
        "https:///no-host",
        "http://[::1/cb",
    ],
)
def test_bad_redirect_uris(mockidp: MockIdP, http: requests.Session, uri: str) -> None:
    r = register(mockidp, http, {"redirect_uris": [uri]})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_redirect_uri"
    assert len(mockidp.clients) == 2  # nothing was registered


def test_code_grant_needs_redirect_uris(mockidp: MockIdP, http: requests.Session) -> None:
    r = register(mockidp, http, {})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "metadata",
    [
        {"grant_types": ["implicit"], "redirect_uris": ["https://a.example/cb"]},
        {"grant_types": ["password"]},
        {"grant_types": ["authorization_code"], "response_types": ["token"], "redirect_uris": ["https://a/"]},
        {"grant_types": ["client_credentials"], "response_types": ["code"]},
        {"grant_types": ["authorization_code"], "response_types": [], "redirect_uris": ["https://a/"]},
        {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"},
        {"grant_types": ["refresh_token"]},
        {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"},
        {"grant_types": ["client_credentials"], "jwks": {"keys": []}, "jwks_uri": "https://a/jwks"},
        {"grant_types": ["client_credentials"], "jwks": "not a set"},
        {"grant_types": ["client_credentials"], "jwks_uri": "http://a/jwks"},
        {"grant_types": "client_credentials"},
        {"grant_types": ["client_credentials"], "scope": ["demo-api:read"]},
        {"grant_types": ["client_credentials"], "scope": "admin:everything"},
        {"grant_types": ["client_credentials"], "client_name": 7},
        {"grant_types": ["client_credentials"], "contacts": "ops@example.com"},
        {"grant_types": ["client_credentials"], "application_type": "desktop"},
        [],
        "a string",
    ],
)
def test_bad_metadata(mockidp: MockIdP, http: requests.Session, metadata: Any) -> None:
    r = register(mockidp, http, metadata)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"
    assert len(mockidp.clients) == 2


def test_not_json(mockidp: MockIdP, http: requests.Session) -> None:
    form = http.post(mockidp.url("register"), data={"grant_types": "client_credentials"})
    assert form.status_code == 400
    assert form.json()["error"] == "invalid_request"
    broken = http.post(
        mockidp.url("register"), data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"] == "invalid_client_metadata"
    deep = http.post(
        mockidp.url("register"), data=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert deep.status_code == 400


def test_registered_client_disappears_on_reset(mockidp: MockIdP, http: requests.Session) -> None:
    body = register(mockidp, http, {"grant_types": ["client_credentials"]}).json()
    assert body["client_id"] in mockidp.clients
    mockidp.reset()
    assert body["client_id"] not in mockidp.clients


@pytest.mark.mockidp(dynamic_registration=False)
def test_registration_can_be_switched_off(mockidp: MockIdP, http: requests.Session) -> None:
    assert "registration_endpoint" not in http.get(mockidp.metadata_url).json()
    r = register(mockidp, http, {"grant_types": ["client_credentials"]})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_every_advertised_openid_scope_can_be_registered(mockidp: MockIdP, http: requests.Session) -> None:
    """A client that registers for scopes the metadata lists in scopes_supported is accepted."""
    offered = http.get(mockidp.metadata_url).json()["scopes_supported"]
    body = {"redirect_uris": ["http://127.0.0.1/cb"], "scope": " ".join(offered)}
    r = http.post(mockidp.url("register"), json=body)
    assert r.status_code == 201, r.text
    assert set(r.json()["scope"].split()) == set(offered)
