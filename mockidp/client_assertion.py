"""``private_key_jwt`` client authentication: the checks on a client assertion.

RFC 7523 §2.2 and §3, RFC 7521 §4.2, OpenID Connect Core §9. A client proves who it is with a
JWT it signed with its own private key. The IdP accepts it only if:

- ``iss`` and ``sub`` are both the client's ``client_id`` (and a ``client_id`` parameter, when
  sent, is the same);
- ``aud`` is the IdP's issuer (what draft-ietf-oauth-rfc7523bis recommends since the 2025
  audience-injection findings) or its token endpoint URL (RFC 7523 §3, OIDC Core §9); an array
  is accepted only if every member is one of those two, whichever endpoint receives it;
- ``exp`` is present, not past, and at most :data:`MAX_LIFETIME` seconds after ``iat`` (or
  after now, without ``iat``); ``nbf`` and ``iat`` are not in the future. Each time comparison
  allows :data:`LEEWAY` seconds of clock skew, and the IdP's (mock) clock is the reference;
- ``jti`` is present and used once: a replay within the assertion's lifetime is refused;
- the signature verifies with the client's key named by ``kid`` (or its only key), with the
  algorithm that key is pinned to (see :mod:`mockidp.client_keys`); never ``none`` or HMAC.

Every refusal is ``invalid_client`` whose description starts ``client assertion:`` and names the
failed check; it never repeats the assertion.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import base64url
from .client_keys import ASSERTION_ALGS
from .errors import InvalidClient, InvalidToken
from .keys import SigningKey
from .verify import verify_jws

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: the longest an assertion may live, ``exp`` minus ``iat`` (seconds)
MAX_LIFETIME = 300
#: clock skew tolerated between the client and the IdP (seconds)
LEEWAY = 30
#: longer assertions are refused before any parsing
MAX_ASSERTION = 8192


@dataclass(frozen=True, slots=True)
class AssertionAudience:
    """The values an assertion's ``aud`` may take at this IdP."""

    issuer: str
    token_endpoint: str

    def accepts(self, value: str) -> bool:
        return value in (self.issuer, self.token_endpoint)


def refused(check: str) -> InvalidClient:
    return InvalidClient(f"client assertion: {check}")


def check_assertion(
    assertion: str,
    client_id: str,
    find_key: Callable[[str], SigningKey | None],
    audience: AssertionAudience,
    now: float,
    use_once: Callable[[str, float], bool],
) -> dict[str, Any]:
    """The assertion's claims if every check passes, else :class:`InvalidClient` naming the check.

    ``find_key`` maps a ``kid`` (``""`` when the header names none) to the client's key;
    ``use_once(jti, until)`` records the ``jti`` and says whether it was new.
    """
    try:
        _, claims = verify_jws(
            assertion,
            find_key,
            max_length=MAX_ASSERTION,
            algs=frozenset(ASSERTION_ALGS),
            require_kid=False,
        )
    except InvalidToken as exc:
        raise refused(exc.description) from None
    if claims.get("iss") != client_id:
        raise refused("iss must be the client_id")
    if claims.get("sub") != client_id:
        raise refused("sub must be the client_id (the same as iss)")
    _check_audience(claims, audience)
    exp = _time(claims, "exp", required=True)
    assert exp is not None
    if exp <= now - LEEWAY:
        raise refused("expired (exp is in the past)")
    for name in ("nbf", "iat"):
        value = _time(claims, name)
        if value is not None and value > now + LEEWAY:
            raise refused(f"{name} is in the future")
    iat = _time(claims, "iat")
    start = iat if iat is not None else now
    if exp - start > MAX_LIFETIME + (0 if iat is not None else LEEWAY):
        since = "iat" if iat is not None else "now"
        lifetime = f"exp is {exp - start:.0f} s after {since}"
        raise refused(f"lifetime too long: {lifetime} (at most {MAX_LIFETIME} s)")
    jti = claims.get("jti")
    if jti is None:
        raise refused("jti is missing (a unique id makes the assertion single-use)")
    if not isinstance(jti, str) or not jti:
        raise refused("jti must be a non-empty string (a unique id makes the assertion single-use)")
    if not use_once(jti, exp + LEEWAY):
        raise refused("jti was already used: an assertion is good for one request")
    return claims


def unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The header and claims of an assertion, not verified (to find the client, and for the
    journal, which keeps them instead of the assertion); ``None`` if they cannot be read."""
    parts = assertion.split(".") if len(assertion) <= MAX_ASSERTION else []
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(base64url.decode_strict(p)) for p in parts[:2])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


def _check_audience(claims: dict[str, Any], audience: AssertionAudience) -> None:
    aud = claims.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    wanted = f"aud must be the issuer {audience.issuer} (or the token endpoint)"
    if not values or not all(isinstance(v, str) and audience.accepts(v) for v in values):
        raise refused(wanted)


def _time(claims: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    if name not in claims:
        if required:
            raise refused(f"{name} is missing")
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
        raise refused(f"{name} is not a NumericDate")
    return float(value)
