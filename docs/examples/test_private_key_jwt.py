"""private_key_jwt (RFC 7523): the client proves who it is with a JWT signed by its own key."""

import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_JWK = {
    **jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key(), as_dict=True),
    "kid": "k1",
    "alg": "ES256",
    "use": "sig",
}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNED_AGENT = {
    "client_id": "signed-agent",
    "token_endpoint_auth_method": "private_key_jwt",
    "jwks": {"keys": [PUBLIC_JWK]},  # or jwks_uri: https://... (fetched, cached, refetched on a new kid)
    "grant_types": ["client_credentials"],
    "scopes": ["demo-api:read"],
    "audiences": ["demo-api"],
}


def client_assertion(client_id, issuer):
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": issuer,  # the issuer (recommended) or the token endpoint URL
        "iat": now,
        "exp": now + 60,  # at most 300 s after iat
        "jti": uuid.uuid4().hex,  # a new one for every request
    }
    return jwt.encode(claims, KEY, "ES256", headers={"kid": "k1"})


@pytest.mark.mockidp(clients=[SIGNED_AGENT], apis=[{"audience": "demo-api", "scopes": ["demo-api:read"]}])
def test_a_signed_client_gets_a_token_once_per_assertion(mockidp):
    form = {
        "grant_type": "client_credentials",
        "resource": "demo-api",
        "scope": "demo-api:read",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion("signed-agent", mockidp.issuer),
    }
    r = requests.post(mockidp.token_endpoint, data=form)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"

    # The same assertion again is a replay: refused, with the failed check named.
    replay = requests.post(mockidp.token_endpoint, data=form)
    assert replay.status_code == 401
    assert replay.json() == {
        "error": "invalid_client",
        "error_description": "client assertion: jti was already used: an assertion is good for one request",
    }
