"""``tokens.sign`` signs with the bare ``cryptography`` call (``SigningKey.signer``), not joserfc.

The shortcut exists for throughput (docs/performance.md); these tests pin that it changes no
byte: deterministic algorithms give joserfc's exact token, the others verify with joserfc and
with PyJWT, and a key that joserfc would refuse or restrict still goes through joserfc.
"""

from __future__ import annotations

import base64
import datetime
import warnings
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.errors import UnsupportedKeyOperationError
from joserfc.jwk import RSAKey

from mockidp import base64url
from mockidp.keys import SigningKey, native_signer, pooled_key
from mockidp.tokens import sign

CLAIMS: dict[str, Any] = {
    "iss": "http://127.0.0.1:9/idp",
    "sub": "ålice",  # non-ASCII: the payload is UTF-8, not \\u-escaped, as joserfc writes it
    "aud": ["https://api.example", "other"],
    "exp": 1_800_000_300,
    "iat": 1_800_000_000,
    "jti": "j1",
    "scope": "read write",
}


def joserfc_token(key: SigningKey, claims: dict[str, Any], typ: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = {"alg": key.alg, "kid": key.kid, "typ": typ}
        return jwt.encode(header, dict(claims), key.key, algorithms=[key.alg], default_type=None)


def joserfc_claims(token: str, key: SigningKey) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dict(jwt.decode(token, key.key, algorithms=[key.alg]).claims)


@pytest.mark.parametrize("alg", ["RS256", "EdDSA", "Ed25519"])
def test_deterministic_algorithms_give_joserfcs_exact_token(alg: str) -> None:
    key = SigningKey(pooled_key(alg), alg)
    assert key.signer is not None
    assert sign(CLAIMS, key, typ="at+jwt") == joserfc_token(key, CLAIMS, "at+jwt")


@pytest.mark.parametrize("alg", ["PS256", "ES256"])
def test_randomised_algorithms_verify_with_joserfc_and_pyjwt(alg: str) -> None:
    key = SigningKey(pooled_key(alg), alg)
    assert key.signer is not None
    token = sign(CLAIMS, key, typ="at+jwt")
    # same header and payload segments as joserfc's token; only the signature differs
    assert token.rsplit(".", 1)[0] == joserfc_token(key, CLAIMS, "at+jwt").rsplit(".", 1)[0]
    assert joserfc_claims(token, key) == CLAIMS
    public = key.key.as_dict(private=False)
    decoded = pyjwt.decode(
        token,
        pyjwt.PyJWK(public, alg).key,
        algorithms=[alg],
        audience="other",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert decoded == CLAIMS
    assert pyjwt.get_unverified_header(token) == {"alg": alg, "kid": key.kid, "typ": "at+jwt"}


def test_datetime_times_are_converted_as_joserfc_does() -> None:
    key = SigningKey(pooled_key("RS256"), "RS256")
    moment = datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    claims = {**CLAIMS, "exp": moment}
    assert sign(claims, key) == joserfc_token(key, claims, "JWT")
    assert joserfc_claims(sign(claims, key), key)["exp"] == int(moment.timestamp())


def test_extra_header_parameters_still_go_through_joserfc() -> None:
    key = SigningKey(pooled_key("RS256"), "RS256")
    token = sign(CLAIMS, key, header={"jku": "https://example/jwks"})
    assert pyjwt.get_unverified_header(token)["jku"] == "https://example/jwks"
    assert joserfc_claims(token, key) == CLAIMS


def test_a_key_restricted_by_key_ops_is_left_to_joserfc() -> None:
    base = pooled_key("RS256")
    verify_only = RSAKey(base.raw_value, base.raw_value, {"kid": "v", "key_ops": ["verify"]})  # type: ignore[arg-type]
    key = SigningKey(verify_only, "RS256")
    assert key.signer is None
    with pytest.raises(UnsupportedKeyOperationError):
        sign(CLAIMS, key)


def test_a_key_that_does_not_fit_the_alg_has_no_native_signer() -> None:
    assert native_signer(pooled_key("ES256"), "RS256") is None
    assert native_signer(pooled_key("RS256"), "ES256") is None
    assert native_signer(pooled_key("RS256"), "HS256") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_base64url_encode_is_the_stdlibs_unpadded_urlsafe_form(data: bytes) -> None:
    assert base64url.encode(data) == base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    assert base64url.decode(base64url.encode(data)) == data
