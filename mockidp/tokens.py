"""Token minting: pure functions from claims and a key to a compact JWS.

Access tokens follow RFC 9068 (``typ: at+jwt``), ID tokens OpenID Connect Core section 2.
Nothing here touches the network or the store, so tokens can be minted without HTTP.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
import secrets
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jwt

from . import base64url
from .keys import Signer, SigningKey

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
    return base64url.encode(raw[: len(raw) // 2])


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
    elif key.signer is not None:
        return _compact(protected, claims, key.signer)
    with warnings.catch_warnings():
        # EdDSA is deprecated by RFC 9864 but still what most validators know; it is opt-in.
        warnings.simplefilter("ignore")
        return jwt.encode(protected, dict(claims), key.key, algorithms=[key.alg], default_type=None)


#: joserfc's JSON settings for the two segments, made once (``json.dumps`` with arguments
#: builds an encoder per call)
_HEADER_JSON = json.JSONEncoder(separators=(",", ":"))
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _compact(protected: dict[str, Any], claims: Mapping[str, Any], signer: Signer) -> str:
    """The compact JWS joserfc's ``jwt.encode`` makes, byte for byte, signed by ``signer``.

    Same JSON (compact separators; an ASCII header, a UTF-8 payload), same conversion of
    ``datetime`` values of ``exp``/``iat``/``nbf``; without joserfc's per-call registry and
    key checks (``SigningKey`` settled those once) or its warnings filter.
    """
    payload = dict(claims)
    for name in ("exp", "iat", "nbf"):
        value = payload.get(name)
        if isinstance(value, datetime.datetime):
            payload[name] = calendar.timegm(value.utctimetuple())
    head = base64url.encode(_HEADER_JSON.encode(protected).encode("ascii"))
    body = base64url.encode(_PAYLOAD_JSON.encode(payload).encode("utf-8"))
    signing_input = f"{head}.{body}"
    return f"{signing_input}.{base64url.encode(signer(signing_input.encode('ascii')))}"
