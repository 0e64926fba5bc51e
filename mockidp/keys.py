"""Signing keys: a process-wide pool so no test pays for key generation, and a per-IdP ring.

RSA key generation costs about 50 ms a key, which would blow the per-test budget, so RSA keys
come from a pool shipped with the package (``data/rsa-pool.json``: test-only keys, public by
design) and loaded without OpenSSL's slow consistency check; EC and Ed25519 keys are cheap
and generated once per process. Keys are handed out round-robin. Each IdP still
gets its own ``kid`` (a random suffix), and consecutive IdPs get different key material, so a
token from one IdP never verifies against the JWKS of the IdP created just before or after it.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import warnings
from dataclasses import dataclass
from importlib import resources
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, OKPKey, RSAKey

from .config import SIGNING_ALGS

Key = RSAKey | ECKey | OKPKey

POOL_SIZE = 8


def generate_key(alg: str) -> Key:
    """A fresh private key suited to ``alg`` (slow for RSA; prefer :func:`pooled_key`)."""
    if alg in ("RS256", "PS256"):
        return RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg in ("EdDSA", "Ed25519"):
        return OKPKey.generate_key("Ed25519", private=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}; use one of {', '.join(SIGNING_ALGS)}")


def _b64_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _shipped_rsa_keys() -> list[Key]:
    """The packaged RSA test keys; skipping validation is safe because we made them."""
    data = json.loads(resources.files("mockidp").joinpath("data/rsa-pool.json").read_text("utf-8"))
    keys: list[Key] = []
    for item in data["keys"]:
        n = {name: _b64_int(item[name]) for name in ("n", "e", "d", "p", "q", "dp", "dq", "qi")}
        public = rsa.RSAPublicNumbers(n["e"], n["n"])
        numbers = rsa.RSAPrivateNumbers(n["p"], n["q"], n["d"], n["dp"], n["dq"], n["qi"], public)
        native = numbers.private_key(unsafe_skip_rsa_key_validation=True)
        keys.append(RSAKey(native, native))
    return keys


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, list[Key]] = {}
        self._next: dict[str, itertools.count[int]] = {}

    def take(self, alg: str) -> Key:
        family = "RSA" if alg in ("RS256", "PS256") else alg
        with self._lock:
            if family not in self._keys:
                if family == "RSA":
                    self._keys[family] = _shipped_rsa_keys()
                else:
                    self._keys[family] = [generate_key(alg) for _ in range(POOL_SIZE)]
                self._next[family] = itertools.count()
            pool = self._keys[family]
            return pool[next(self._next[family]) % len(pool)]


_POOL = _Pool()


def pooled_key(alg: str, kid: str | None = None) -> Key:
    """A private key for ``alg`` from the process-wide pool, with a fresh ``kid``.

    The pooled key's native object is shared (it is immutable); wrapping it with new
    parameters skips re-validating the private key, which costs more than the budget.
    """
    base = _POOL.take(alg)
    params = {"kid": kid or f"mockidp-{secrets.token_hex(4)}", "alg": alg, "use": "sig"}
    return type(base)(base.raw_value, base.raw_value, params)  # type: ignore[arg-type]


def import_key(data: dict[str, Any]) -> Key:
    kty = data.get("kty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kty == "RSA":
            return RSAKey.import_key(data)
        if kty == "EC":
            return ECKey.import_key(data)
        if kty == "OKP":
            return OKPKey.import_key(data)
    raise ValueError(f"unsupported key type {kty!r}")


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Key
    alg: str

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def public_jwk(self) -> dict[str, Any]:
        data = dict(self.key.as_dict(private=False))
        data.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return data


class KeyRing:
    """The IdP's signing keys: one current, the ones rotated out still published.

    ``rotate()`` keeps the previous key in the JWKS so tokens already out keep verifying
    (rotation with grace); ``retire()`` drops every key but the current one.
    """

    def __init__(self, alg: str) -> None:
        self.alg = alg
        self._initial = SigningKey(pooled_key(alg), alg)
        self._keys: list[SigningKey] = [self._initial]

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return tuple(self._keys)

    def rotate(self, keep: int = 1) -> SigningKey:
        """Make a new current key; keep ``keep`` previous keys published."""
        self._keys.append(SigningKey(pooled_key(self.alg), self.alg))
        self._keys = self._keys[-(keep + 1) :]
        return self.current

    def reset(self) -> None:
        """Back to the first key, as at start (for a shared IdP between tests)."""
        self._keys = [self._initial]
        self.alg = self._initial.alg

    def find(self, kid: str) -> SigningKey | None:
        for key in self._keys:
            if key.kid == kid:
                return key
        return None

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document, newest key first."""
        return {"keys": [k.public_jwk() for k in reversed(self._keys)]}
