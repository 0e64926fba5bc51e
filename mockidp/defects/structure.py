"""Structure and encoding defects: not a compact JWS, or JSON a strict parser must refuse.

Where the defect is inside a segment (JSON text, encoding), the segment is still signed by the
IdP key, so a validator that skips the structural check would find the signature valid.
"""

from __future__ import annotations

import json
import secrets
import zlib
from typing import Any

from ..base64url import encode as b64url
from .jose import compact, dumps, signing_input
from .model import Defect, Encoder, MintContext

SIZE_LIMIT = 4096
#: bytes of base64url padding: the token lands between SIZE_LIMIT and common 8 KB header limits
OVERSIZED = 6144
COMPACT_SPEC = "RFC 7515 §7.1; RFC 7519 §7.2 (1)"


#: how far the ``zip`` payload inflates: far more than any token, yet bounded (a few MB)
INFLATED_BYTES = 2 * 1024 * 1024


def _deflated(header: dict[str, Any], claims: dict[str, Any], ctx: MintContext) -> tuple[bytes, bytes]:
    """``zip: DEF`` on a JWS: the claims JSON and megabytes of trailing spaces, raw-deflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = packer.compress(dumps(claims) + b" " * INFLATED_BYTES) + packer.flush()
    return dumps({**header, "zip": "DEF"}), body


def _nested(header: dict[str, Any], claims: dict[str, Any], ctx: MintContext) -> tuple[bytes, bytes]:
    """``cty: JWT`` with an unsigned inner token (``alg: none``) carrying the claims."""
    inner_header = {"alg": "none", "typ": header.get("typ", "at+jwt")}
    inner = compact(signing_input(dumps(inner_header), dumps(claims)), b"")
    return dumps({**header, "cty": "JWT"}), inner.encode("ascii")


def _drop_signature(token: str, ctx: MintContext) -> str:
    return token.rsplit(".", 1)[0]


def _extra_segment(token: str, ctx: MintContext) -> str:
    return f"{token}.{b64url(b'{}')}"


def _opaque(token: str, ctx: MintContext) -> str:
    return f"mockidp-opaque-{secrets.token_urlsafe(24)}"


def _json_serialization(token: str, ctx: MintContext) -> str:
    head, payload, signature = token.split(".")
    return json.dumps({"payload": payload, "protected": head, "signature": signature}, separators=(",", ":"))


def _unpadded_payload(
    header: dict[str, Any], claims: dict[str, Any], ctx: MintContext
) -> tuple[bytes, bytes]:
    """Compact JSON; a trailing space (still valid JSON) so the payload needs base64 padding."""
    payload = dumps(claims)
    if len(payload) % 3 == 0:
        payload += b" "
    return dumps(header), payload


def _pad(token: str, ctx: MintContext) -> str:
    return ".".join(s + "=" * (-len(s) % 4) for s in token.split("."))


def _bad_character(token: str, ctx: MintContext) -> str:
    head, payload, signature = token.split(".")
    middle = len(payload) // 2
    return f"{head}.{payload[:middle]}*{payload[middle:]}.{signature}"


def _encoder(header_text: Any = None, payload_text: Any = None) -> Encoder:
    def encode(header: dict[str, Any], claims: dict[str, Any], ctx: MintContext) -> tuple[bytes, bytes]:
        head = header_text(header) if header_text else dumps(header)
        return head, payload_text(claims) if payload_text else dumps(claims)

    return encode


def _pad_claims(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**claims, "mockidp_padding": "x" * (OVERSIZED * 3 // 4)}


#: what accepting a token only the trusted IdP could have signed, malformed in form only, costs
FORM_ONLY = "none by itself: the trusted IdP signed it for this API; "


def _structure(name: str, description: str, spec: str, check: str, consequence: str, **stages: Any) -> Defect:
    """A structure defect; ``consequence`` starting with :data:`FORM_ONLY` makes it a ``should``."""
    default = "should" if consequence.startswith(FORM_ONLY) else "must"
    return Defect(
        name=name,
        consequence=consequence,
        group="structure",
        description=description,
        spec=spec,
        severity=stages.pop("severity", default),
        check=check,
        **stages,
    )


DEFECTS: tuple[Defect, ...] = (
    _structure(
        "segments-two",
        "two segments: the signature segment and its dot are gone",
        COMPACT_SPEC,
        "malformed",
        "anyone forges claims: a token without a signature segment is accepted",
        rewrite=_drop_signature,
    ),
    _structure(
        "segments-four",
        "four segments: an extra segment after the signature",
        COMPACT_SPEC,
        "malformed",
        FORM_ONLY + "the API ignores what follows the signature",
        rewrite=_extra_segment,
    ),
    _structure(
        "not-a-jwt",
        "an opaque random string where a JWT is expected",
        "RFC 7519 §7.2 (1); RFC 6750 §3.1",
        "malformed",
        "a random string is accepted: no authentication at all",
        rewrite=_opaque,
    ),
    _structure(
        "jws-json-serialization",
        "the flattened JWS JSON serialization instead of the compact one",
        "RFC 7519 §7.2 (1); RFC 8725bis §3.14",
        "malformed",
        FORM_ONLY + "a validator that takes other serializations may also take unprotected headers",
        rewrite=_json_serialization,
    ),
    _structure(
        "base64-padding",
        "segments carry `=` padding (base64url in JWS has none)",
        "RFC 7515 §2 (Base64url Encoding); RFC 7519 §7.2 (3)",
        "base64",
        FORM_ONLY + "the API normalises the token before verifying",
        encode=_unpadded_payload,
        rewrite=_pad,
    ),
    _structure(
        "base64-invalid-character",
        "a `*` (not in the base64url alphabet) inside the payload segment",
        "RFC 7515 §2; RFC 7519 §7.2 (3)",
        "base64",
        "the API verifies other bytes than it parses: claims can change without the IdP's key",
        rewrite=_bad_character,
    ),
    _structure(
        "header-not-json",
        "the signed header is truncated JSON (closing brace missing)",
        "RFC 7515 §5.2 (3, 4); RFC 7519 §7.2 (4)",
        "json",
        FORM_ONLY + "its JSON parser repairs broken input",
        encode=_encoder(header_text=lambda header: dumps(header)[:-1]),
    ),
    _structure(
        "payload-not-json",
        "the signed payload is JSON followed by trailing junk",
        "RFC 7519 §7.2 (10)",
        "json",
        FORM_ONLY + "its JSON parser ignores trailing text",
        encode=_encoder(payload_text=lambda claims: dumps(claims) + b"x"),
    ),
    _structure(
        "payload-not-object",
        "the signed payload is a JSON array holding the claims",
        "RFC 7519 §7.2 (10)",
        "not-object",
        FORM_ONLY + "claims are read from something that is not a JSON object",
        encode=_encoder(payload_text=lambda claims: dumps([claims])),
    ),
    _structure(
        "payload-utf16",
        "the signed payload is JSON encoded as UTF-16 instead of UTF-8",
        "RFC 7519 §7.2 (10); RFC 8725 §3.7",
        "json",
        FORM_ONLY + "PyJWT accepts it (Python's json.loads detects UTF-16)",
        encode=_encoder(payload_text=lambda claims: json.dumps(claims).encode("utf-16")),
    ),
    _structure(
        "header-duplicate-alg",
        'the header names `alg` twice: `"none"` first, the real one last (last-wins parsing is allowed)',
        "RFC 7515 §4 (duplicate names); RFC 8725 §3.1",
        "duplicate-key",
        FORM_ONLY + "a validator reading the first `alg` would see `none`",
        encode=_encoder(header_text=lambda header: b'{"alg":"none",' + dumps(header)[1:]),
    ),
    _structure(
        "payload-duplicate-sub",
        'the claims name `sub` twice: `"admin"` first, the real one last (last-wins parsing is allowed)',
        "RFC 7519 §4 (duplicate names)",
        "duplicate-key",
        FORM_ONLY + "a component reading the first `sub` would see `admin`",
        encode=_encoder(payload_text=lambda claims: b'{"sub":"admin",' + dumps(claims)[1:]),
        touches=frozenset({"claim:sub"}),
    ),
    _structure(
        "oversized",
        "a validly signed token of about 7 KB: over a 4 KB size limit, under 8 KB header limits",
        "RFC 8725bis §3.13; RFC 6750 §3.1",
        "size",
        FORM_ONLY + "very large tokens cost memory and CPU on every request",
        claims=_pad_claims,
        touches=frozenset({"claim:mockidp_padding"}),
    ),
    Defect(
        name="zip-deflate-bomb",
        group="structure",
        description=(
            "`zip: DEF` on a JWS: a ~2 KB deflated payload that inflates to 2 MB of JSON and spaces, "
            "signed by the IdP"
        ),
        spec="RFC 7516 §4.1.3 (zip is for JWE only); RFC 8725 §3.6",
        severity="should",
        check="zip",
        consequence=(
            "none by itself (the IdP's key signed it); an API that inflates before verifying can be "
            "made to allocate without bound by anyone (python-jose CVE-2024-33664)"
        ),
        encode=_deflated,
        touches=frozenset({"header:zip"}),
    ),
    Defect(
        name="cty-jwt-nested",
        group="structure",
        description="`cty: JWT` with an unsigned (`alg: none`) inner token as the signed payload",
        spec="RFC 7519 §5.2, §7.2 (8); RFC 9068 §4; RFC 8725 §3.11",
        severity="should",
        check="nested",
        consequence=(
            "none by itself (the IdP's key signed the outer token); an API that unwraps nested "
            "tokens and trusts the inner one's claims without its signature is forged that way"
        ),
        encode=_nested,
        touches=frozenset({"header:cty"}),
    ),
)
