"""Hand-built compact JWS pieces, so unsafe tokens never need a widened joserfc registry.

Signatures with real keys go through joserfc's algorithm objects directly (no policy is
consulted or changed); ``none`` and HMAC-with-a-public-key are plain hashlib/hmac.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from typing import Any

from joserfc.jws import JWSRegistry

from ..base64url import decode as b64url_decode
from ..base64url import encode as b64url
from ..keys import Key

_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def dumps(value: Any) -> bytes:
    """Compact JSON, as most issuers write it."""
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def signing_input(header: bytes, payload: bytes) -> bytes:
    return f"{b64url(header)}.{b64url(payload)}".encode("ascii")


def compact(signing: bytes, signature: bytes) -> str:
    return f"{signing.decode('ascii')}.{b64url(signature)}"


def key_sign(data: bytes, key: Key, alg: str) -> bytes:
    """A real signature by ``key`` with ``alg`` (deprecated algs allowed, warnings kept local)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(JWSRegistry.algorithms[alg].sign(data, key))


def hmac_sign(data: bytes, secret: bytes, alg: str = "HS256") -> bytes:
    return hmac.new(secret, data, _HMAC[alg]).digest()


def decode_segment(token: str, index: int) -> Any:
    """A JSON segment of a compact token (for rewrites that need to look inside)."""
    return json.loads(b64url_decode(token.split(".")[index]))
