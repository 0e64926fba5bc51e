"""Which user claims a set of granted scopes releases (OpenID Connect Core section 5.4).

Shared by the ID token and the UserInfo endpoint so both always release the same claims.
Claims a config adds that no standard scope names (``groups``, ``tenant``...) are custom
and released with ``openid``, so tests can put anything they need into identity tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .config import UserConfig

SCOPE_CLAIMS: Mapping[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}

STANDARD_CLAIMS = frozenset(c for claims in SCOPE_CLAIMS.values() for c in claims)
#: claims the IdP sets itself; a user's configured claims never override them
PROTOCOL_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "nonce", "auth_time", "at_hash", "acr", "amr"}
)
#: set only when the IdP has sign-in levels (``acr_levels``)
SIGN_IN_CLAIMS = frozenset({"acr", "amr"})

SCOPE_DESCRIPTIONS: Mapping[str, str] = {
    "openid": "Sign you in and know who you are",
    "profile": "Your name and basic profile",
    "email": "Your email address",
    "address": "Your postal address",
    "phone": "Your phone number",
    "offline_access": "Stay connected when you are not here (refresh tokens)",
}


def user_claims(user: UserConfig, scopes: Iterable[str], requested: Iterable[str] = ()) -> dict[str, Any]:
    """The claims of ``user`` that ``scopes`` release (standard by scope, custom with openid),
    plus the ones the ``claims`` request parameter names (OIDC Core 5.5)."""
    granted = set(scopes)
    if "openid" not in granted:
        return {}
    released = {c for scope in granted for c in SCOPE_CLAIMS.get(scope, ())} | set(requested)
    out: dict[str, Any] = {}
    for name, value in user.claims.items():
        if name in PROTOCOL_CLAIMS:
            continue
        if name in released or name not in STANDARD_CLAIMS:
            out[name] = value
    return out


def supported_claims(with_levels: bool = False) -> list[str]:
    """Every claim this IdP can release, for ``claims_supported`` in the metadata.

    ``nbf`` is only protected from user claims, never put into an ID token or UserInfo
    answer, so it is not advertised (the metadata names only what is implemented); ``acr``
    and ``amr`` only when the IdP has sign-in levels.
    """
    protocol = PROTOCOL_CLAIMS - {"nbf"} - (set() if with_levels else SIGN_IN_CLAIMS)
    return sorted(protocol | STANDARD_CLAIMS)
