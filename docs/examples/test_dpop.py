"""DPoP (RFC 9449): a token bound to the client's key, useless to anyone without that key."""

import base64
import hashlib
import json
import secrets
import time

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DPoPKey:
    """The client's key pair; every request carries a fresh proof signed with it."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64(numbers.x.to_bytes(32, "big")),
            "y": b64(numbers.y.to_bytes(32, "big")),
        }
        canonical = json.dumps(self.jwk, separators=(",", ":"), sort_keys=True)  # RFC 7638
        self.jkt = b64(hashlib.sha256(canonical.encode()).digest())

    def proof(self, method, url, access_token=None):
        claims = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url, "iat": int(time.time())}
        if access_token:
            claims["ath"] = b64(hashlib.sha256(access_token.encode()).digest())
        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return jwt.encode(claims, self.private, algorithm="ES256", headers=headers)


def test_client_credentials_token_bound_to_the_key(mockidp, mockidp_apis):
    api = mockidp_apis["inventory"]
    api.require_dpop()  # this API takes only DPoP-bound tokens
    key = DPoPKey()

    # The token request carries a proof: the token comes back bound to the key.
    r = requests.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "resource": api.url, "scope": "inventory:read"},
        auth=("demo-agent", "demo-agent-secret"),
        headers={"DPoP": key.proof("POST", mockidp.token_endpoint)},
    )
    tokens = r.json()
    assert tokens["token_type"] == "DPoP"
    token = tokens["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["cnf"] == {"jkt": key.jkt}

    # Each API call: Authorization: DPoP <token>, and a new proof with the token's hash.
    ok = requests.get(
        api.url, headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", api.url, token)}
    )
    assert ok.status_code == 200

    # A thief with the token but not the key gets nowhere, as Bearer or with a key of their own.
    as_bearer = requests.get(api.url, headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    thief = DPoPKey()
    with_own_key = requests.get(
        api.url, headers={"Authorization": f"DPoP {token}", "DPoP": thief.proof("GET", api.url, token)}
    )
    assert with_own_key.status_code == 401
    assert 'error="invalid_dpop_proof"' in with_own_key.headers["WWW-Authenticate"]
