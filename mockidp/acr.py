"""Sign-in levels: ``acr`` (OIDC Core 2), ``amr`` (RFC 8176) and step-up (RFC 9470).

``acr_levels`` in the config names the levels weakest first (``[pwd, mfa, hwk]``). A sign-in
happens at one level: the first of the request's ``acr_values`` that is a level, else the
weakest. Its ``amr`` lists that level and every weaker one (a ``mfa`` sign-in also used a
password). A level satisfies a requirement when it is at least as strong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def choose_level(levels: Sequence[str], requested: Sequence[str]) -> str | None:
    """The level a sign-in happens at: the first requested one the IdP knows, else the weakest."""
    if not levels:
        return None
    for value in requested:
        if value in levels:
            return value
    return levels[0]


def amr_for(levels: Sequence[str], acr: str) -> list[str]:
    """The authentication methods of a sign-in at ``acr``: that level and the weaker ones."""
    if acr not in levels:
        return [acr]
    return list(levels[: levels.index(acr) + 1])


def satisfies(levels: Sequence[str], have: str | None, need: str) -> bool:
    """Whether a sign-in at ``have`` is at least as strong as ``need``."""
    if have is None or have not in levels or need not in levels:
        return have == need and have is not None
    return levels.index(have) >= levels.index(need)


def sign_in_claims(levels: Sequence[str], auth_time: float, acr: str | None) -> dict[str, Any]:
    """``auth_time``, and ``acr``/``amr`` when the IdP has levels (RFC 9068 section 2.2.1)."""
    claims: dict[str, Any] = {"auth_time": int(auth_time)}
    if acr is not None and levels:
        claims["acr"] = acr
        claims["amr"] = amr_for(levels, acr)
    return claims
