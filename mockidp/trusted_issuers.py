"""JWTs from the external issuers this IdP trusts (``trusted_issuers``): workload platforms,
whose JWTs are redeemed with the jwt-bearer grant (RFC 7523 §2.1), and enterprise IdPs, whose
ID-JAGs and tokens come in as grants or token-exchange subject tokens.

Only the signature, the issuer and the key's own algorithm are checked here (through
``mockidp.verify``); each grant checks the claims it cares about. Keys come inline (``jwks``)
or from ``jwks_uri`` through ``mockidp.outbound`` (its SSRF guard and cache), refetched at most
once per :data:`REFRESH_INTERVAL` when a token names an unknown ``kid`` (a key rollover).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .config import TrustedIssuerConfig
from .errors import FetchError, InvalidToken
from .keys import SigningKey, import_key
from .outbound import DocumentCache, FetchPolicy
from .verify import MAX_ISSUED_TOKEN, unverified_claims, verify_jws

#: an unknown ``kid`` refetches a ``jwks_uri`` at most this often (seconds)
REFRESH_INTERVAL = 5.0
#: the algorithm a JWK without ``alg`` is used with, by key type and curve
_DEFAULT_ALGS: dict[tuple[object, object], str] = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("OKP", "Ed25519"): "EdDSA",
}


@dataclass(frozen=True, slots=True)
class TrustedJwt:
    """A JWT whose signature a trusted issuer's key verified."""

    issuer: TrustedIssuerConfig
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def typ(self) -> str:
        typ = self.header.get("typ", "")
        return typ.lower() if isinstance(typ, str) else ""


def signing_keys(jwks: Mapping[str, Any]) -> dict[str, SigningKey]:
    """The usable signature keys of a JWK Set by ``kid``, each pinned to one algorithm (its
    ``alg``, or the one its type implies: RFC 8725 §3.1). Private parts are never kept."""
    found: dict[str, SigningKey] = {}
    keys = jwks.get("keys")
    for data in keys if isinstance(keys, list) else []:
        if not isinstance(data, Mapping) or data.get("use", "sig") != "sig":
            continue
        kid, alg = data.get("kid"), data.get("alg") or _DEFAULT_ALGS.get((data.get("kty"), data.get("crv")))
        if not isinstance(kid, str) or not isinstance(alg, str):
            continue
        public = {k: v for k, v in data.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        try:
            found[kid] = SigningKey(import_key(public), alg)
        except (ValueError, TypeError):
            continue
    return found


class TrustedIssuers:
    """The keys of one IdP's trusted issuers (fetched documents cached per IdP)."""

    def __init__(self) -> None:
        self._documents = DocumentCache()
        self._lock = threading.Lock()
        self._refreshed: dict[str, float] = {}

    def clear(self) -> None:
        self._documents.clear()
        with self._lock:
            self._refreshed.clear()

    def find(self, trusted: Sequence[TrustedIssuerConfig], issuer: object) -> TrustedIssuerConfig | None:
        return next((t for t in trusted if t.issuer == issuer), None)

    def verify(
        self,
        token: str,
        trusted: Sequence[TrustedIssuerConfig],
        *,
        types: frozenset[str] | None = None,
    ) -> TrustedJwt:
        """``token`` verified with the keys of the trusted issuer its ``iss`` names.

        Raises :class:`InvalidToken` naming the reason (untrusted issuer, unknown key, bad
        signature, a JWKS that cannot be fetched...).
        """
        issuer = self.find(trusted, unverified_claims(token).get("iss"))
        if issuer is None:
            raise InvalidToken("the token's issuer is not a trusted issuer")
        keys = self._keys(issuer)

        def find_key(kid: str) -> SigningKey | None:
            nonlocal keys
            if kid not in keys and issuer.jwks_uri is not None and self._may_refresh(issuer.jwks_uri):
                keys = self._keys(issuer, refresh=True)
            return keys.get(kid)

        header, claims = verify_jws(token, find_key, max_length=MAX_ISSUED_TOKEN, types=types)
        return TrustedJwt(issuer, header, claims)

    def _keys(self, issuer: TrustedIssuerConfig, *, refresh: bool = False) -> dict[str, SigningKey]:
        if issuer.jwks is not None:
            return signing_keys(issuer.jwks)
        assert issuer.jwks_uri is not None  # the config requires one of the two
        policy = FetchPolicy(allow_http_loopback=issuer.allow_http_loopback)
        try:
            return signing_keys(self._documents.get(issuer.jwks_uri, policy, refresh=refresh).body)
        except FetchError as exc:
            raise InvalidToken(f"cannot get the trusted issuer's keys: {exc}") from None

    def _may_refresh(self, url: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._refreshed.get(url, -REFRESH_INTERVAL) < REFRESH_INTERVAL:
                return False
            self._refreshed[url] = now
            return True


def subject_allowed(issuer: TrustedIssuerConfig, subject: str) -> bool:
    """Whether ``subject`` matches the issuer's ``subjects`` patterns (none listed: any)."""
    return not issuer.subjects or any(fnmatchcase(subject, p) for p in issuer.subjects)
