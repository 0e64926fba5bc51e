"""Signature and algorithm defects: tokens whose signature proves nothing (RFC 8725 section 3.1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..base64url import decode as b64url_decode
from ..base64url import encode as b64url
from .edits import attacker_signature, hmac_with, no_signature, set_header
from .jose import dumps, key_sign
from .model import Defect, MintContext

ALG_NONE_SPEC = "RFC 9068 §4; RFC 8725 §3.1"
CONFUSION_SPEC = "RFC 8725 §2.1, §3.1; RFC 7515 §5.2"

#: for each IdP algorithm, another one the same key could (mis)declare
_OTHER_ALG = {"RS256": "PS256", "PS256": "RS256", "ES256": "ES384", "EdDSA": "Ed25519", "Ed25519": "EdDSA"}


def _alg_none(name: str, variant: str) -> Defect:
    if variant == "none":
        consequence = (
            "anyone forges any token without a key; the usual cause is taking the algorithm "
            "from the token instead of pinning it"
        )
    else:
        consequence = (
            "anyone forges any token without a key: a case-sensitive `none` blocklist lets it through"
        )
    return Defect(
        consequence=consequence,
        name=name,
        group="signature",
        description=f'`alg: "{variant}"` with an empty signature',
        spec=ALG_NONE_SPEC if variant == "none" else ALG_NONE_SPEC + "; RFC 8725bis §2.11",
        check="alg",
        header=set_header(alg=variant),
        sign=no_signature,
        touches=frozenset({"header:alg"}),
    )


def _truncate(token: str, ctx: MintContext) -> str:
    return token[:-4]


def _tamper(token: str, ctx: MintContext) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["sub"] = "admin"
    return f"{head}.{b64url(dumps(claims))}.{signature}"


def _public_pem(ctx: MintContext) -> bytes:
    return bytes(ctx.key.key.as_pem(private=False))


def _public_key(ctx: MintContext) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(_public_pem(ctx))


def _public_der(ctx: MintContext) -> bytes:
    """The IdP's public key as DER SubjectPublicKeyInfo (what python-jose takes as an HMAC key)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return bytes(_public_key(ctx).public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def _public_openssh(ctx: MintContext) -> bytes:
    """The IdP's public key as an OpenSSH line (``ssh-rsa AAAA...``)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return bytes(_public_key(ctx).public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH))


def _alg_value(value: Any) -> Any:
    """A header edit that sets ``alg`` to ``value(ctx)`` (JSON null kept, unlike set_header)."""

    def edit(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        return {**header, "alg": value(ctx)}

    return edit


def _der_signature(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
    """The IdP's ES256 signature in ASN.1 DER form instead of JWS's raw r || s (RFC 7518 §3.4)."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    if ctx.key.alg != "ES256":  # meaningful for an ES256 IdP only (requires_alg): r = s = 1
        return bytes(encode_dss_signature(1, 1))
    raw = key_sign(data, ctx.key.key, "ES256")
    return bytes(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")))


def _public_jwk_json(ctx: MintContext) -> bytes:
    return dumps(ctx.key.public_jwk())


def _zero_signature(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
    return bytes(64)


def _other_alg(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**header, "alg": _OTHER_ALG.get(ctx.key.alg, "RS512")}


def _sign_as_declared(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
    """A real signature by the IdP key with the declared alg where the key supports it."""
    declared = str(header["alg"])
    both_rsa = {declared, ctx.key.alg} <= {"RS256", "PS256"}
    return key_sign(data, ctx.key.key, declared if both_rsa else ctx.key.alg)


def _confusion(
    encoding: str, as_what: str, cve: str, consequence: str, secret: Callable[[MintContext], bytes]
) -> Defect:
    """``alg: HS256`` keyed with the IdP's public key in one encoding (RS-to-HS key confusion)."""
    return Defect(
        name=f"alg-confusion-hs256-{encoding}",
        group="signature",
        description=f"`alg: HS256` keyed with the IdP's {as_what}",
        spec=CONFUSION_SPEC + cve,
        check="alg",
        consequence=consequence,
        header=set_header(alg="HS256"),
        sign=hmac_with(secret),
        touches=frozenset({"header:alg"}),
    )


DEFECTS: tuple[Defect, ...] = (
    _alg_none("alg-none", "none"),
    _alg_none("alg-none-capitalized", "None"),
    _alg_none("alg-none-uppercase", "NONE"),
    _alg_none("alg-none-mixed-case", "nOnE"),
    Defect(
        name="signature-empty",
        group="signature",
        description="the real `alg` is kept but the signature segment is empty",
        spec="RFC 7515 §5.2; CVE-2020-28042",
        check="signature",
        consequence="anyone forges any token by leaving the signature out (CVE-2020-28042, ServiceStack)",
        sign=no_signature,
    ),
    Defect(
        name="signature-truncated",
        group="signature",
        description="the last characters of a valid signature are cut off",
        spec="RFC 7515 §5.2",
        check="signature",
        consequence="the signature is not compared in full: claims can be changed without the IdP's key",
        rewrite=_truncate,
    ),
    Defect(
        name="payload-tampered",
        group="signature",
        description="`sub` changed to `admin` after signing; the old signature kept",
        spec="RFC 7515 §5.2; RFC 9068 §4",
        check="signature",
        consequence=(
            "anyone rewrites any claim (here `sub` becomes `admin`): the signature is never checked, "
            "e.g. PyJWT with `verify_signature: False`"
        ),
        rewrite=_tamper,
        touches=frozenset({"encode"}),
    ),
    Defect(
        name="signature-unknown-key",
        group="signature",
        description="validly signed by a key the IdP never published, reusing the IdP's `kid`",
        spec="RFC 9068 §4; OIDC Core §10.1.1",
        check="signature",
        consequence="anyone signs tokens with their own key: the API does not verify with the IdP's keys",
        sign=attacker_signature(),
    ),
    _confusion(
        "pem",
        "public key as PEM (RS-to-HS confusion)",
        "; CVE-2016-10555",
        "anyone holding the published public key signs tokens; the usual cause is a library told to "
        "accept every algorithm (jwt-simple CVE-2016-10555, PyJWT CVE-2022-29217)",
        _public_pem,
    ),
    _confusion(
        "jwk",
        "public JWK as compact JSON text",
        "",
        "anyone holding the published JWK signs tokens (HMAC keyed with the key's JSON text; "
        "PyJWT CVE-2026-48526 with HS and RS both allowed)",
        _public_jwk_json,
    ),
    _confusion(
        "der",
        "public key as DER (SubjectPublicKeyInfo)",
        "; CVE-2024-33663",
        "anyone holding the published public key signs tokens (python-jose CVE-2024-33663: its "
        "PEM guard misses DER keys)",
        _public_der,
    ),
    _confusion(
        "openssh",
        "public key as an OpenSSH line (`ssh-rsa AAAA...`)",
        "; CVE-2024-33663",
        "anyone holding the published public key signs tokens (python-jose CVE-2024-33663: "
        "OpenSSH-encoded keys used as HMAC secrets)",
        _public_openssh,
    ),
    Defect(
        name="alg-empty",
        group="signature",
        description='`alg: ""` with an empty signature',
        spec=ALG_NONE_SPEC + "; RFC 7515 §4.1.1",
        check="alg",
        consequence="anyone forges any token without a key: an empty `alg` falls through to no verification",
        header=set_header(alg=""),
        sign=no_signature,
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="alg-null",
        group="signature",
        description="`alg: null` with an empty signature",
        spec=ALG_NONE_SPEC + "; RFC 7515 §4.1.1",
        check="alg",
        consequence="anyone forges any token without a key: a null `alg` falls through to no verification",
        header=_alg_value(lambda ctx: None),
        sign=no_signature,
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="alg-padded",
        group="signature",
        description="`alg` is the IdP's algorithm with spaces around it; the signature is otherwise valid",
        spec="RFC 7515 §4.1.1 (case-sensitive string); RFC 8725 §3.1",
        severity="should",
        check="alg",
        consequence=(
            "none by itself (the IdP's key signed it); an API that trims or folds `alg` is one step "
            "from a `none` or HMAC bypass"
        ),
        header=_alg_value(lambda ctx: f" {ctx.key.alg} "),
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="alg-lowercase",
        group="signature",
        description="`alg` is the IdP's algorithm in lower case; the signature is otherwise valid",
        spec="RFC 7515 §4.1.1 (case-sensitive string); RFC 8725 §3.1",
        severity="should",
        check="alg",
        consequence=(
            "none by itself (the IdP's key signed it); an API that folds case in `alg` is one step "
            "from a `None`/`NONE` bypass"
        ),
        header=_alg_value(lambda ctx: ctx.key.alg.lower()),
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="alg-array",
        group="signature",
        description="`alg` is an array holding the IdP's algorithm; the signature is otherwise valid",
        spec="RFC 7515 §4.1.1 (a string)",
        severity="should",
        check="alg",
        consequence="none by itself (the IdP's key signed it); an API that crashes on it fails as crashed",
        header=_alg_value(lambda ctx: [ctx.key.alg]),
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="es256-der-signature",
        group="signature",
        description="the IdP's ES256 signature in ASN.1 DER form instead of the raw 64-byte r || s",
        spec="RFC 7518 §3.4",
        severity="should",
        check="signature",
        consequence=(
            "none by itself (the IdP's key signed it); DER is malleable, so one token has many "
            "accepted spellings (replay caches keyed by token miss them)"
        ),
        requires_alg="ES256",
        header=set_header(alg="ES256"),
        sign=_der_signature,
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="es256-zero-signature",
        group="signature",
        description="`alg: ES256`, the IdP's `kid`, and r = s = 0 (psychic signature)",
        spec="RFC 8725 §3.3; CVE-2022-21449",
        check="signature",
        consequence="anyone forges any token with r = s = 0 (Java 15-18 ECDSA, CVE-2022-21449)",
        requires_alg="ES256",
        header=set_header(alg="ES256"),
        sign=_zero_signature,
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="alg-key-mismatch",
        group="signature",
        description="signed by the IdP key but declaring another algorithm than the key's",
        spec="RFC 8725 §3.1 (one algorithm per key); RFC 7515 §5.2",
        check="alg",
        consequence="the token picks the algorithm for the IdP's key: the first step of key confusion",
        header=_other_alg,
        sign=_sign_as_declared,
        touches=frozenset({"header:alg"}),
    ),
    Defect(
        name="hs256-guessable-secret",
        group="signature",
        description="`alg: HS256` signed with the dictionary secret `secret`",
        spec="RFC 8725 §2.2, §3.5",
        check="alg",
        consequence="anyone who guesses the secret `secret` forges tokens: the API trusts a shared HMAC key",
        header=set_header(alg="HS256"),
        sign=hmac_with(lambda ctx: b"secret"),
        touches=frozenset({"header:alg"}),
    ),
)
