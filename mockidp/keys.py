"""Signing keys: a process-wide pool so no test pays for key generation, and a per-IdP ring.

RSA key generation costs about 50 ms a key, which would blow the per-test budget, so RSA keys
come from a pool shipped with the package (``data/rsa-pool.json``: test-only keys, public by
design) and loaded without OpenSSL's slow consistency check; EC and Ed25519 keys are cheap
and generated once per process. Keys are handed out round-robin. Each IdP still
gets its own ``kid`` (a random suffix), and consecutive IdPs get different key material, so a
token from one IdP never verifies against the JWKS of the IdP created just before or after it.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import threading
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, OKPKey, RSAKey

from . import base64url, signatures
from .config import SIGNING_ALGS
from .errors import MockIdPError
from .signatures import Signer

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
    return int.from_bytes(base64url.decode(value), "big")


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


def load_key_file(path: str | os.PathLike[str], alg: str) -> Key:
    """The private key for ``alg`` kept in ``path`` (a JWKS), made and saved there if missing.

    The file lets keys outlive a process: ``mockidp serve --keys k.json`` and ``mockidp mint
    --keys k.json`` sign with the same key. It is created readable by its owner only (0600);
    a key for another algorithm is added beside the ones already there.
    """
    file = Path(path)
    document: dict[str, Any] = {"keys": []}
    if file.exists():
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
            keys = document["keys"]
            for data in keys:
                if data.get("alg") == alg and "d" in data:
                    return import_key(data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MockIdPError(f"{file}: not a key file written by mockidp ({exc})") from None
    key = generate_key(alg)
    data = dict(key.as_dict(private=True))
    data.update({"kid": f"mockidp-{secrets.token_hex(4)}", "alg": alg, "use": "sig"})
    document = {"keys": [*document.get("keys", []), data]}
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    os.chmod(file, 0o600)
    return import_key(data)


def native_signer(key: Key, alg: str) -> Signer | None:
    """The bare ``cryptography`` call that signs for ``alg`` with ``key``, or None.

    Made once per key instead of per token: joserfc's registry and key-use checks cost about a
    tenth of an RSA signature (``mockidp.signatures`` owns the calls). None (use joserfc) for
    a key restricted by ``key_ops`` or ``use`` and for a key type that does not fit ``alg``.
    """
    if key.get("key_ops") is not None or key.get("use") not in (None, "sig"):
        return None
    return signatures.native_signer(key.private_key, alg)


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Key
    alg: str
    #: the key id, and the native signing call (``native_signer``), worked out once
    kid: str = field(init=False, compare=False)
    signer: Signer | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kid", str(self.key.kid))
        object.__setattr__(self, "signer", native_signer(self.key, self.alg))

    def public_jwk(self) -> dict[str, Any]:
        data = dict(self.key.as_dict(private=False))
        data.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return data


class KeyRing:
    """The IdP's signing keys: one current, others published beside it.

    Real IdPs roll keys over in steps, and APIs must cope with each one:
    - ``rotate()`` signs with a new key at once and keeps ``keep`` previous keys published
      (tokens already out keep verifying), as an IdP that rotates abruptly does;
    - ``rotate(publish_first=True)`` publishes the new key first and signs with it only once a
      JWKS listing it has been served (a relying party has had the chance to learn it);
    - ``add()``, ``activate(kid)`` and ``retire(kid)`` are the same steps, one at a time.
    """

    def __init__(self, alg: str, initial: Key | None = None) -> None:
        self.alg = alg
        self._initial = SigningKey(initial if initial is not None else pooled_key(alg), alg)
        self._keys: list[SigningKey] = [self._initial]  # published, oldest first
        self._current = self._initial
        self._pending: SigningKey | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> SigningKey:
        return self._current

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return tuple(self._keys)

    @property
    def pending(self) -> SigningKey | None:
        """A key published by ``rotate(publish_first=True)`` that does not sign yet."""
        return self._pending

    def rotate(self, keep: int = 1, *, publish_first: bool = False) -> SigningKey:
        """Publish a new key and sign with it (at once, or after its first JWKS publication).

        ``keep`` previous keys stay published beside the current (and a pending) one.
        """
        with self._lock:
            new = SigningKey(pooled_key(self.alg), self.alg)
            self._keys.append(new)
            if publish_first:
                self._pending = new
            else:
                self._current, self._pending = new, None
            live = (self._current, self._pending)
            others = [k for k in self._keys if k not in live]
            kept = others[len(others) - keep :] if keep else []
            self._keys = [k for k in self._keys if k in live or k in kept]
            return new

    def add(self) -> SigningKey:
        """Publish a new key that signs nothing until :meth:`activate`."""
        with self._lock:
            new = SigningKey(pooled_key(self.alg), self.alg)
            self._keys.append(new)
            return new

    def activate(self, kid: str) -> SigningKey:
        """Sign with a published key from now on (the previous one stays published)."""
        with self._lock:
            key = self._published(kid)
            self._current = key
            if self._pending is key:
                self._pending = None
            return key

    def retire(self, kid: str) -> None:
        """Stop publishing a key: tokens it signed no longer verify. The current key cannot go."""
        with self._lock:
            key = self._published(kid)
            if key is self._current:
                raise MockIdPError(f"key {kid!r} is the current signing key; activate another one first")
            self._keys.remove(key)
            if self._pending is key:
                self._pending = None

    def served(self, document: dict[str, Any]) -> None:
        """A JWKS document went out: a pending key it lists starts signing."""
        pending = self._pending
        if pending is None or not any(k.get("kid") == pending.kid for k in document.get("keys", ())):
            return
        with self._lock:
            if self._pending is pending:
                self._current, self._pending = pending, None

    def _published(self, kid: str) -> SigningKey:
        for key in self._keys:
            if key.kid == kid:
                return key
        raise MockIdPError(f"no published key has kid {kid!r}")

    def reset(self) -> None:
        """Back to the first key, as at start (for a shared IdP between tests)."""
        with self._lock:
            self._keys = [self._initial]
            self._current, self._pending = self._initial, None
            self.alg = self._initial.alg

    def find(self, kid: str) -> SigningKey | None:
        for key in self._keys:
            if key.kid == kid:
                return key
        return None

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document, newest key first."""
        return {"keys": [k.public_jwk() for k in reversed(self._keys)]}
