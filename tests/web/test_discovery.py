"""Discovery metadata (RFC 8414 / OIDC Discovery): exact issuer, only what is implemented."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mockidp import MockIdP


def both_documents(idp: MockIdP, http: requests.Session) -> list[dict[str, Any]]:
    docs = []
    for url in (idp.metadata_url, idp.oauth_metadata_url):
        r = http.get(url)
        assert r.status_code == 200, url
        assert r.headers["Content-Type"].startswith("application/json")
        docs.append(r.json())
    return docs


def test_both_documents_are_identical_and_exact(mockidp: MockIdP, http: requests.Session) -> None:
    oidc, oauth = both_documents(mockidp, http)
    assert oidc == oauth
    assert oidc["issuer"] == mockidp.issuer  # exactly, no trailing slash added
    assert not oidc["issuer"].endswith("/")
    assert oidc["token_endpoint"] == mockidp.token_endpoint
    assert oidc["jwks_uri"] == mockidp.jwks_uri


def test_advertises_only_what_is_implemented(mockidp: MockIdP, http: requests.Session) -> None:
    from mockidp.flows import GRANTS

    doc = both_documents(mockidp, http)[0]
    assert "plain" not in doc.get("code_challenge_methods_supported", [])
    assert "implicit" not in doc["grant_types_supported"]
    assert "password" not in doc["grant_types_supported"]
    # the assertion grants need config (trusted issuers, clients allowed to use them)
    optional = {
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    }
    assert set(doc["grant_types_supported"]) == set(GRANTS) - optional
    assert "client_credentials" in doc["grant_types_supported"]
    for response_type in doc["response_types_supported"]:
        assert "token" not in response_type.split()  # no implicit or hybrid
    assert set(doc["token_endpoint_auth_methods_supported"]) <= {
        "client_secret_basic",
        "client_secret_post",
        "none",
        "private_key_jwt",
    }
    assert {"demo-api:read", "demo-api:write"} <= set(doc["scopes_supported"])
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


def test_every_advertised_endpoint_is_served(mockidp: MockIdP, http: requests.Session) -> None:
    """An ``*_endpoint`` or ``*_uri`` in the document must not 404 (it may refuse a bare GET)."""
    doc = both_documents(mockidp, http)[0]
    urls = {k: v for k, v in doc.items() if k.endswith(("_endpoint", "_uri")) and isinstance(v, str)}
    assert {"token_endpoint", "jwks_uri"} <= set(urls)
    for name, url in urls.items():
        assert url.startswith(mockidp.issuer + "/"), name
        r = http.request("POST" if name in ("token_endpoint", "registration_endpoint") else "GET", url)
        assert r.status_code != 404, name


def test_head_and_post_are_refused_cleanly(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.metadata_url)
    assert r.status_code == 405
    assert r.json()["error"] == "invalid_request"
    assert "GET" in r.headers["Allow"]


def test_unknown_path_is_a_json_404(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.get(mockidp.url("nope"))
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


@pytest.mark.mockidp(issuer="/tenant-a")
def test_path_issuer_documents(mockidp: MockIdP, http: requests.Session) -> None:
    oidc, oauth = both_documents(mockidp, http)
    assert oidc == oauth
    assert oidc["issuer"] == f"{mockidp.base_url}/tenant-a"
    assert oidc["token_endpoint"] == f"{mockidp.base_url}/tenant-a/token"
    assert mockidp.oauth_metadata_url == f"{mockidp.base_url}/.well-known/oauth-authorization-server/tenant-a"
    assert mockidp.metadata_url == f"{mockidp.base_url}/tenant-a/.well-known/openid-configuration"
    other = http.get(f"{mockidp.base_url}/.well-known/oauth-authorization-server/tenant-b")
    assert other.status_code == 404


def test_jwks_document(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.get(mockidp.jwks_uri)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/jwk-set+json")
    (key,) = r.json()["keys"]
    assert key["kid"] == mockidp.signing_key.kid
    assert (key["alg"], key["use"], key["kty"]) == ("RS256", "sig", "RSA")
    assert "d" not in key and "p" not in key  # public only
