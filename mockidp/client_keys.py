"""The public keys of ``private_key_jwt`` clients: inline ``jwks`` or fetched from ``jwks_uri``.

Each key verifies with exactly one algorithm (RFC 8725 §3.1): its JWK ``alg`` when set, else
the one its type implies (RSA: RS256, EC: ES256/ES384/ES512 by curve, OKP Ed25519: EdDSA). A
key whose ``use`` is not ``sig``, or whose ``alg`` is not an asymmetric signature algorithm,
verifies nothing. ``jwks_uri`` documents are fetched through :mod:`mockidp.outbound` (its SSRF
guard and cache) and fetched again once when an assertion names an unknown ``kid`` (the client
rotated its key), at most every :data:`REFRESH_INTERVAL` seconds per URL, so a stream of bad
``kid`` values cannot turn the IdP into a request amplifier.

Fetching blocks: call :meth:`ClientKeys.find` off the event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from .config import ClientConfig
from .errors import FetchError, InvalidClient
from .keys import SigningKey, import_key
from .outbound import DocumentCache, FetchPolicy

#: the algorithms a client assertion may be signed with (no ``none``, no HMAC)
ASSERTION_ALGS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
#: the algorithm a key without ``alg`` is pinned to, by key type and curve
_DEFAULT_ALG = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
    ("EC", "P-521"): "ES512",
    ("OKP", "Ed25519"): "EdDSA",
}
#: the key types each algorithm needs
_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
#: at least this many seconds between two forced refetches of one ``jwks_uri``
REFRESH_INTERVAL = 10.0
#: a configured client's ``jwks_uri`` may be loopback ``http`` (the config is the developer's;
#: dynamic registration accepts only https URLs)
JWKS_POLICY = FetchPolicy(allow_http_loopback=True)


def pinned_alg(jwk: Mapping[str, Any]) -> str | None:
    """The one algorithm ``jwk`` verifies, or ``None`` when it verifies nothing."""
    if jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and "verify" not in ops:
        return None
    kty = jwk.get("kty")
    alg = jwk.get("alg")
    if alg is not None:
        if alg not in ASSERTION_ALGS or _FAMILY.get(str(alg)[:2]) != kty:
            return None
        return str(alg)
    return _DEFAULT_ALG.get((str(kty), None if kty == "RSA" else jwk.get("crv")))


def public_keys(jwks: Mapping[str, Any]) -> list[SigningKey]:
    """The usable public keys of a JWK Set, each with its pinned algorithm (private parts dropped)."""
    keys = jwks.get("keys")
    usable: list[SigningKey] = []
    for jwk in keys if isinstance(keys, list) else []:
        if not isinstance(jwk, Mapping):
            continue
        alg = pinned_alg(jwk)
        if alg is None:
            continue
        try:
            public_jwk = dict(import_key(dict(jwk)).as_dict(private=False))
            if isinstance(jwk.get("kid"), str):
                public_jwk["kid"] = jwk["kid"]
            public = import_key(public_jwk)
        except (ValueError, TypeError, KeyError):
            continue
        usable.append(SigningKey(public, alg))
    return usable


def choose(keys: list[SigningKey], kid: str) -> SigningKey | None:
    """The key ``kid`` names; with no ``kid`` (``""``), the client's only key."""
    if not kid:
        if len(keys) > 1:
            raise InvalidClient("client assertion: the header names no key (kid) and the client has several")
        return keys[0] if keys else None
    for key in keys:
        if key.key.kid == kid:
            return key
    return None


class ClientKeys:
    """One IdP's view of its clients' keys: ``jwks_uri`` documents cached, refreshed on rotation."""

    def __init__(self) -> None:
        self._cache = DocumentCache()
        self._lock = threading.Lock()
        self._refreshed: dict[str, float] = {}

    def find(self, client: ClientConfig, kid: str) -> SigningKey | None:
        """The client's key ``kid`` names (blocks on a ``jwks_uri`` fetch); ``None`` if unknown."""
        if client.jwks is not None:
            return choose(public_keys(client.jwks), kid)
        if client.jwks_uri is None:
            raise InvalidClient("client assertion: the client has no keys (jwks or jwks_uri)")
        found = choose(self._fetch(client.jwks_uri, refresh=False), kid)
        if found is None and self._may_refresh(client.jwks_uri):
            found = choose(self._fetch(client.jwks_uri, refresh=True), kid)
        return found

    def _fetch(self, url: str, *, refresh: bool) -> list[SigningKey]:
        try:
            return public_keys(self._cache.get(url, JWKS_POLICY, refresh=refresh).body)
        except FetchError as exc:
            raise InvalidClient(f"client assertion: cannot get the client's jwks_uri: {exc}") from None

    def _may_refresh(self, url: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._refreshed.get(url)
            if last is not None and now - last < REFRESH_INTERVAL:
                return False
            self._refreshed[url] = now
            return True

    def clear(self) -> None:
        self._cache.clear()
        with self._lock:
            self._refreshed.clear()
