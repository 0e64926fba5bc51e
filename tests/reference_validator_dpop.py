"""The reference validator's DPoP half: a careful resource server's RFC 9449 §7.1 checks.

Written from the RFC with PyJWT and cryptography, independent of mockidp (``mockidp.dpop``,
``mockidp.verify``): the access token is validated by ``reference_validator``, then the request's
scheme and proof by §4.3 in order. The reason codes are the DPoP catalog's ``check`` codes:
dpop-scheme, dpop-proof, dpop-typ, dpop-signature, dpop-htm, dpop-htu, dpop-iat, dpop-nonce,
dpop-ath, dpop-jkt, dpop-jti. Every refusal is 401; ``use_dpop_nonce`` for the nonce, else
``invalid_dpop_proof`` (or ``invalid_token`` for a bound token sent as Bearer).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from reference_validator import AccessPolicy, Verdict, validate_access_token

ASYMMETRIC = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA")
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
WINDOW = 60


class _Reject(Exception):
    def __init__(self, reason: str, error: str = "invalid_dpop_proof") -> None:
        super().__init__(reason)
        self.reason, self.error = reason, error


@dataclass
class DPoPPolicy:
    """A resource server that requires DPoP: its clock, jti memory and (optionally) its nonce."""

    access: AccessPolicy
    now: Callable[[], float]
    nonce: str | None = None
    seen_jti: set[str] = field(default_factory=set)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: the required members only, lexicographic order, no whitespace, SHA-256."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[
        jwk["kty"]
    ]
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("utf-8")).digest())


def _origin_path(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = None if parts.port == default else parts.port
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path or "/"


def validate_dpop_request(
    method: str, url: str, authorization: str, proofs: list[str], policy: DPoPPolicy
) -> Verdict:
    """Whether a DPoP-requiring API accepts the request; the first failed check as the reason."""
    scheme, _, token = authorization.partition(" ")
    verdict = validate_access_token(token, policy.access)
    if not verdict.ok:
        return verdict
    claims = verdict.claims
    try:
        jkt = (claims.get("cnf") or {}).get("jkt")
        if scheme.lower() != "dpop":
            raise _Reject("dpop-scheme", "invalid_token")
        if len(proofs) != 1:
            raise _Reject("dpop-proof")
        proof = proofs[0]
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError:
            raise _Reject("dpop-proof") from None
        if header.get("typ") != "dpop+jwt":
            raise _Reject("dpop-typ")
        jwk = header.get("jwk")
        if header.get("alg") not in ASYMMETRIC or not isinstance(jwk, dict):
            raise _Reject("dpop-signature")
        if any(m in jwk for m in PRIVATE_MEMBERS):
            raise _Reject("dpop-signature")
        try:
            key = jwt.PyJWK(jwk, algorithm=header["alg"]).key
            payload = jwt.decode(proof, key, algorithms=[header["alg"]], options={"verify_aud": False})
        except (jwt.PyJWTError, ValueError, KeyError):
            raise _Reject("dpop-signature") from None
        if payload.get("htm") != method:
            raise _Reject("dpop-htm")
        if not isinstance(payload.get("htu"), str) or _origin_path(payload["htu"]) != _origin_path(url):
            raise _Reject("dpop-htu")
        iat = payload.get("iat")
        if not isinstance(iat, int | float) or abs(iat - policy.now()) > WINDOW:
            raise _Reject("dpop-iat")
        if policy.nonce is not None and payload.get("nonce") != policy.nonce:
            raise _Reject("dpop-nonce", "use_dpop_nonce")
        expected_ath = _b64(hashlib.sha256(token.encode("ascii")).digest())
        if payload.get("ath") != expected_ath:
            raise _Reject("dpop-ath")
        if jkt is None or jwk_thumbprint(jwk) != jkt:
            raise _Reject("dpop-jkt")
        jti = payload.get("jti")
        if not isinstance(jti, str) or jti in policy.seen_jti:
            raise _Reject("dpop-jti")
        policy.seen_jti.add(jti)
    except _Reject as exc:
        return Verdict(False, exc.reason, 401, exc.error)
    return Verdict(True, claims=claims)
