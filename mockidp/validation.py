"""Validating tokens this IdP issued: access tokens (userinfo, introspection) and ID token hints.

One function per token kind so every endpoint accepts and refuses the same tokens:
signature by a key in the IdP's ring (with that key's algorithm only), exact ``iss``,
times read from ``state.clock``, the expected ``typ``, and the revocation list.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidToken
from .state import IdPState
from .tokens import ACCESS_TOKEN_TYP, TokenVerificationError, verify_signature

#: clock skew tolerated on ``nbf``/``iat`` (the IdP's own clock is the reference)
LEEWAY = 5


def _verified(state: IdPState, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header, claims = verify_signature(token, state.keys.find)
    except TokenVerificationError as exc:
        raise InvalidToken(f"the token is not valid: {exc}") from None
    if claims.get("iss") != state.issuer:
        raise InvalidToken("the token was issued by another issuer")
    return header, claims


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    # 1e309 parses as infinity: an `exp` that would never come
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken(f"the token has no valid '{name}' claim")
    return float(value)


def validate_access_token(state: IdPState, token: str) -> dict[str, Any]:
    """The claims of a valid, unexpired, unrevoked RFC 9068 access token from this IdP.

    Raises :class:`InvalidToken` (401 ``invalid_token``) for anything else.
    """
    header, claims = _verified(state, token)
    if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYP, f"application/{ACCESS_TOKEN_TYP}"):
        raise InvalidToken("the token is not an access token (typ must be at+jwt)")
    now = state.clock.now()
    if _number(claims, "exp") <= now:
        raise InvalidToken("the access token has expired")
    if "nbf" in claims and _number(claims, "nbf") > now + LEEWAY:
        raise InvalidToken("the access token is not valid yet")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not isinstance(claims.get("sub"), str):
        raise InvalidToken("the access token lacks 'jti' or 'sub'")
    if state.store.is_revoked(jti):
        raise InvalidToken("the access token has been revoked")
    return claims


def validate_id_token_hint(state: IdPState, token: str) -> dict[str, Any]:
    """The claims of an ID token this IdP signed; expiry is ignored (RP-Initiated Logout 1.0 §2)."""
    header, claims = _verified(state, token)
    if str(header.get("typ", "JWT")).upper() != "JWT":
        raise InvalidToken("id_token_hint is not an ID token")
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("aud"), str | list):
        raise InvalidToken("id_token_hint lacks 'sub' or 'aud'")
    return claims


def id_token_audience(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud or [] if isinstance(a, str)]
