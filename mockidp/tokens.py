"""Token minting: pure functions from claims and a key to a compact JWS.

Access tokens follow RFC 9068 (``typ: at+jwt``), ID tokens OpenID Connect Core section 2.
Nothing here touches the network or the store, so tokens can be minted without HTTP.
"""

from __future__ import annotations

import calendar
import contextvars
import datetime
import hashlib
import json
import secrets
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from joserfc import jwt

from . import base64url
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
    raw = digest(settled(value).encode("ascii")).digest()
    return base64url.encode(raw[: len(raw) // 2])


def sign(
    claims: Mapping[str, Any],
    key: SigningKey,
    *,
    typ: str | None = "JWT",
    header: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` with ``key``; the header carries ``alg``, ``kid`` and ``typ``."""
    protected = _protected(key, typ)
    if header:
        protected.update(header)
    elif key.signer is not None:
        return _compact(protected, claims, key)
    with warnings.catch_warnings():
        # EdDSA is deprecated by RFC 9864 but still what most validators know; it is opt-in.
        warnings.simplefilter("ignore")
        return jwt.encode(protected, dict(claims), key.key, algorithms=[key.alg], default_type=None)


def sign_with_token_hash(
    claims: Mapping[str, Any], key: SigningKey, *, token: str, typ: str | None = "JWT", claim: str = "at_hash"
) -> str:
    """Sign ``claims`` plus ``claim``, the hash of ``token`` (``at_hash``, OIDC Core 3.1.3.6).

    Inside :func:`deferred_signing`, while ``token`` is itself a placeholder, this token waits
    for it instead of having it signed at once: both signatures are made elsewhere, this one
    after the other (``mockidp.web.signers.settle``).
    """
    batch = _DEFERRED.get()
    entry = batch.entry(token) if batch is not None else None
    if batch is None or entry is None or entry.token is not None or key.signer is None:
        return sign({**claims, claim: token_hash(token, key.alg)}, key, typ=typ)
    dependency = entry
    protected = _protected(key, typ)

    def signing_input() -> str:
        return _signing_input(protected, {**claims, claim: token_hash(dependency.sign_here(), key.alg)})

    return batch.defer_after(dependency, signing_input, key)


def _protected(key: SigningKey, typ: str | None) -> dict[str, Any]:
    protected: dict[str, Any] = {"alg": key.alg, "kid": key.kid}
    if typ is not None:
        protected["typ"] = typ
    return protected


#: joserfc's JSON settings for the two segments, made once (``json.dumps`` with arguments
#: builds an encoder per call)
_HEADER_JSON = json.JSONEncoder(separators=(",", ":"))
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _compact(protected: dict[str, Any], claims: Mapping[str, Any], key: SigningKey) -> str:
    """The compact JWS joserfc's ``jwt.encode`` makes, byte for byte, signed by ``key.signer``.

    Same JSON (compact separators; an ASCII header, a UTF-8 payload), same conversion of
    ``datetime`` values of ``exp``/``iat``/``nbf``; without joserfc's per-call registry and
    key checks (``SigningKey`` settled those once) or its warnings filter. Inside
    :func:`deferred_signing` the signature is left for later and a placeholder returned.
    """
    signing_input = _signing_input(protected, claims)
    batch = _DEFERRED.get()
    if batch is not None:
        return batch.defer(signing_input, key)
    return _signed(signing_input, key, key.signer(signing_input.encode("ascii")))  # type: ignore[misc]


def _signing_input(protected: dict[str, Any], claims: Mapping[str, Any]) -> str:
    payload = dict(claims)
    for name in ("exp", "iat", "nbf"):
        value = payload.get(name)
        if isinstance(value, datetime.datetime):
            payload[name] = calendar.timegm(value.utctimetuple())
    head = base64url.encode(_HEADER_JSON.encode(protected).encode("ascii"))
    body = base64url.encode(_PAYLOAD_JSON.encode(payload).encode("utf-8"))
    return f"{head}.{body}"


def _signed(signing_input: str, key: SigningKey, signature: bytes) -> str:
    return f"{signing_input}.{base64url.encode(signature)}"


# --- signatures left for later: mockidp serve's signer processes (mockidp.web.signers) --------

#: what marks a placeholder: a NUL byte can never start a compact JWS, so a placeholder that
#: escaped would be refused by any parser rather than taken for a token
PLACEHOLDER_PREFIX = "\x00unsigned-token-"


@dataclass(slots=True)
class Unsigned:
    """A token whose signature is still to be made: its signing input (or how to make it, once
    the token it depends on is signed) and key."""

    signing_input: str | None
    key: SigningKey
    token: str | None = None
    #: the token whose value this one's claims need (``at_hash``), signed first
    after: Unsigned | None = None
    #: makes the signing input once ``after`` is signed
    build: Callable[[], str] | None = None

    def ready_input(self) -> str:
        """The signing input; a dependent token's is made now (its dependency signed first)."""
        if self.signing_input is None:
            assert self.build is not None
            self.signing_input = self.build()
        return self.signing_input

    def finish(self, signature: bytes) -> str:
        """The compact token with ``signature``; the first signature made is the one kept."""
        if self.token is None:
            self.token = _signed(self.ready_input(), self.key, signature)
        return self.token

    def sign_here(self) -> str:
        """Sign in this thread (a token whose value is needed before the batch is settled)."""
        if self.token is None:
            assert self.key.signer is not None  # only fast-path tokens are deferred
            self.finish(self.key.signer(self.ready_input().encode("ascii")))
        assert self.token is not None
        return self.token


class DeferredSignatures:
    """The tokens minted inside one :func:`deferred_signing` block, by placeholder.

    The grant runs as always; each token it signs on the fast path comes back as a
    placeholder, which the caller swaps for the real token once the signatures are made
    elsewhere (``mockidp.web.signers.settle``). An ID token whose ``at_hash`` needs the access
    token's value waits for it (:func:`sign_with_token_hash`); any other code that needs a
    token's value gets it from :func:`settled`, which signs that one at once.
    """

    def __init__(self) -> None:
        self.pending: dict[str, Unsigned] = {}

    def defer(self, signing_input: str, key: SigningKey) -> str:
        return self._add(Unsigned(signing_input, key))

    def defer_after(self, dependency: Unsigned, signing_input: Callable[[], str], key: SigningKey) -> str:
        """A token whose claims need ``dependency``'s value: signed after it."""
        return self._add(Unsigned(None, key, after=dependency, build=signing_input))

    def _add(self, entry: Unsigned) -> str:
        placeholder = f"{PLACEHOLDER_PREFIX}{len(self.pending)}"
        self.pending[placeholder] = entry
        return placeholder

    def entry(self, value: object) -> Unsigned | None:
        return self.pending.get(value) if isinstance(value, str) else None


_DEFERRED: contextvars.ContextVar[DeferredSignatures | None] = contextvars.ContextVar(
    "mockidp_deferred_signatures", default=None
)


@contextmanager
def deferred_signing() -> Iterator[DeferredSignatures]:
    """Tokens signed inside this block (and in worker threads started from it, which copy the
    context) come back as placeholders to settle later; see :class:`DeferredSignatures`."""
    batch = DeferredSignatures()
    reset = _DEFERRED.set(batch)
    try:
        yield batch
    finally:
        _DEFERRED.reset(reset)


def settled(value: str) -> str:
    """``value`` itself, or the real token if it is a placeholder of the current batch."""
    if not value.startswith(PLACEHOLDER_PREFIX):
        return value
    batch = _DEFERRED.get()
    entry = batch.entry(value) if batch is not None else None
    if entry is None:
        raise RuntimeError("a token placeholder outside its deferred_signing block")
    return entry.sign_here()
