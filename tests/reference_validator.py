"""A strict reference validator: what a careful resource server (RFC 9068 §4) and RP (OIDC Core
§3.1.3.7) check, written independently of mockidp's minting code (PyJWT plus manual checks).

It answers with a :class:`Verdict` naming the first check that failed, so a test can prove a
defective token is rejected for exactly its stated reason and not by accident elsewhere.
Reason codes: size, malformed, jwe, base64, zip, nested, json, not-object, duplicate-key, crit, header-key,
kid, alg, signature, typ, claim-type, missing-claim, iss, aud, exp, nbf, iat, scope-format,
revoked, scope (the only 403), acr and auth-time (401 insufficient_user_authentication, RFC 9470,
for a policy that requires a sign-in level or a recent sign-in), act, act-depth and may-act (for
a policy on delegation, RFC 8693 §4), nonce, at-hash.

:func:`validate_id_jag` is what a careful resource authorization server checks of an ID-JAG
before redeeming it (draft-ietf-oauth-identity-assertion-authz-grant §5.1, RFC 7523 §3), each
refusal a 400 ``invalid_grant``: jag-iss, jag-typ, jag-aud, jag-client-id, jag-exp, jag-resource
(and the structure and signature codes above).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

MAX_TOKEN_BYTES = 4096
LEEWAY = 60
B64URL = re.compile(r"[A-Za-z0-9_-]*")
KEY_HEADERS = ("jku", "x5u", "jwk", "x5c")
ACCESS_TYPES = ("at+jwt", "application/at+jwt")
ACCESS_REQUIRED = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
ID_REQUIRED = ("iss", "sub", "aud", "exp", "iat")
NUMERIC = ("exp", "iat", "nbf", "auth_time")
STRINGS = ("iss", "sub", "client_id", "jti", "azp", "nonce")
#: multi-valued authorization claims (RFC 9068 §2.2.3.1, SCIM roles/groups/entitlements)
STRING_ARRAYS = ("roles", "groups", "entitlements")


#: the answers other than 401 invalid_token
STATUS = {
    "scope": (403, "insufficient_scope"),
    "acr": (401, "insufficient_user_authentication"),
    "auth-time": (401, "insufficient_user_authentication"),
}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None
    status: int = 200
    error: str | None = None
    detail: str = ""
    claims: dict[str, Any] = field(default_factory=dict)


class _Reject(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class _Duplicate(ValueError):
    pass


@dataclass(frozen=True)
class AccessPolicy:
    """What one resource server accepts."""

    issuer: str
    audience: str
    jwks: dict[str, Any]
    required_scope: Sequence[str] = ()
    #: asked last, for an otherwise valid token (introspection or a store lookup)
    is_active: Callable[[str, dict[str, Any]], bool] = lambda token, claims: True
    now: Callable[[], float] = time.time
    leeway: int = LEEWAY
    #: step-up (RFC 9470): the weakest acceptable ``acr`` among ``acr_levels``, and ``max_age``
    acr_levels: Sequence[str] = ()
    required_acr: str | None = None
    max_age: int | None = None
    #: delegation (RFC 8693 §4.1): whether an ``act`` claim is acceptable at all, and how many
    #: actors a chain may hold (``None``: no delegation policy, ``act`` is not looked at)
    allow_delegation: bool = True
    max_act_depth: int | None = None


def validate_access_token(token: str, policy: AccessPolicy) -> Verdict:
    try:
        header, claims = _verified(token, policy.jwks)
        _access_checks(token, header, claims, policy)
    except _Reject as exc:
        status, error = STATUS.get(exc.reason, (401, "invalid_token"))
        return Verdict(False, exc.reason, status, error, exc.detail)
    return Verdict(True, claims=claims)


def validate_id_token(
    token: str,
    *,
    issuer: str,
    client_id: str,
    jwks: dict[str, Any],
    nonce: str | None = None,
    access_token: str | None = None,
    now: Callable[[], float] = time.time,
) -> Verdict:
    """OIDC Core §3.1.3.7 plus at_hash (§3.1.3.8), for the ID-token defects."""
    try:
        header, claims = _verified(token, jwks)
        if str(header.get("typ", "JWT")).lower() not in ("jwt", "application/jwt"):
            raise _Reject("typ", str(header.get("typ")))
        _claim_types(claims)
        _required(claims, ID_REQUIRED)
        _issuer_audience(claims, issuer, client_id)
        if len(_audiences(claims)) > 1 and claims.get("azp") != client_id:
            raise _Reject("aud", "several audiences and azp is not the client")
        _times(claims, now(), LEEWAY)
        if nonce is not None and claims.get("nonce") != nonce:
            raise _Reject("nonce", repr(claims.get("nonce")))
        expected_hash = None if access_token is None else _left_hash(access_token, str(header["alg"]))
        if "at_hash" in claims and expected_hash is not None and claims["at_hash"] != expected_hash:
            raise _Reject("at-hash")
    except _Reject as exc:
        return Verdict(False, exc.reason, 401, "invalid_token", exc.detail)
    return Verdict(True, claims=claims)


# --- structure, header and signature -------------------------------------------------------


def _verified(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if len(token.encode("utf-8")) > MAX_TOKEN_BYTES:
        raise _Reject("size", f"{len(token)} bytes")
    parts = token.split(".")
    if len(parts) == 5:
        raise _Reject("jwe", "five segments: an encrypted token, not a JWS")
    if len(parts) != 3:
        raise _Reject("malformed", f"{len(parts)} segments")
    for part in parts:
        if not B64URL.fullmatch(part) or len(part) % 4 == 1:
            raise _Reject("base64", "a segment is not unpadded base64url")
    header = _json_object(parts[0])
    _payload_checks(header)
    claims = _json_object(parts[1])
    _header_checks(header)
    jwk = _key_for(header, jwks)
    _check_signature(token, jwk)
    return header, claims


def _json_object(segment: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Duplicate as exc:
        raise _Reject("duplicate-key", str(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Reject("json", str(exc)) from None
    if not isinstance(value, dict):
        raise _Reject("not-object", type(value).__name__)
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(f"duplicate member {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _payload_checks(header: dict[str, Any]) -> None:
    """What the header says about the payload, decided before the payload is decoded."""
    if "zip" in header:
        raise _Reject("zip", "zip is defined for JWE only; nothing is inflated")
    if str(header.get("cty", "")).lower() in ("jwt", "application/jwt"):
        raise _Reject("nested", "a JWT access token is not nested")


def _header_checks(header: dict[str, Any]) -> None:
    if "b64" in header and "crit" not in header:
        raise _Reject("crit", "b64 without crit (RFC 7797 §6)")
    if "crit" in header:
        raise _Reject("crit", f"no extension is understood: {header['crit']!r}")
    present = [k for k in KEY_HEADERS if k in header]
    if present:
        raise _Reject("header-key", f"key-locating header {present[0]!r} is never honoured")


def _key_for(header: dict[str, Any], jwks: dict[str, Any]) -> dict[str, Any]:
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise _Reject("kid", "no kid")
    for key in jwks.get("keys", []):
        if key.get("kid") == kid:
            if header.get("alg") != key.get("alg"):
                raise _Reject("alg", f"{header.get('alg')!r} is not the key's {key.get('alg')!r}")
            return dict(key)
    raise _Reject("kid", f"{kid!r} is not in the JWKS")


def _check_signature(token: str, jwk: dict[str, Any]) -> None:
    if jwk.get("alg") == "Ed25519":
        _check_ed25519(token, jwk)
        return
    key = jwt.PyJWK(jwk)
    try:
        jwt.PyJWS().decode_complete(token, key=key, algorithms=[str(jwk["alg"])])
    except jwt.InvalidSignatureError as exc:
        raise _Reject("signature", str(exc)) from None
    except jwt.PyJWTError as exc:
        raise _Reject("signature", f"{type(exc).__name__}: {exc}") from None


def _check_ed25519(token: str, jwk: dict[str, Any]) -> None:
    """RFC 9864's fully-specified ``Ed25519`` (PyJWT knows only ``EdDSA``): cryptography directly."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    head, payload, signature = token.split(".")
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4)))
    try:
        key.verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), f"{head}.{payload}".encode()
        )
    except InvalidSignature:
        raise _Reject("signature", "Ed25519 signature does not verify") from None


