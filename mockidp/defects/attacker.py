"""Attacker material mockidp hosts itself: keys, a JWKS (for ``jku``) and a certificate (``x5u``).

The keys come from the process key pool but are never the IdP's own key material, so a token
they sign verifies only for a resource server that trusts the header instead of the IdP.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..keys import POOL_SIZE, Key, SigningKey, pooled_key

ATTACKER_PATH = "/_mockidp/attacker"
JWKS_NAME = "jwks.json"
CERT_NAME = "cert.pem"


def _material(key: Key) -> tuple[tuple[str, Any], ...]:
    data = key.as_dict(private=False)
    return tuple(sorted((k, v) for k, v in data.items() if k not in ("kid", "alg", "use", "key_ops")))


class AttackerKeys:
    """One attacker key per algorithm, created on first use for this IdP."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._certs: dict[tuple[tuple[str, Any], ...], bytes] = {}

    def key(self, alg: str, avoid: Iterable[SigningKey] = ()) -> SigningKey:
        """The attacker key for ``alg``, with material different from every key in ``avoid``."""
        taken = {_material(k.key) for k in avoid}
        with self._lock:
            found = self._keys.get(alg)
            if found is None or _material(found.key) in taken:
                found = self._fresh(alg, taken)
                self._keys[alg] = found
            return found

    @staticmethod
    def _fresh(alg: str, taken: set[tuple[tuple[str, Any], ...]]) -> SigningKey:
        for _ in range(POOL_SIZE + 1):
            key = pooled_key(alg, kid=f"attacker-{alg.lower()}")
            if _material(key) not in taken:
                return SigningKey(key, alg)
        raise RuntimeError("the key pool has no key that differs from the IdP's")  # pragma: no cover

    def jwks(self) -> dict[str, Any]:
        """The attacker's public JWKS, as served at ``{issuer}/_mockidp/attacker/jwks.json``."""
        with self._lock:
            return {"keys": [k.public_jwk() for k in self._keys.values()]}

    def certificate_pem(self, signing: SigningKey) -> bytes:
        """A self-signed X.509 certificate for the attacker's RSA key (``x5u``/``x5c``)."""
        material = _material(signing.key)
        with self._lock:
            if material not in self._certs:
                cert = _self_signed(signing.key.raw_value)
                self._certs[material] = cert.public_bytes(serialization.Encoding.PEM)
            return self._certs[material]


def _self_signed(private: Any) -> x509.Certificate:
    assert isinstance(private, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mockidp attacker")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 30))
        .sign(private, hashes.SHA256())
    )


def certificate_der_b64(pem: bytes) -> str:
    """The standard-base64 DER form used in an ``x5c`` header."""
    import base64

    cert = x509.load_pem_x509_certificate(pem)
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
