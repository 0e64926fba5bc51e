"""Third-party clients against ``mockidp serve``: Authlib, PyJWT, and pyoidc (OpenID certified RP).

Each client talks to a real ``mockidp serve`` subprocess on loopback; the tokens are validated
as RFC 9068 access tokens (iss, aud, exp, typ ``at+jwt``) by libraries that are not ours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from serving import ServeProcess

pytestmark = [pytest.mark.interop, pytest.mark.slow]

API = "https://inventory.example/api"
CONFIG = f"""\
clients:
  - client_id: inventory-agent
    client_secret: agent-secret
    scopes: [inventory:read]
    audiences: ["{API}"]
  - client_id: basic-only
    client_secret: basic-secret
    token_endpoint_auth_method: client_secret_basic
    scopes: [inventory:read]
    audiences: ["{API}"]
  - client_id: post-only
    client_secret: post-secret
    token_endpoint_auth_method: client_secret_post
    scopes: [inventory:read]
    audiences: ["{API}"]
apis:
  - audience: "{API}"
    scopes: [inventory:read, inventory:write]
  - audience: https://other.example
    scopes: [other:read]
"""


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("interop") / "idp.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    with ServeProcess("--port", "0", "--config", str(path)) as server:
        yield server.issuer
        assert server.stop() == 0


def validate_rfc9068(
    token: str, issuer: str, audience: str = API, expected_issuer: str | None = None
) -> dict[str, Any]:
    """What a careful resource server does, with PyJWT and its JWKS client."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"  # RFC 9068 section 4: reject other types
    key = jwt.PyJWKClient(f"{issuer}/jwks").get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=expected_issuer or issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )
    return claims


# --- Authlib -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "secret", "method"),
    [
        ("inventory-agent", "agent-secret", "client_secret_basic"),
        ("inventory-agent", "agent-secret", "client_secret_post"),
        ("basic-only", "basic-secret", "client_secret_basic"),
        ("post-only", "post-secret", "client_secret_post"),
    ],
)
def test_authlib_requests_session(issuer: str, client_id: str, secret: str, method: str) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    with OAuth2Session(client_id, secret, token_endpoint_auth_method=method, scope="inventory:read") as s:
        s.trust_env = False
        token = s.fetch_token(f"{issuer}/token", grant_type="client_credentials", resource=API)
    assert token["token_type"] == "Bearer"
    claims = validate_rfc9068(token["access_token"], issuer)
    assert claims["sub"] == claims["client_id"] == client_id
    assert claims["scope"] == "inventory:read"


def test_authlib_httpx_client_and_expiry_check(issuer: str) -> None:
    from authlib.integrations.httpx_client import OAuth2Client

    with OAuth2Client("inventory-agent", "agent-secret", trust_env=False) as client:
        token = client.fetch_token(f"{issuer}/token", grant_type="client_credentials", audience=API)
    claims = validate_rfc9068(token["access_token"], issuer)
    key = jwt.PyJWKClient(f"{issuer}/jwks").get_signing_key_from_jwt(token["access_token"])
    with pytest.raises(jwt.ExpiredSignatureError):  # PyJWT checks exp (seen from after expiry)
        jwt.decode(
            token["access_token"],
            key.key,
            algorithms=["RS256"],
            audience=API,
            options={"verify_iat": False, "verify_nbf": False},
            leeway=-(claims["exp"] - claims["iat"] + 1),
        )
    with pytest.raises(jwt.InvalidAudienceError):
        validate_rfc9068(token["access_token"], issuer, audience="https://other.example")
    with pytest.raises(jwt.InvalidIssuerError):
        validate_rfc9068(token["access_token"], issuer, expected_issuer=issuer + "/")


@pytest.mark.parametrize(
    ("auth", "params", "error"),
    [
        (("inventory-agent", "wrong"), {}, "invalid_client"),
        (("inventory-agent", "agent-secret"), {"scope": "inventory:write"}, "invalid_scope"),
        (("inventory-agent", "agent-secret"), {"resource": "https://unknown.example"}, "invalid_target"),
        (("inventory-agent", "agent-secret"), {"resource": "https://other.example"}, "invalid_target"),
    ],
)
def test_authlib_sees_rfc6749_errors(
    issuer: str, auth: tuple[str, str], params: dict[str, str], error: str
) -> None:
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    with OAuth2Session(*auth) as session:
        session.trust_env = False
        with pytest.raises(OAuthError) as info:
            session.fetch_token(f"{issuer}/token", grant_type="client_credentials", **params)
    assert info.value.error == error