# --- claims ---------------------------------------------------------------------------------


def _access_checks(token: str, header: dict[str, Any], claims: dict[str, Any], policy: AccessPolicy) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TYPES:
        raise _Reject("typ", repr(typ))
    _claim_types(claims)
    _required(claims, ACCESS_REQUIRED)
    _issuer_audience(claims, policy.issuer, policy.audience)
    _times(claims, policy.now(), policy.leeway)
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise _Reject("scope-format", f"scope is a {type(scope).__name__}")
    _delegation(claims, policy)
    if not policy.is_active(token, claims):
        raise _Reject("revoked", "the issuer says the token is not active")
    missing = [s for s in policy.required_scope if s not in scope.split(" ")]
    if missing:
        raise _Reject("scope", f"missing {' '.join(missing)}")
    _step_up(claims, policy)


def _delegation(claims: dict[str, Any], policy: AccessPolicy) -> None:
    act = claims.get("act")
    if act is None:
        return
    if not policy.allow_delegation:
        raise _Reject("act", "this API allows no delegated tokens")
    if policy.max_act_depth is None:
        return
    depth, node = 0, act
    while isinstance(node, dict):
        depth, node = depth + 1, node.get("act")
    if node is not None or depth > policy.max_act_depth:
        raise _Reject("act-depth", f"{depth} actors, at most {policy.max_act_depth}")
    may_act = claims.get("may_act")
    if may_act is not None:
        named = may_act.items() if isinstance(may_act, dict) else [("", None)]
        if not all(act.get(k) == v for k, v in named):
            raise _Reject("may-act", f"act {act.get('sub')!r} is not named by may_act")


