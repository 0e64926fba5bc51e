"""Certified and SDK clients authenticate with ``private_key_jwt`` against a real mockidp.

- openid-client (Node.js, an OpenID-certified relying party) against ``mockidp serve`` with a
  config file holding an ES256 public key as inline ``jwks``: discovery, client credentials and
  introspection, each authenticated with its own signed assertion (``aud`` = the issuer).
- pyoidc (``oic``, also certified) signs its assertion with ``aud`` = the token endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from openid_client_rp import NodeRPError, run_rp
from serving import ServeProcess

pytestmark = [pytest.mark.interop, pytest.mark.slow]

CLIENT = "signed-agent"


def private_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    return {**data, "kid": kid, "alg": "ES256"}


def public_of(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k != "d"} | {"use": "sig"}


KEY = ec.generate_private_key(ec.SECP256R1())
JWK = private_jwk(KEY, "rp-key-1")


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {
        "clients": [
            {
                "client_id": CLIENT,
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [public_of(JWK)]},
                "grant_types": ["client_credentials"],
                "scopes": ["demo-api:read"],
                "audiences": ["demo-api"],
            }
        ],
        "apis": [{"audience": "demo-api", "scopes": ["demo-api:read", "demo-api:write"]}],
    }
    path: Path = tmp_path_factory.mktemp("pkjwt") / "mockidp.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with ServeProcess("--port", "0", "--config", str(path)) as server:
        yield server.issuer


def test_openid_client_gets_a_token_with_an_es256_private_key_jwt(issuer: str) -> None:
    out = run_rp(
        "private_key_jwt.mjs",
        {
            "issuer": issuer,
            "client_id": CLIENT,
            "jwk": JWK,
            "resource": "demo-api",
            "scope": "demo-api:read",
            "introspect": True,
        },
    )
    tokens = out["tokens"]
    assert tokens["token_type"].lower() == "bearer"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == CLIENT
    assert claims["aud"] == "demo-api"
    assert out["introspection"]["active"] is True
    assert out["introspection"]["client_id"] == CLIENT


def test_openid_client_with_the_wrong_key_is_refused(issuer: str) -> None:
    other = private_jwk(ec.generate_private_key(ec.SECP256R1()), "rp-key-1")
    with pytest.raises(NodeRPError, match="invalid_client"):
        run_rp("private_key_jwt.mjs", {"issuer": issuer, "client_id": CLIENT, "jwk": other})


@pytest.mark.parametrize(("lifetime", "status"), [(60, 200), (600, 401)])
def test_pyoidc_private_key_jwt_assertion(issuer: str, lifetime: int, status: int) -> None:
    """pyoidc builds the assertion (``aud`` = [the token endpoint]); its default lifetime, 600 s, is
    refused: mockidp, like Auth0, takes at most 300 s."""
    pytest.importorskip("oic")
    from oic.oauth2.message import AccessTokenRequest
    from oic.oic import Client
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD
    from oic.utils.keyio import KeyBundle

    client = Client(client_id=CLIENT, client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(issuer)
    client.keyjar.add_kb("", KeyBundle(keys=[{**JWK, "use": "sig"}], keyusage=["sig"]))
    request = AccessTokenRequest(grant_type="client_credentials", scope=["demo-api:read"])
    client.init_authentication_method(
        request, "private_key_jwt", authn_endpoint="token", algorithm="ES256", lifetime=lifetime
    )
    claims = jwt.decode(request["client_assertion"], options={"verify_signature": False})
    assert claims["aud"] == [f"{issuer}/token"]  # an array: accepted, its only member being ours
    r = requests.post(f"{issuer}/token", data={**request.to_dict(), "resource": "demo-api"}, timeout=10)
    assert r.status_code == status, r.text
    if status == 401:
        assert "lifetime too long" in r.json()["error_description"]