# --- pyoidc (oic), an OpenID Certified relying-party library ---------------------------------


def oic_client(issuer: str, client_id: str, secret: str) -> Any:
    """Discover the provider with pyoidc; its token request class set to client credentials."""
    from oic.oauth2.message import CCAccessTokenRequest, MessageTuple
    from oic.oic import Client
    from oic.oic.message import AccessTokenResponse, OIDCMessageFactory, TokenErrorResponse
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    class ClientCredentialsFactory(OIDCMessageFactory):
        token_endpoint = MessageTuple(CCAccessTokenRequest, AccessTokenResponse)

    class ResourceIndicatorError(TokenErrorResponse):
        """pyoidc predates RFC 8707; teach it the ``invalid_target`` error code."""

        c_allowed_values = {"error": [*TokenErrorResponse.c_allowed_values["error"], "invalid_target"]}

    client = Client(client_authn_method=CLIENT_AUTHN_METHOD, message_factory=ClientCredentialsFactory)
    client.request2endpoint = {**client.request2endpoint, "CCAccessTokenRequest": "token_endpoint"}
    client.response2error = {**client.response2error, "AccessTokenResponse": [ResourceIndicatorError]}
    client.provider_config(issuer)  # discovery; raises on an issuer mismatch
    client.client_id, client.client_secret = client_id, secret
    return client


def oic_token(client: Any, method: str, scope: str = "inventory:read", resource: str = API) -> Any:
    return client.do_access_token_request(
        authn_method=method, request_args={"scope": scope}, extra_args={"resource": resource}
    )


@pytest.mark.parametrize(
    ("client_id", "secret", "method"),
    [
        ("basic-only", "basic-secret", "client_secret_basic"),
        ("post-only", "post-secret", "client_secret_post"),
    ],
)
def test_pyoidc_discovers_gets_and_verifies_token(
    issuer: str, client_id: str, secret: str, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    from jwkest.jws import JWS
    from oic.oic.message import AccessTokenResponse

    caplog.set_level(logging.ERROR, logger="oic")  # it warns that application/jwk-set+json != json
    client = oic_client(issuer, client_id, secret)
    assert client.provider_info["issuer"] == issuer
    assert client.token_endpoint == f"{issuer}/token"
    response = oic_token(client, method)
    assert isinstance(response, AccessTokenResponse), dict(response)
    token = response["access_token"]
    # pyoidc's own JOSE stack verifies the signature with the keys it fetched during discovery
    keys = client.keyjar.get_verify_key(owner=issuer)
    assert keys
    claims = JWS().verify_compact(token, keys)
    assert claims["iss"] == issuer
    assert claims["aud"] == API
    assert claims["client_id"] == claims["sub"] == client_id
    assert claims["scope"] == "inventory:read"
    assert validate_rfc9068(token, issuer) == claims


@pytest.mark.parametrize(
    ("secret", "scope", "resource", "error"),
    [
        ("wrong-secret", "inventory:read", API, "invalid_client"),
        ("basic-secret", "inventory:write", API, "invalid_scope"),
        ("basic-secret", "inventory:read", "https://unknown.example", "invalid_target"),
    ],
)
def test_pyoidc_errors(
    issuer: str, secret: str, scope: str, resource: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    from oic.oauth2.message import ErrorResponse

    caplog.set_level(logging.ERROR, logger="oic")
    client = oic_client(issuer, "basic-only", secret)
    response = oic_token(client, "client_secret_basic", scope=scope, resource=resource)
    assert isinstance(response, ErrorResponse)
    assert response["error"] == error


def test_pyoidc_wrong_auth_method_is_invalid_client(issuer: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="oic")
    client = oic_client(issuer, "basic-only", "basic-secret")
    assert oic_token(client, "client_secret_post")["error"] == "invalid_client"


def test_pyoidc_dynamic_registration(issuer: str, caplog: pytest.LogCaptureFixture) -> None:
    """pyoidc's RFC 7591 / OIDC registration request against our registration endpoint."""
    caplog.set_level(logging.ERROR, logger="oic")
    client = oic_client(issuer, "", "")
    response = client.register(
        client.registration_endpoint,
        redirect_uris=["http://127.0.0.1:8765/cb"],
        grant_types=["client_credentials"],
        response_types=[],
        scope="inventory:read",
    )
    assert response["client_id"].startswith("dcr-")
    assert client.client_secret == response["client_secret"]
    token = oic_token(client, "client_secret_basic")
    assert validate_rfc9068(token["access_token"], issuer)["client_id"] == response["client_id"]
