"""Header injection defects: the token tells the validator where to find its key, or breaks ``kid``.

A resource server must use only the keys its issuer publishes (RFC 9068 §4) and never fetch
a URL a token names (RFC 8725 §3.10). The attacker JWKS and certificate that ``jku``/``x5u``
point at are hosted by mockidp itself, so following them stays on loopback.
"""

from __future__ import annotations

import secrets
from typing import Any

from .attacker import CERT_NAME, JWKS_NAME, certificate_der_b64
from .edits import attacker_key, attacker_signature, attacker_url, hmac_with, set_header
from .model import Defect, MintContext

ATTACKER_ALG = "RS256"
INJECTION_SPEC = "RFC 9068 §4; RFC 8725 §2.9, §3.10"
KID_TRAVERSAL = "../../../../../../dev/null"
KID_SQL = "x' UNION SELECT 'mockidp';--"
KID_COMMAND = "mockidp|sleep 10"


def _jku(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    kid = attacker_key(ctx, ATTACKER_ALG).kid
    return {**header, "alg": ATTACKER_ALG, "kid": kid, "jku": attacker_url(ctx, JWKS_NAME)}


def _jwk_ec(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    key = attacker_key(ctx, "ES256")
    return {**header, "alg": "ES256", "kid": key.kid, "jwk": key.public_jwk()}


def _kid_value(value: Any) -> Any:
    """A header edit that sets ``kid`` to ``value(ctx)``: any JSON value, null kept."""

    def edit(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        return {**header, "kid": value(ctx)}

    return edit


def _x5u(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    out = {k: v for k, v in header.items() if k != "kid"}
    return {**out, "alg": ATTACKER_ALG, "x5u": attacker_url(ctx, CERT_NAME)}


def _jwk(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    key = attacker_key(ctx, ATTACKER_ALG)
    return {**header, "alg": ATTACKER_ALG, "kid": key.kid, "jwk": key.public_jwk()}


def _x5c(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    pem = ctx.idp.attacker.certificate_pem(attacker_key(ctx, ATTACKER_ALG))
    out = {k: v for k, v in header.items() if k != "kid"}
    return {**out, "alg": ATTACKER_ALG, "x5c": [certificate_der_b64(pem)]}


def _unknown_kid(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**header, "kid": f"mockidp-unknown-{secrets.token_hex(4)}"}


def _publish_second_key(ctx: MintContext) -> None:
    """Make sure the JWKS has several keys (rotation with grace keeps the old one published)."""
    if len(ctx.idp.keys.keys) < 2:
        ctx.idp.keys.rotate(keep=1)


def _drop_kid(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {k: v for k, v in header.items() if k != "kid"}


_KEY_HEADER = frozenset({"header:alg", "header:kid"})


def _attacker(
    name: str,
    param: str,
    edit: Any,
    description: str,
    spec: str,
    consequence: str,
    alg: str = ATTACKER_ALG,
) -> Defect:
    return Defect(
        name=name,
        consequence=consequence,
        group="header",
        description=description,
        spec=spec,
        check="header-key",
        header=edit,
        sign=attacker_signature(alg),
        touches=_KEY_HEADER | {f"header:{param}"},
    )


def _kid(name: str, kid: str, secret: bytes, description: str, consequence: str) -> Defect:
    return Defect(
        name=name,
        consequence=consequence,
        group="header",
        description=description,
        spec=INJECTION_SPEC,
        check="kid",
        header=set_header(alg="HS256", kid=kid),
        sign=hmac_with(lambda ctx: secret),
        touches=_KEY_HEADER,
    )


def _odd_kid(name: str, value: Any, description: str, consequence: str) -> Defect:
    """A ``kid`` of the wrong shape on a token the IdP's key signed: form only."""
    return Defect(
        name=name,
        group="header",
        description=description,
        spec="RFC 7515 §4.1.4 (a string); RFC 8725 §3.10",
        severity="should",
        check="kid",
        consequence=consequence,
        header=_kid_value(value),
        touches=frozenset({"header:kid"}),
    )


DEFECTS: tuple[Defect, ...] = (
    _attacker(
        "jku-attacker",
        "jku",
        _jku,
        "`jku` points at an attacker JWKS (hosted by mockidp) whose key signed the token",
        "RFC 8725 §2.9, §3.10; RFC 9068 §4",
        "anyone hosting a JWKS signs tokens the API trusts, and the API fetches URLs attackers choose",
    ),
    _attacker(
        "x5u-attacker",
        "x5u",
        _x5u,
        "`x5u` points at an attacker certificate (hosted by mockidp) whose key signed the token",
        "RFC 7515 §4.1.5; RFC 8725 §3.10; RFC 9068 §4",
        "anyone hosting a certificate signs tokens the API trusts, and the API fetches URLs attackers choose",
    ),
    _attacker(
        "jwk-embedded",
        "jwk",
        _jwk,
        "the attacker's public key embedded in the `jwk` header signed the token",
        "RFC 7515 §4.1.3; RFC 9068 §4; CVE-2018-0114",
        "anyone signs tokens with their own key and ships it in the token (node-jose CVE-2018-0114)",
    ),
    _attacker(
        "jwk-embedded-ec",
        "jwk",
        _jwk_ec,
        "the attacker's EC P-256 public key embedded in the `jwk` header signed the ES256 token",
        "RFC 7515 §4.1.3; RFC 9068 §4; CVE-2026-27962",
        "anyone signs tokens with their own EC key and ships it in the token (Authlib CVE-2026-27962: "
        "an embedded EC `jwk` used when no key is passed)",
        alg="ES256",
    ),
    _attacker(
        "x5c-embedded",
        "x5c",
        _x5c,
        "a self-signed attacker certificate embedded in `x5c` signed the token",
        "RFC 7515 §4.1.6; RFC 9068 §4",
        "anyone signs tokens with a self-signed certificate the API never chains to the IdP",
    ),
    _kid(
        "kid-path-traversal",
        KID_TRAVERSAL,
        b"",
        "`kid` is a path to /dev/null and the token is HS256 with an empty key",
        "anyone signs tokens with an empty key: `kid` is used as a file path",
    ),
    _kid(
        "kid-sql-injection",
        KID_SQL,
        b"mockidp",
        "`kid` is an SQL injection selecting the HS256 key the token is signed with",
        "anyone chooses the verification key: `kid` reaches an SQL query",
    ),
    Defect(
        name="kid-command-injection",
        group="header",
        description="`kid` carries a shell command (`|sleep 10`); the signature is otherwise valid",
        spec=INJECTION_SPEC,
        severity="should",
        check="kid",
        consequence=(
            "none by itself (the IdP's key signed it, so the API ignores `kid`); an API that runs "
            "the command hangs and fails as crashed"
        ),
        header=set_header(kid=KID_COMMAND),
        touches=frozenset({"header:kid"}),
    ),
    Defect(
        name="kid-unknown",
        group="header",
        description="`kid` names no key in the IdP's JWKS",
        spec="RFC 9068 §4; RFC 7515 §4.1.4",
        severity="should",
        check="kid",
        consequence="none by itself: the IdP's key signed it; the API tries keys instead of using `kid`",
        header=_unknown_kid,
        touches=frozenset({"header:kid"}),
    ),
    Defect(
        name="kid-absent-several-keys",
        group="header",
        description=(
            "no `kid` while the JWKS publishes several keys (an extra key is rotated in); "
            "trying each published key is also correct"
        ),
        spec="OIDC Core §10.1; RFC 7517 §4.5",
        severity="should",
        check="kid",
        consequence="none by itself: the IdP's key signed it; refusing it is also correct",
        prepare=_publish_second_key,
        header=_drop_kid,
        touches=frozenset({"header:kid"}),
    ),
    _odd_kid(
        "kid-null",
        lambda ctx: None,
        "`kid` is JSON null; the IdP's key signed the token",
        "none by itself; an API that maps null to a default or first key is one step from key confusion",
    ),
    _odd_kid(
        "kid-number",
        lambda ctx: 1,
        "`kid` is a JSON number; the IdP's key signed the token",
        "none by itself; a number used as an index into the key list selects keys the token chooses",
    ),
    _odd_kid(
        "kid-array",
        lambda ctx: [ctx.key.kid],
        "`kid` is an array holding the IdP's kid; the IdP's key signed the token",
        "none by itself; an API that crashes on it fails as crashed",
    ),
    _odd_kid(
        "kid-wildcard",
        lambda ctx: "*",
        '`kid` is `"*"`; the IdP\'s key signed the token',
        "none by itself; a key store that treats `*` as a pattern lets the token choose its key",
    ),
    _odd_kid(
        "kid-nosql-operator",
        lambda ctx: {"$ne": None},
        '`kid` is the NoSQL operator `{"$ne": null}`; the IdP\'s key signed the token',
        "none by itself; a document store queried with it returns whichever key it finds first",
    ),
    _odd_kid(
        "kid-crlf",
        lambda ctx: f"{ctx.key.kid}\r\nX-Mockidp-Injected: 1",
        "`kid` is the IdP's kid followed by CRLF and a header line; the IdP's key signed the token",
        "none by itself; an API that puts `kid` into a log line or HTTP request lets the token forge them",
    ),
    Defect(
        name="crit-unknown",
        group="header",
        description="`crit` lists an extension header the validator cannot understand",
        spec="RFC 7515 §4.1.11",
        check="crit",
        consequence="a restriction the issuer marked critical is ignored, so the token does more than meant",
        header=set_header(crit=["x-mockidp-critical"], **{"x-mockidp-critical": True}),
        touches=frozenset({"header:crit"}),
    ),
    Defect(
        name="crit-b64-false",
        group="header",
        description="`crit: [b64]` with `b64: false` (RFC 7797 unencoded payload) on a JWT",
        spec="RFC 7797 §6, §7; RFC 7515 §4.1.11",
        check="crit",
        consequence="the API reads another payload encoding than the signed one: it trusts unsigned bytes",
        header=set_header(crit=["b64"], b64=False),
        touches=frozenset({"header:crit"}),
    ),
    Defect(
        name="crit-empty",
        group="header",
        description="`crit` is an empty array; the signature is otherwise valid",
        spec="RFC 7515 §4.1.11 (producers MUST NOT use [])",
        severity="should",
        check="crit",
        consequence=(
            "none by itself (the IdP's key signed it); `crit` edge cases are where libraries skip "
            "the check altogether (Authlib CVE-2025-59420)"
        ),
        header=set_header(crit=[]),
        touches=frozenset({"header:crit"}),
    ),
    Defect(
        name="crit-lists-alg",
        group="header",
        description="`crit` lists `alg`, a header RFC 7515 defines; the signature is otherwise valid",
        spec="RFC 7515 §4.1.11",
        severity="should",
        check="crit",
        consequence=(
            "none by itself (the IdP's key signed it); refusing it is what RFC 7515 allows, accepting "
            "it shows `crit` is not read (Authlib CVE-2025-59420)"
        ),
        header=set_header(crit=["alg"]),
        touches=frozenset({"header:crit"}),
    ),
    Defect(
        name="b64-false-without-crit",
        group="header",
        description="`b64: false` without `crit` listing it; the payload is encoded and signed as usual",
        spec="RFC 7797 §6 (b64 MUST be listed in crit)",
        severity="should",
        check="crit",
        consequence=(
            "none by itself (the IdP's key signed it); an API that honours `b64` without `crit` reads "
            "another payload than other validators do (PyJWT CVE-2026-32597)"
        ),
        header=set_header(b64=False),
        touches=frozenset({"header:crit"}),
    ),
)
