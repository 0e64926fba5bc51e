"""The bare ``cryptography`` signing call for each JWS algorithm, and the signer process.

Two users share this one definition of "what bytes a JWS signature is":

- ``mockidp.keys.SigningKey`` prepares the call once per key (``native_signer``);
- ``mockidp serve`` signs in child processes (``mockidp.web.signers``), which run this file as
  a script: it imports nothing but the standard library and ``cryptography``, so a child
  starts in tens of milliseconds instead of importing mockidp, aiohttp and joserfc.

Why processes: a signing thread in the server process must take the GIL back after every
signature, and under load the event loop holds it; the threads then wait in line behind the
loop (a quarter of the CPU time stayed idle at 10 connections). A child process has its own
GIL, so the loop and the signers never wait for each other.

The child's protocol, on its stdin and stdout, is length-prefixed frames:

- request ``>BII`` (kind, number, length) then ``length`` bytes; kind ``K`` loads key
  ``number`` from ``alg`` + ``\\n`` + PKCS#8 DER, kind ``S`` signs with the key named by the
  first four bytes (``>I``) of the payload the rest of it, answering for request ``number``;
- answer ``>II`` (number, length) then the signature; ``length`` ``0xFFFFFFFF`` means the
  request failed and the parent signs it itself.

The child exits when its stdin closes, so it never outlives the server.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

Signer = Callable[[bytes], bytes]

REQUEST = struct.Struct(">BII")
ANSWER = struct.Struct(">II")
KEY_NUMBER = struct.Struct(">I")
LOAD_KEY = ord("K")
SIGN = ord("S")
FAILED = 0xFFFFFFFF

_SHA256 = hashes.SHA256()
_PKCS1 = padding.PKCS1v15()
_PSS = padding.PSS(mgf=padding.MGF1(_SHA256), salt_length=_SHA256.digest_size)
_ECDSA = ec.ECDSA(_SHA256)


def native_signer(native: Any, alg: str) -> Signer | None:
    """The call that signs for ``alg`` with the ``cryptography`` private key ``native``, or None.

    It is what joserfc's JWS algorithm runs (same padding, same raw ``r || s`` ECDSA form).
    None for a key type that does not fit ``alg``, or an algorithm not handled here (the
    caller then signs through joserfc).
    """
    if alg == "RS256" and isinstance(native, rsa.RSAPrivateKey):
        return lambda data: native.sign(data, _PKCS1, _SHA256)
    if alg == "PS256" and isinstance(native, rsa.RSAPrivateKey):
        return lambda data: native.sign(data, _PSS, _SHA256)
    if alg == "ES256" and isinstance(native, ec.EllipticCurvePrivateKey) and native.curve.name == "secp256r1":

        def es256(data: bytes) -> bytes:
            r, s = decode_dss_signature(native.sign(data, _ECDSA))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        return es256
    if alg in ("EdDSA", "Ed25519") and isinstance(native, ed25519.Ed25519PrivateKey):
        return native.sign
    return None


def key_payload(native: Any, alg: str) -> bytes:
    """What a ``K`` request carries: the algorithm and the private key as PKCS#8 DER."""
    der = native.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return alg.encode("ascii") + b"\n" + bytes(der)


def _load(payload: bytes) -> Signer | None:
    alg, _, der = payload.partition(b"\n")
    # the parent's own key, checked when it was made: skip OpenSSL's slow RSA consistency check
    native = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    return native_signer(native, alg.decode("ascii"))


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer sign requests until ``requests`` ends (the server closed it or exited)."""
    signers: dict[int, Signer | None] = {}
    while True:
        head = _read(requests, REQUEST.size)
        if head is None:
            return
        kind, number, length = REQUEST.unpack(head)
        payload = _read(requests, length)
        if payload is None:
            return
        if kind == LOAD_KEY:
            try:
                signers[number] = _load(payload)
            except Exception:  # noqa: BLE001 - the key's sign requests then fail, and the parent signs
                signers[number] = None
            continue
        signer = signers.get(KEY_NUMBER.unpack_from(payload)[0])
        try:
            if signer is None:
                raise LookupError("no such key")
            signature = signer(payload[KEY_NUMBER.size :])
        except Exception:  # noqa: BLE001 - answered as failed; the parent signs it itself
            answers.write(ANSWER.pack(number, FAILED))
        else:
            answers.write(ANSWER.pack(number, len(signature)) + signature)
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
