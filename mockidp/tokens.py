"""Token minting: pure functions from claims and a key to a compact JWS.

Access tokens follow RFC 9068 (``typ: at+jwt``), ID tokens OpenID Connect Core section 2.
Nothing here touches the network or the store, so tokens can be minted without HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from .keys import SigningKey

ACCESS_TOKEN_TYP = "at+jwt"


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def opaque_token(prefix: str) -> str:
    """A random opaque token (refresh tokens, codes), with a prefix that says what it is."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def audience_claim(audiences: Sequence[str]) -> str | list[str]:
    """A single audience as a string, several as an array (RFC 7519 section 4.1.3)."""
    return audiences[0] if len(audiences) == 1 else list(audiences)


def access_token_claims(
    *,
    issuer: str,
    subject: str,
    audiences: Sequence[str],
    client_id: str,
    scope: Sequence[str],
    now: float,
    ttl: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of an RFC 9068 access token (section 2.2)."""
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience_claim(audiences),
        "exp": issued + ttl,
        "iat": issued,
        "nbf": issued,
        "jti": new_jti(),
        "client_id": client_id,
        "scope": " ".join(scope),
    }
    if extra:
        claims.update(extra)
    return claims


def id_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    now: float,
    ttl: int,
    auth_time: float,
    nonce: str | None,
    access_token: str | None,
    alg: str,
    user_claims: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of an OpenID Connect ID token (Core section 2, 3.1.3.6)."""
    issued = int(now)
    claims: dict[str, Any] = dict(user_claims or {})
    claims.update(
        {
            "iss": issuer,
            "sub": subject,
            "aud": client_id,
            "azp": client_id,
            "exp": issued + ttl,
            "iat": issued,
            "auth_time": int(auth_time),
            "jti": new_jti(),
        }
    )
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = token_hash(access_token, alg)
    return claims


def token_hash(value: str, alg: str) -> str:
    """``at_hash``/``c_hash``: left half of the hash that matches the signing alg (OIDC 3.1.3.6)."""
    digest = hashlib.sha512 if alg in ("EdDSA", "Ed25519") else hashlib.sha256
    raw = digest(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw[: len(raw) // 2]).rstrip(b"=").decode("ascii")


def sign(
    claims: Mapping[str, Any],
    key: SigningKey,
    *,
    typ: str | None = "JWT",
    header: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` with ``key``; the header carries ``alg``, ``kid`` and ``typ``."""
    protected: dict[str, Any] = {"alg": key.alg, "kid": key.kid}
    if typ is not None:
        protected["typ"] = typ
    if header:
        protected.update(header)
    with warnings.catch_warnings():
        # EdDSA is deprecated by RFC 9864 but still what most validators know; it is opt-in.
        warnings.simplefilter("ignore")
        return jwt.encode(protected, dict(claims), key.key, algorithms=[key.alg], default_type=None)


#: tokens longer than this are refused before any parsing (bounded work for hostile input)
MAX_TOKEN_LENGTH = 16 * 1024


class TokenVerificationError(ValueError):
    """A token is not a well-formed compact JWS signed by one of the expected keys."""


def verify_signature(
    token: str, find_key: Callable[[str], SigningKey | None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS against the key its ``kid`` names; returns (header, claims).

    Only the named key with its own algorithm is tried (RFC 8725 section 3.1), so ``none``,
    HMAC confusion and embedded ``jwk`` headers can never verify. Claims are not checked here.
    """
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenVerificationError("not a compact JWS")
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise TokenVerificationError("malformed JOSE header") from None
    if not isinstance(header, dict) or not isinstance(header.get("kid"), str):
        raise TokenVerificationError("the header names no key")
    if "crit" in header:
        raise TokenVerificationError("unsupported critical header parameters")
    key = find_key(header["kid"])
    if key is None or header.get("alg") != key.alg:
        raise TokenVerificationError("not signed by a key of this issuer")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            decoded = jwt.decode(token, key.key, algorithms=[key.alg])
    except (JoseError, ValueError, TypeError):
        raise TokenVerificationError("bad signature or payload") from None
    if not isinstance(decoded.claims, dict):
        raise TokenVerificationError("the payload is not a JSON object")
    return dict(decoded.header), dict(decoded.claims)
