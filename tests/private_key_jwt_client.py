"""A ``private_key_jwt`` client for the tests, built with PyJWT and cryptography (not mockidp).

``SignedClient.assertion(**changes)`` signs an RFC 7523 client assertion that is correct unless
``changes`` say otherwise: a claim set to ``DROP`` is left out, ``header`` replaces header fields.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DROP = object()
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def public_jwk(key: PrivateKey, alg: str, kid: str | None) -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name(alg)
    data: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    data.update({"alg": alg, "use": "sig"})
    if kid is not None:
        data["kid"] = kid
    return data


def new_key(alg: str) -> PrivateKey:
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class SignedClient:
    client_id: str
    audience: str
    alg: str = "ES256"
    kid: str | None = "k1"
    key: PrivateKey = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.key is None:
            self.key = new_key(self.alg)

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.alg, self.kid)]}

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.audience,
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not DROP}

    def assertion(self, *, header: dict[str, Any] | None = None, key: Any = None, **changes: Any) -> str:
        headers = {"kid": self.kid} if self.kid is not None else {}
        headers.update(header or {})
        alg = headers.pop("alg", self.alg)
        return jwt.encode(self.claims(**changes), key if key is not None else self.key, alg, headers=headers)

    def form(self, assertion: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion if assertion is not None else self.assertion(),
            **extra,
        }
