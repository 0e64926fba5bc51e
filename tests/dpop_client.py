"""A hand-rolled DPoP client (RFC 9449 §4), written from the RFC with PyJWT and cryptography.

Independent of mockidp's code: the tests use it to send proofs the way a real client does, and
the reference validator's tests use it to build requests broken in one named way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


@dataclass
class DPoPKey:
    """An ES256 key pair: the public JWK goes in every proof's header."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64(_int_bytes(numbers.x, 32)),
            "y": b64(_int_bytes(numbers.y, 32)),
        }

    @property
    def jkt(self) -> str:
        """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
        canonical = json.dumps(self.jwk, separators=(",", ":"), sort_keys=True)
        return b64(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        """A proof for ``method url``; ``claims``/``header`` override, ``drop`` removes claims."""
        payload: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if iat is None else iat),
        }
        if access_token is not None:
            payload["ath"] = ath(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        return jwt.encode(payload, self.private, algorithm="ES256", headers=headers)


def ath(token: str) -> str:
    return b64(hashlib.sha256(token.encode("ascii")).digest())


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
