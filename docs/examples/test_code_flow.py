"""Authorization code + PKCE with OpenID Connect, against the `mockidp` fixture (login: auto)."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt  # PyJWT
import requests

REDIRECT_URI = "http://127.0.0.1:8765/callback"  # demo-app registers http://127.0.0.1/callback: any port


def test_agent_signs_in_for_a_person(mockidp):
    meta = requests.get(mockidp.metadata_url).json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    # 1. The authorization request; login: auto answers at once for the first user (alice).
    r = requests.get(
        meta["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": "demo-app",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email offline_access demo-api:read",
            "state": "s1",
            "nonce": "n1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    answer = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert answer["state"] == "s1" and answer["iss"] == mockidp.issuer  # RFC 9207

    # 2. The token request: a public client sends client_id and the PKCE verifier.
    tokens = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": "demo-app",
        },
    ).json()

    # 3. Validate the ID token against the JWKS, as a relying party must.
    jwks = jwt.PyJWKSet.from_dict(requests.get(meta["jwks_uri"]).json())
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        tokens["id_token"], key.key, algorithms=["RS256"], audience="demo-app", issuer=mockidp.issuer
    )
    assert claims["sub"] == "alice" and claims["nonce"] == "n1"
    assert claims["email"] == "alice@example.com"
    assert "refresh_token" in tokens  # offline_access was granted


def test_a_replayed_code_is_refused(mockidp):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    r = requests.get(
        mockidp.url("authorize"),
        params={
            "response_type": "code",
            "client_id": "demo-app",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": "demo-app",
    }
    assert requests.post(mockidp.token_endpoint, data=data).status_code == 200
    replay = requests.post(mockidp.token_endpoint, data=data)
    assert replay.json()["error"] == "invalid_grant"
