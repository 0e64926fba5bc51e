"""Verifying tokens this IdP signed: the one owner of compact JWS verification and its policies.

:func:`verify_jws` is the only call into joserfc's verification. It refuses what a strict
parser must (RFC 7515 §2 base64url, RFC 7519 §7.2 and RFC 8725 §3.7 JSON: UTF-8, one object,
no duplicate member names, no ``NaN``) and trusts only the key its ``kid`` names, with that key's
own algorithm (RFC 8725 §3.1). :func:`verify` adds an :class:`AccessTokenPolicy` (RFC 9068 §4,
in its order); userinfo, introspection and the mock APIs differ only in their policy.
:func:`verify_id_token_hint` is the rule for ``id_token_hint`` (expiry ignored). Every refusal
is one :class:`~mockidp.errors.InvalidToken` whose description says precisely why.

A leaf: it imports keys, errors and config constants, never web, resources or server code.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from . import base64url
from .config import SIGNING_ALGS
from .errors import InvalidToken
from .keys import SigningKey

#: finds the IdP key a ``kid`` names (``KeyRing.find``)
KeyLookup = Callable[[str], SigningKey | None]
#: ``typ`` values RFC 9068 §4 allows (media types compare case-insensitively)
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: ``typ`` of an ID token: ``JWT`` or none (OpenID Connect Core §2 leaves it out)
ID_TOKEN_TYPES = frozenset({"jwt", ""})
#: RFC 9068 §2.2 claims every access token this IdP issues carries
ACCESS_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")
#: header parameters that would make us trust a key or URL chosen by the token's author
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit")
#: access tokens longer than this are refused before any parsing (bounded work for hostile input)
MAX_ACCESS_TOKEN = 4096
#: any token this IdP signs; ID tokens carry user claims (address, profile), so they may be longer
MAX_ISSUED_TOKEN = 16 * 1024
#: clock skew a resource server with its own clock tolerates (RFC 9068 §4: "a few minutes" at most)
RESOURCE_SERVER_LEEWAY = 60
#: asymmetric algorithms a DPoP proof may use (RFC 9449 §4.3 check 5), with the key each needs
DPOP_ALG_KEYS: Mapping[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "EdDSA": ("OKP", "Ed25519"),
    "Ed25519": ("OKP", "Ed25519"),
}
DPOP_ALGS: tuple[str, ...] = tuple(DPOP_ALG_KEYS)
#: a DPoP proof carries a public key in its header; bigger ones are refused before parsing
MAX_DPOP_PROOF = 8192
#: JWK members that belong to a private or symmetric key (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037)
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
#: the smallest RSA modulus a proof key may have (RFC 7518 §3.3: 2048 bits or larger)
MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class AccessTokenPolicy:
    """What one verifier of RFC 9068 access tokens accepts.

    ``audiences`` lists the identifiers of one resource, ``aud`` must name one of them; ``None``
    accepts any audience (introspection answers for every resource). ``leeway`` is the clock skew
    tolerated on ``exp``/``nbf``/``iat``: 0 where the IdP's own clock is the reference;
    ``future_leeway``, when set, replaces it for ``nbf``/``iat`` only (a token dated a few seconds
    ahead is not refused by an answer that is exact about expiry).
    """

    issuer: str
    audiences: tuple[str, ...] | None
    leeway: int = 0
    future_leeway: int | None = None
    max_length: int = MAX_ACCESS_TOKEN
    required_claims: tuple[str, ...] = ACCESS_TOKEN_CLAIMS
    #: accepted ``typ`` header values, lower case
    types: frozenset[str] = ACCESS_TOKEN_TYPES
    algs: frozenset[str] = frozenset(SIGNING_ALGS)


def verify_jws(
    token: str,
    find_key: KeyLookup,
    *,
    max_length: int,
    algs: frozenset[str] = frozenset(SIGNING_ALGS),
    types: frozenset[str] | None = None,
    require_kid: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, payload) of a compact JWS signed by the key its ``kid`` names.

    ``types`` are the accepted ``typ`` values in lower case (``""`` accepts a missing ``typ``),
    checked with the header, before any key is looked up (RFC 9068 §4 step 1); ``None`` accepts
    any. Without ``require_kid`` a header may name no key: ``find_key`` is then asked for ``""``
    (a signer with a single key, such as a ``private_key_jwt`` client, need not send one).
    Claims are not checked here. Raises :class:`InvalidToken` with the first reason found.
    """
    if len(token) > max_length:
        raise InvalidToken(f"token too large (more than {max_length} characters)")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    header = _json_segment(parts[0], "header")
    _check_header(header, algs, types, require_kid)
    payload = _segment(parts[1], "payload")
    _segment(parts[2], "signature")
    key = find_key(str(header.get("kid", "")))
    if key is None:
        raise InvalidToken("unknown kid")
    if header.get("alg") != key.alg:
        raise InvalidToken(f"alg {header.get('alg')!r} is not the algorithm of key {key.kid}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EdDSA deprecation, as in tokens.sign
            jws.deserialize_compact(token, key.key, algorithms=[key.alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken(f"bad signature ({type(exc).__name__})") from None
    return header, _json(payload, "payload")


def verify_dpop_jws(proof: str, algs: Collection[str] = DPOP_ALGS) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, claims) of a DPoP proof whose signature verifies with the key in its header.

    RFC 9449 §4.3 checks 2-6: one well-formed JWT, ``typ: dpop+jwt``, an asymmetric ``alg`` among
    ``algs`` that fits the key, a ``jwk`` header holding a public key only, and a valid signature.
    The claims are checked by :mod:`mockidp.dpop`. Raises :class:`InvalidToken` with the reason.
    """
    if len(proof) > MAX_DPOP_PROOF:
        raise InvalidToken(f"proof too large (more than {MAX_DPOP_PROOF} characters)")
    parts = proof.split(".")
    if len(parts) != 3:
        raise InvalidToken("the proof is not a compact JWS")
    header = _json_segment(parts[0], "header")
    payload = _segment(parts[1], "payload")
    _segment(parts[2], "signature")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() != "dpop+jwt":
        raise InvalidToken(f"typ {typ!r} is not dpop+jwt")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algs or alg not in DPOP_ALG_KEYS:
        raise InvalidToken(f"alg {alg!r} is not an accepted asymmetric algorithm")
    for name in ("crit", "jku", "x5u", "x5c", "cty", "zip", "b64"):
        if name in header:
            raise InvalidToken(f"header parameter {name!r} not accepted in a proof")
    key = _proof_key(header.get("jwk"), alg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            jws.deserialize_compact(proof, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken(
            f"the proof's signature does not verify with its jwk ({type(exc).__name__})"
        ) from None
    return header, _json(payload, "payload")


def _proof_key(jwk: Any, alg: str) -> Any:
    """The public key of a proof's ``jwk`` header, if it suits ``alg`` (RFC 9449 §4.3 checks 5, 6)."""
    if not isinstance(jwk, dict):
        raise InvalidToken("the proof has no jwk header (a JSON object)")
    private = [m for m in PRIVATE_JWK_MEMBERS if m in jwk]
    if private:
        raise InvalidToken(f"the proof's jwk holds private key material ({', '.join(private)})")
    kty, crv = DPOP_ALG_KEYS[alg]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        raise InvalidToken(f"the proof's jwk is not a {crv or kty} key, as alg {alg} needs")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key = JWKRegistry.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken(f"the proof's jwk is not a usable key ({type(exc).__name__})") from None
    if kty == "RSA" and getattr(key.raw_value, "key_size", 0) < MIN_RSA_BITS:
        raise InvalidToken(f"the proof's RSA key is shorter than {MIN_RSA_BITS} bits")
    return key


def verify(
    token: str,
    find_key: KeyLookup,
    policy: AccessTokenPolicy,
    now: float,
    *,
    revoked: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """The claims of ``token`` if ``policy`` accepts it at time ``now``, else :class:`InvalidToken`.

    ``revoked`` answers whether a ``jti`` was revoked; it is asked last, for an otherwise
    valid token.
    """
    _, claims = verify_jws(
        token, find_key, max_length=policy.max_length, algs=policy.algs, types=policy.types
    )
    for name in policy.required_claims:
        if name not in claims:
            raise InvalidToken(f"missing claim {name!r}")
    if claims.get("iss") != policy.issuer:
        raise InvalidToken("wrong issuer")
    _check_audience(claims, policy.audiences)
    for name in ("sub", "client_id", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise InvalidToken(f"claim {name!r} must be a string")
    if "scope" in claims and not isinstance(claims["scope"], str):
        raise InvalidToken("scope must be a space-delimited string")
    future = policy.leeway if policy.future_leeway is None else policy.future_leeway
    _check_times(claims, now, policy.leeway, future)
    jti = claims.get("jti")
    if revoked is not None and isinstance(jti, str) and revoked(jti):
        raise InvalidToken("token revoked")
    return claims


def verify_id_token_hint(token: str, find_key: KeyLookup, issuer: str) -> dict[str, Any]:
    """The claims of an ID token ``issuer`` signed; expiry is ignored (RP-Initiated Logout 1.0 §2)."""
    _, claims = verify_jws(token, find_key, max_length=MAX_ISSUED_TOKEN, types=ID_TOKEN_TYPES)
    if claims.get("iss") != issuer:
        raise InvalidToken("wrong issuer")
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("aud"), str | list):
        raise InvalidToken("id_token_hint lacks 'sub' or 'aud'")
    return claims


def unverified_claims(token: str, *, max_length: int = MAX_ISSUED_TOKEN) -> dict[str, Any]:
    """The payload of a compact JWS, parsed strictly but NOT verified: only to find out which
    trusted issuer's keys to verify it with (its ``iss``), never to decide anything else."""
    if len(token) > max_length:
        raise InvalidToken(f"token too large (more than {max_length} characters)")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    return _json_segment(parts[1], "payload")


def check_times(claims: Mapping[str, Any], now: float, *, leeway: int = 0, future_leeway: int = 0) -> None:
    """``exp`` (with ``leeway``), ``nbf`` and ``iat`` (with ``future_leeway``) against ``now``."""
    _check_times(claims, now, leeway, future_leeway)


def audiences_of(claims: Mapping[str, Any]) -> list[str]:
    """``aud`` as a list (RFC 7519 §4.1.3 allows a string or an array); non-strings are dropped."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def scopes_of(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The space-delimited ``scope`` claim as a tuple (RFC 9068 §2.2.3)."""
    scope = claims.get("scope", "")
    return tuple(s for s in scope.split(" ") if s) if isinstance(scope, str) else ()


def _segment(segment: str, what: str) -> bytes:
    try:
        return base64url.decode_strict(segment)
    except ValueError:
        raise InvalidToken(f"{what} is not base64url") from None


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    return _json(_segment(segment, what), what)


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError):
        raise InvalidToken(f"{what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"{what} is not a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate member {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity, -Infinity (RFC 8259 §6)


def _check_header(
    header: Mapping[str, Any], algs: frozenset[str], types: frozenset[str] | None, require_kid: bool = True
) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algs:
        raise InvalidToken(f"alg {alg!r} not allowed")
    typ = header.get("typ", "")
    if types is not None and (not isinstance(typ, str) or typ.lower() not in types):
        accepted = " or ".join(sorted(t for t in types if t))
        raise InvalidToken(f"typ {header.get('typ')!r} is not {accepted}")
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise InvalidToken(f"header parameter {name!r} not accepted")
    if "cty" in header or header.get("b64") is False or "zip" in header:
        raise InvalidToken("nested, unencoded or compressed tokens are not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) and (require_kid or kid is not None):
        raise InvalidToken("the header names no key (kid)")


def _check_audience(claims: Mapping[str, Any], accepted: tuple[str, ...] | None) -> None:
    if "aud" not in claims:
        return
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list):
        raise InvalidToken("token is not for this resource")
    if accepted is not None and not any(a in audiences for a in accepted):
        raise InvalidToken("token is not for this resource")
    if not all(isinstance(a, str) for a in audiences):
        raise InvalidToken("aud must hold strings")


def _check_times(claims: Mapping[str, Any], now: float, leeway: int, future: int) -> None:
    if "exp" in claims and _time(claims, "exp") <= now - leeway:
        raise InvalidToken("token expired")
    if "nbf" in claims and _time(claims, "nbf") > now + future:
        raise InvalidToken("token not yet valid")
    if "iat" in claims and _time(claims, "iat") > now + future:
        raise InvalidToken("token issued in the future")


def _time(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
        raise InvalidToken(f"claim {name!r} is not a NumericDate")
    return float(value)
