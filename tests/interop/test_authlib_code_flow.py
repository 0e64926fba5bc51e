"""Authlib's OAuth 2 client runs the whole user flow: code + PKCE S256, ID token, userinfo, refresh."""

from __future__ import annotations

import secrets

import jwt
import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from mockidp import MockIdP
from mockidp.tokens import token_hash

pytestmark = pytest.mark.interop

CALLBACK = "http://127.0.0.1:8765/callback"
SCOPE = "openid profile email offline_access demo-api:read"


def session() -> OAuth2Session:
    client = OAuth2Session(
        client_id="demo-app",
        redirect_uri=CALLBACK,
        scope=SCOPE,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    client.trust_env = False
    return client


def authorization_response(client: OAuth2Session, meta: dict[str, str], verifier: str, nonce: str) -> str:
    url, _state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    r = client.get(url, allow_redirects=False, withhold_token=True)
    assert r.status_code == 302, r.text
    return str(r.headers["Location"])


def test_authlib_code_pkce_id_token_userinfo_refresh(mockidp: MockIdP, http: requests.Session) -> None:
    meta = http.get(mockidp.metadata_url).json()
    client = session()
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    location = authorization_response(client, meta, verifier, nonce)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )

    jwks = jwt.PyJWKSet.from_dict(http.get(meta["jwks_uri"]).json())
    header = jwt.get_unverified_header(token["id_token"])
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims = jwt.decode(
        token["id_token"],
        key.key,
        algorithms=meta["id_token_signing_alg_values_supported"],
        audience="demo-app",
        issuer=meta["issuer"],
        options={"require": ["exp", "iat", "sub", "aud", "iss", "nonce"]},
    )
    assert claims["nonce"] == nonce
    assert claims["at_hash"] == token_hash(token["access_token"], header["alg"])

    userinfo = client.get(meta["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"] == "alice"
    assert userinfo["email"] == "alice@example.com"

    old_refresh = token["refresh_token"]
    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    assert client.get(meta["userinfo_endpoint"]).status_code == 200
    with pytest.raises(OAuthError) as caught:
        client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert caught.value.error == "invalid_grant"
    assert client.get(meta["userinfo_endpoint"]).status_code == 401  # the family is revoked


def test_authlib_wrong_verifier_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    meta = http.get(mockidp.metadata_url).json()
    client = session()
    location = authorization_response(client, meta, secrets.token_urlsafe(48), "n")
    with pytest.raises(OAuthError) as caught:
        client.fetch_token(
            meta["token_endpoint"], authorization_response=location, code_verifier=secrets.token_urlsafe(48)
        )
    assert caught.value.error == "invalid_grant"
