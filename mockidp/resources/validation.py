"""Access-token validation as strict as check-api expects a correct resource server to be.

This is one of the few modules that touch joserfc. Every step that a broken resource server
skips in the conformance corpus is here, in the order RFC 9068 section 4 gives them; the first
failure wins and becomes an ``invalid_token`` reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from ..state import IdPState

#: ``typ`` values RFC 9068 section 4 allows (media types compare case-insensitively)
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: header parameters that would make us trust a key or URL chosen by the token's author
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit")
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")
#: clock skew tolerated on exp/nbf/iat (RFC 9068 section 4: "a few minutes" at most)
LEEWAY = 60
MAX_TOKEN = 4096


class TokenRejected(Exception):
    """Why a bearer token is not acceptable; ``error`` is the RFC 6750 code."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True, slots=True)
class ValidToken:
    claims: Mapping[str, Any]

    @property
    def scopes(self) -> tuple[str, ...]:
        scope = self.claims.get("scope", "")
        return tuple(s for s in scope.split(" ") if s) if isinstance(scope, str) else ()


def validate_access_token(
    state: IdPState, token: str, audience: str | Collection[str], *, leeway: int = LEEWAY
) -> ValidToken:
    """Verify ``token`` for ``audience`` with the IdP's published keys, or raise TokenRejected.

    ``audience`` may name several identifiers of one resource (the IdP's userinfo accepts
    its issuer or its URL); ``aud`` must hold one of them. ``leeway`` is the clock skew
    tolerated on ``exp``/``nbf``/``iat``: 0 where the IdP's own clock is the reference.
    """
    if len(token) > MAX_TOKEN:
        raise TokenRejected("token too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("not a compact JWS")
    header = _json_segment(parts[0], "header")
    _check_header(header)
    signing = state.keys.find(str(header.get("kid")))
    if signing is None:
        raise TokenRejected("unknown kid")
    if header.get("alg") != signing.alg:
        raise TokenRejected(f"alg {header.get('alg')!r} is not the algorithm of key {signing.kid}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EdDSA deprecation, as in tokens.sign
            jws.deserialize_compact(token, signing.key, algorithms=[signing.alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenRejected(f"bad signature ({type(exc).__name__})") from None
    claims = _json_segment(parts[1], "payload")
    accepted = (audience,) if isinstance(audience, str) else tuple(audience)
    _check_claims(state, claims, accepted, leeway)
    return ValidToken(claims)


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    if not segment or any(c in segment for c in "+/= \n\r\t"):
        raise TokenRejected(f"{what} is not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise TokenRejected(f"{what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise TokenRejected(f"{what} is not a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate member {key!r}")
        out[key] = value
    return out


def _check_header(header: Mapping[str, Any]) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or alg.upper().startswith("HS"):
        raise TokenRejected(f"alg {alg!r} not allowed")
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise TokenRejected(f"header parameter {name!r} not accepted")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise TokenRejected(f"typ {typ!r} is not at+jwt")
    if "cty" in header or header.get("b64") is False or "zip" in header:
        raise TokenRejected("nested, unencoded or compressed tokens are not accepted")


def _check_claims(state: IdPState, claims: Mapping[str, Any], accepted: tuple[str, ...], leeway: int) -> None:
    for name in REQUIRED_CLAIMS:
        if name not in claims:
            raise TokenRejected(f"missing claim {name!r}")
    if claims["iss"] != state.issuer:
        raise TokenRejected("wrong issuer")
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not any(a in audiences for a in accepted):
        raise TokenRejected("token is not for this resource")
    if not all(isinstance(a, str) for a in audiences):
        raise TokenRejected("aud must hold strings")
    for name in ("sub", "client_id", "jti"):
        if not isinstance(claims[name], str):
            raise TokenRejected(f"claim {name!r} must be a string")
    if "scope" in claims and not isinstance(claims["scope"], str):
        raise TokenRejected("scope must be a space-delimited string")
    now = state.clock.now()
    if _time(claims, "exp") <= now - leeway:
        raise TokenRejected("token expired")
    if "nbf" in claims and _time(claims, "nbf") > now + leeway:
        raise TokenRejected("token not yet valid")
    if _time(claims, "iat") > now + leeway:
        raise TokenRejected("token issued in the future")
    if state.store.is_revoked(str(claims["jti"])):
        raise TokenRejected("token revoked")


def _time(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
        raise TokenRejected(f"claim {name!r} is not a NumericDate")
    return float(value)