def validate_id_jag(
    token: str,
    *,
    trusted: dict[str, dict[str, Any]],
    issuer: str,
    client_id: str,
    resource: str,
    now: Callable[[], float] = time.time,
) -> Verdict:
    """A resource authorization server's checks of an ID-JAG; ``trusted`` maps IdP issuers to
    their JWKS, ``issuer`` is this AS's, ``client_id`` the authenticated client, ``resource``
    the one requested."""
    try:
        parts = token.split(".")
        if len(parts) != 3:
            raise _Reject("malformed", f"{len(parts)} segments")
        jwks = trusted.get(str(_json_object(parts[1]).get("iss")))  # which keys: only a trusted IdP's
        if jwks is None:
            raise _Reject("jag-iss", "not a trusted IdP")
        header, claims = _verified(token, jwks)
        if str(header.get("typ", "")).lower() != "oauth-id-jag+jwt":
            raise _Reject("jag-typ", repr(header.get("typ")))
        _claim_types(claims)
        _required(claims, ("iss", "sub", "aud", "client_id", "jti", "exp", "iat"))
        if _audiences(claims) != [issuer]:
            raise _Reject("jag-aud", repr(claims["aud"]))
        if claims["client_id"] != client_id:
            raise _Reject("jag-client-id", repr(claims["client_id"]))
        if now() > claims["exp"] + LEEWAY or claims["iat"] > now() + LEEWAY:
            raise _Reject("jag-exp", "outside its lifetime")
        granted = claims.get("resource")
        if resource not in ([granted] if isinstance(granted, str) else granted or []):
            raise _Reject("jag-resource", repr(granted))
    except _Reject as exc:
        return Verdict(False, exc.reason, 400, "invalid_grant", exc.detail)
    return Verdict(True, claims=claims)


def _step_up(claims: dict[str, Any], policy: AccessPolicy) -> None:
    levels = list(policy.acr_levels)
    if policy.required_acr is not None:
        acr = claims.get("acr")
        if acr not in levels or levels.index(acr) < levels.index(policy.required_acr):
            raise _Reject("acr", f"acr {acr!r} is weaker than {policy.required_acr}")
    if policy.max_age is not None:
        auth_time = claims.get("auth_time")
        if auth_time is None or policy.now() - auth_time > policy.max_age:
            raise _Reject("auth-time", "the sign-in is older than max_age")


def _claim_types(claims: dict[str, Any]) -> None:
    for name in NUMERIC:
        value = claims.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _Reject("claim-type", f"{name} is not a NumericDate")
    for name in STRINGS:
        if name in claims and not isinstance(claims[name], str):
            raise _Reject("claim-type", f"{name} is not a string")
    for name in STRING_ARRAYS:
        value = claims.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Reject("claim-type", f"{name} is not an array of strings")
    aud = claims.get("aud", "")
    if not isinstance(aud, str) and not (isinstance(aud, list) and all(isinstance(a, str) for a in aud)):
        raise _Reject("claim-type", "aud is neither a string nor an array of strings")


def _required(claims: dict[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if name not in claims:
            raise _Reject("missing-claim", name)


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims["aud"]
    return [aud] if isinstance(aud, str) else list(aud)


def _issuer_audience(claims: dict[str, Any], issuer: str, audience: str) -> None:
    if claims["iss"] != issuer:
        raise _Reject("iss", repr(claims["iss"]))
    if audience not in _audiences(claims):
        raise _Reject("aud", repr(claims["aud"]))


def _times(claims: dict[str, Any], now: float, leeway: int) -> None:
    if now > claims["exp"] + leeway:
        raise _Reject("exp", "expired")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise _Reject("nbf", "not yet valid")
    if claims["iat"] > now + leeway:
        raise _Reject("iat", "issued in the future")


def _left_hash(value: str, alg: str) -> str:
    digest = {"384": hashlib.sha384, "512": hashlib.sha512}.get(alg[-3:], hashlib.sha256)
    if alg in ("EdDSA", "Ed25519"):
        digest = hashlib.sha512
    raw = digest(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw[: len(raw) // 2]).rstrip(b"=").decode("ascii")
