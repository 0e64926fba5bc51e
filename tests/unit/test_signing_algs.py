"""Every selectable signing algorithm: JWKS entry complete, tokens verify with PyJWT."""

from __future__ import annotations

import jwt
import pytest
import requests

from mockidp import MockIdP
from mockidp.demo import demo_config

KTY = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_token_verifies_with_pyjwt(alg: str, http: requests.Session) -> None:
    with MockIdP(demo_config(), signing_alg=alg) as idp:
        (key,) = http.get(idp.jwks_uri).json()["keys"]
        assert key["kty"] == KTY[alg]
        assert (key["alg"], key["use"]) == (alg, "sig")
        assert key["kid"] == idp.signing_key.kid
        if alg == "EdDSA":
            assert key["crv"] == "Ed25519"
        r = http.post(
            idp.token_endpoint,
            data={"grant_type": "client_credentials", "resource": "demo-api"},
            auth=("demo-agent", "demo-agent-secret"),
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        header = jwt.get_unverified_header(token)
        assert (header["alg"], header["kid"], header["typ"]) == (alg, key["kid"], "at+jwt")
        signing_key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=[alg],
            audience="demo-api",
            issuer=idp.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
        assert claims["client_id"] == "demo-agent"
        assert idp.state.journal  # requests were served
        wrong = "RS256" if alg != "RS256" else "ES256"
        with pytest.raises(jwt.InvalidTokenError):
            jwt.decode(token, signing_key.key, algorithms=[wrong], audience="demo-api")


def test_consecutive_idps_do_not_share_key_material(http: requests.Session) -> None:
    with MockIdP(demo_config()) as first, MockIdP(demo_config()) as second:
        token = first.issue_token(client_id="demo-agent")
        assert first.signing_key.kid != second.signing_key.kid
        other = jwt.PyJWK(second.jwks()["keys"][0])
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, other.key, algorithms=["RS256"], audience="demo-api")
