"""RFC 7591 application_type and private_key_jwt registration, and RFC 7592 client management.

All over real HTTP: register, then read, update and delete the registration with its
registration access token; every call with a wrong, missing or another client's token is a 401.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from private_key_jwt_client import SignedClient, public_jwk

from mockidp import MockIdP

CC = {"grant_types": ["client_credentials"], "scope": "demo-api:read"}


def register(idp: MockIdP, http: requests.Session, metadata: Any) -> requests.Response:
    return http.post(idp.url("register"), json=metadata)


def manage(
    http: requests.Session, method: str, info: dict[str, Any], token: str | None = None, body: Any = None
) -> requests.Response:
    token = info["registration_access_token"] if token is None else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.request(method, info["registration_client_uri"], headers=headers, json=body)


@pytest.fixture
def registered(mockidp: MockIdP, http: requests.Session) -> dict[str, Any]:
    r = register(mockidp, http, {**CC, "client_name": "agent 7"})
    assert r.status_code == 201, r.text
    info: dict[str, Any] = r.json()
    return info


# --- application_type ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app_type", "uri", "ok"),
    [
        ("native", "http://127.0.0.1/cb", True),
        ("native", "http://[::1]:8080/cb", True),
        ("native", "com.example.app:/cb", True),
        ("native", "https://app.example/cb", True),  # RFC 8252 section 7.2 claimed https
        ("native", "http://app.example/cb", False),
        ("web", "https://app.example/cb", True),
        ("web", "http://127.0.0.1:3000/cb", True),  # a web app under development, on loopback
        ("web", "com.example.app:/cb", False),
        ("web", "http://app.example/cb", False),
    ],
)
def test_application_type_redirect_rules(
    mockidp: MockIdP, http: requests.Session, app_type: str, uri: str, ok: bool
) -> None:
    metadata = {"application_type": app_type, "redirect_uris": [uri], "token_endpoint_auth_method": "none"}
    r = register(mockidp, http, metadata)
    if ok:
        assert r.status_code == 201, r.text
        assert r.json()["application_type"] == app_type
    else:
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_redirect_uri"


def test_application_type_defaults_to_web_and_refuses_other_values(
    mockidp: MockIdP, http: requests.Session
) -> None:
    r = register(
        mockidp, http, {"redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none"}
    )
    assert r.status_code == 400
    assert "application_type native" in r.json()["error_description"]
    r = register(mockidp, http, {**CC, "application_type": "desktop"})
    assert r.json()["error"] == "invalid_client_metadata"


# --- private_key_jwt -------------------------------------------------------------------------


def test_private_key_jwt_registration_with_jwks_then_a_token(
    mockidp: MockIdP, http: requests.Session
) -> None:
    signer = SignedClient("pending", mockidp.issuer)
    r = register(mockidp, http, {**CC, "token_endpoint_auth_method": "private_key_jwt", "jwks": signer.jwks})
    assert r.status_code == 201, r.text
    info = r.json()
    assert "client_secret" not in info
    assert info["token_endpoint_auth_method"] == "private_key_jwt"
    assert info["jwks"] == signer.jwks
    signer.client_id = info["client_id"]
    token = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "resource": "demo-api", **signer.form()},
    )
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({}, "needs jwks or jwks_uri"),
        ({"jwks": {"keys": []}}, "no usable signing key"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "public keys only"),
        ({"jwks": "not a set"}, "JWK Set"),
        ({"jwks_uri": "http://keys.example/jwks"}, "https URL"),
        ({"jwks_uri": "https://keys.example/jwks", "jwks": {"keys": []}}, "not both"),
        ({"jwks_uri": "https://"}, "https URL"),
        ({"jwks": {"keys": [{"kty": "EC", "crv": "P-256"}, "x"]}}, "JWK object with a kty"),
    ],
)
def test_private_key_jwt_registration_refusals(
    mockidp: MockIdP, http: requests.Session, extra: dict[str, Any], error: str
) -> None:
    r = register(mockidp, http, {**CC, "token_endpoint_auth_method": "private_key_jwt", **extra})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"
    assert error in r.json()["error_description"]


def test_a_private_key_in_jwks_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    r = register(
        mockidp, http, {**CC, "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [private]}}
    )
    assert r.status_code == 400
    assert "public keys only" in r.json()["error_description"]
    assert "d" not in public_jwk(key, "ES256", "k")


# --- RFC 7592 ------------------------------------------------------------------------------


def test_registration_response_carries_the_management_members(
    mockidp: MockIdP, registered: dict[str, Any]
) -> None:
    assert len(registered["registration_access_token"]) >= 32
    assert (
        registered["registration_client_uri"]
        == f"{mockidp.url('register')}?client_id={registered['client_id']}"
    )


def test_read_with_the_token(mockidp: MockIdP, http: requests.Session, registered: dict[str, Any]) -> None:
    r = manage(http, "GET", registered)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert r.json() == registered


def test_update_replaces_the_metadata_and_keeps_id_and_secret(
    mockidp: MockIdP, http: requests.Session, registered: dict[str, Any]
) -> None:
    update = {"client_id": registered["client_id"], **CC, "client_name": "agent 8", "scope": "demo-api:write"}
    r = manage(http, "PUT", registered, body=update)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["client_name"] == "agent 8"
    assert info["scope"] == "demo-api:write"
    assert info["client_secret"] == registered["client_secret"]
    assert info["client_id_issued_at"] == registered["client_id_issued_at"]
    assert mockidp.clients[registered["client_id"]].scopes == ("demo-api:write",)
    assert manage(http, "GET", registered).json()["client_name"] == "agent 8"


def test_update_to_private_key_jwt_drops_the_secret(
    mockidp: MockIdP, http: requests.Session, registered: dict[str, Any]
) -> None:
    signer = SignedClient(registered["client_id"], mockidp.issuer)
    update = {"client_id": registered["client_id"], **CC, "token_endpoint_auth_method": "private_key_jwt"}
    r = manage(http, "PUT", registered, body={**update, "jwks": signer.jwks})
    assert r.status_code == 200, r.text
    assert "client_secret" not in r.json()
    old_secret = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert old_secret.status_code == 401
    signed = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials", **signer.form()})
    assert signed.status_code == 200, signed.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "someone-else"}, "client_id must be the client's own"),
        ({"client_id": None}, "client_id must be the client's own"),
        ({"registration_access_token": "x"}, "must not send registration_access_token"),
        ({"client_id_issued_at": 1}, "must not send client_id_issued_at"),
        ({"client_secret": "guess"}, "client_secret differs"),
    ],
)
def test_update_refusals(
    http: requests.Session, registered: dict[str, Any], change: dict[str, Any], error: str
) -> None:
    body = {"client_id": registered["client_id"], **CC, **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = manage(http, "PUT", registered, body=body)
    assert r.status_code == 400, r.text
    assert error in r.json()["error_description"]


def test_delete_then_the_client_and_its_token_are_gone(
    mockidp: MockIdP, http: requests.Session, registered: dict[str, Any]
) -> None:
    credentials = (registered["client_id"], registered["client_secret"])
    issued = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=credentials)
    assert issued.status_code == 200, issued.text
    access_token = issued.json()["access_token"]
    demo_agent = ("demo-agent", "demo-agent-secret")
    introspect = mockidp.url("introspect")
    assert http.post(introspect, data={"token": access_token}, auth=demo_agent).json()["active"] is True
    r = manage(http, "DELETE", registered)
    assert r.status_code == 204
    assert registered["client_id"] not in mockidp.clients
    assert manage(http, "GET", registered).status_code == 401
    token = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert token.status_code == 401
    # RFC 7592 section 2.3: its tokens were invalidated with it
    assert http.post(introspect, data={"token": access_token}, auth=demo_agent).json() == {"active": False}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("token", ["wrong", "", "other client's"])
def test_without_the_right_token_every_call_is_401(
    mockidp: MockIdP, http: requests.Session, registered: dict[str, Any], method: str, token: str
) -> None:
    if token == "other client's":
        token = register(mockidp, http, CC).json()["registration_access_token"]
    body = {"client_id": registered["client_id"], **CC} if method == "PUT" else None
    r = manage(http, method, registered, token=token or "", body=body)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert registered["client_id"] in mockidp.clients


def test_a_configured_client_has_no_registration_to_manage(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.get(
        mockidp.url("register"), params={"client_id": "demo-agent"}, headers={"Authorization": "Bearer x"}
    )
    assert r.status_code == 401


def test_the_journal_redacts_the_registration_access_token(
    mockidp: MockIdP, http: requests.Session, registered: dict[str, Any]
) -> None:
    manage(http, "GET", registered)
    assert registered["registration_access_token"] not in http.get(mockidp.url("_mockidp/journal")).text


# --- fuzz ------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
VALID_JWK = public_jwk(ec.generate_private_key(ec.SECP256R1()), "ES256", "k1")
METADATA = st.fixed_dictionaries(
    {},
    optional={
        "application_type": st.sampled_from(["web", "native", "", "desktop"]) | JSON,
        "token_endpoint_auth_method": st.sampled_from(["private_key_jwt", "none", "client_secret_post"])
        | JSON,
        "jwks": st.fixed_dictionaries(
            {
                "keys": st.lists(
                    st.dictionaries(
                        st.sampled_from(["kty", "crv", "x", "y", "n", "e", "alg", "use", "d", "kid"]),
                        st.text(max_size=12),
                        max_size=6,
                    )
                    | st.just(VALID_JWK)
                    | JSON,
                    max_size=3,
                )
            }
        )
        | JSON,
        "jwks_uri": st.sampled_from(
            ["https://127.0.0.1:1/jwks", "http://x/jwks", "", "https://", "https://[::1"]
        )
        | JSON,
        "redirect_uris": st.lists(
            st.sampled_from(["http://127.0.0.1/cb", "com.example.app:/cb", "https://a.example/cb", "x"]),
            max_size=2,
        )
        | JSON,
        "grant_types": st.sampled_from([["client_credentials"], ["authorization_code"]]) | JSON,
        "client_id": JSON,
        "client_secret": JSON,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=METADATA)
def test_fuzz_registration_and_update_never_500(
    mockidp: MockIdP, http: requests.Session, registered: dict[str, Any], metadata: dict[str, Any]
) -> None:
    r = register(mockidp, http, metadata)
    assert r.status_code in (201, 400), r.text
    assert (
        r.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
        if r.status_code == 400
        else True
    )
    u = manage(http, "PUT", registered, body={**metadata, "client_id": registered["client_id"]})
    assert u.status_code in (200, 400), u.text
    if u.status_code == 400:
        assert u.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri", "invalid_request")
    assert not mockidp.state.server_errors.take()
