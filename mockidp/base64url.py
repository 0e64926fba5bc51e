"""base64url without padding (RFC 7515 section 2), the encoding of every JOSE segment.

The one place that knows the padding idiom: encoders strip ``=``, :func:`decode` restores it,
:func:`decode_strict` refuses what a strict JWS parser must (padding, characters outside the
base64url alphabet), so lenient decoding is always a choice made by name.
"""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode(data: bytes) -> str:
    """``data`` as unpadded base64url text (``urlsafe_b64encode`` without its two Python layers:
    three segments of every signed token go through here)."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode("ascii")


def decode(text: str) -> bytes:
    """Unpadded (or padded) base64url text as bytes; raises ``ValueError`` when it is not base64."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_strict(text: str) -> bytes:
    """Like :func:`decode`, but only canonical unpadded base64url is accepted (RFC 7515 §2).

    Canonical (RFC 4648 §3.5): the unused bits of the last character are zero, so each byte
    string has exactly one spelling and a token cannot be altered without breaking it.
    """
    if _ALPHABET.fullmatch(text) is None or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = decode(text)
    if encode(data) != text:
        raise ValueError("not canonical base64url")
    return data
