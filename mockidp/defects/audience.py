"""Audience and issuer defects: a token for someone else, or from someone who looks like the IdP.

Both claims must match exactly (RFC 9068 §4); look-alikes catch prefix, suffix and
normalising comparisons.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .edits import drop_claim, set_claim
from .model import ACCESS, BOTH, Defect, MintContext, TokenKind

FOREIGN_AUDIENCE = "https://other-api.mockidp.invalid"
FOREIGN_ISSUER = "https://wrong-issuer.mockidp.invalid"
AUD_SPEC = "RFC 9068 §4; RFC 8707 §2; RFC 7519 §4.1.3"
ISS_SPEC = "RFC 9068 §4 (exact match); RFC 8414 §3.3"


def lookalike(value: str) -> str:
    """``https://api.example.com`` -> ``https://api.example.com.evil.example``; else a suffix."""
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        host = parts.hostname or ""
        netloc = parts.netloc.replace(host, f"{host}.evil.example", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return f"{value}.evil.example"


def _other_audience(claims: dict[str, Any], ctx: MintContext) -> str:
    """Another registered API when there is one (token passthrough), else a foreign URL."""
    apis = [a for a in ctx.idp.api_audiences() if a not in ctx.audiences]
    return apis[0] if apis and ctx.kind == "access" else FOREIGN_AUDIENCE


def _lookalike_audience(claims: dict[str, Any], ctx: MintContext) -> str:
    return lookalike(ctx.audiences[0])


def _swap_scheme(claims: dict[str, Any], ctx: MintContext) -> str:
    scheme, rest = ctx.issuer.split("://", 1)
    return f"{'http' if scheme == 'https' else 'https'}://{rest}"


def _upper_host(claims: dict[str, Any], ctx: MintContext) -> str:
    parts = urlsplit(ctx.issuer)
    return urlunsplit(parts._replace(scheme=parts.scheme.upper(), netloc=parts.netloc.upper()))


def _suffixed_issuer(claims: dict[str, Any], ctx: MintContext) -> str:
    """The issuer with more text after it: what ``iss.startswith(issuer)`` lets through."""
    return f"{ctx.issuer.rstrip('/')}.evil.example"


def _prefix(value: str) -> str:
    """A proper prefix of ``value``: its parent path, else the value with its last character cut."""
    parts = urlsplit(value)
    path = parts.path.rstrip("/")
    if parts.scheme and parts.netloc and path:
        return urlunsplit(parts._replace(path=path.rsplit("/", 1)[0] or "/", query="", fragment=""))
    return value[:-1]


def _percent_encoded(claims: dict[str, Any], ctx: MintContext) -> str:
    """The first character of the host percent-encoded (``127.0.0.1`` -> ``%31.0.0.1``)."""
    scheme, rest = ctx.issuer.split("://", 1)
    return f"{scheme}://%{ord(rest[0]):02X}{rest[1:]}"


def _explicit_port(claims: dict[str, Any], ctx: MintContext) -> str:
    """The same origin with its port written differently: ``:443`` added, dropped, or ``:08080``."""
    parts = urlsplit(ctx.issuer)
    default = {"https": 443, "http": 80}.get(parts.scheme, 443)
    if parts.port is None:
        netloc = f"{parts.netloc}:{default}"
    elif parts.port == default:
        netloc = parts.netloc.rsplit(":", 1)[0]
    else:
        netloc = f"{parts.netloc.rsplit(':', 1)[0]}:0{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _unicode_lookalike(claims: dict[str, Any], ctx: MintContext) -> str:
    """The first character of the host as its full-width form, which NFKC maps back to ASCII."""
    scheme, rest = ctx.issuer.split("://", 1)
    first = rest[0]
    return f"{scheme}://{chr(ord(first) + 0xFEE0)}{rest[1:]}"


def _resource(ctx: MintContext) -> str:
    return ctx.audiences[0]


def _resource_slash(claims: dict[str, Any], ctx: MintContext) -> str:
    resource = _resource(ctx)
    return resource[:-1] if resource.endswith("/") else resource + "/"


def _resource_case(claims: dict[str, Any], ctx: MintContext) -> str:
    resource = _resource(ctx)
    return resource.upper() if resource.upper() != resource else resource.lower()


def _resource_prefix(claims: dict[str, Any], ctx: MintContext) -> str:
    return _prefix(_resource(ctx))


def _aud(
    name: str,
    description: str,
    value: Any,
    check: str = "aud",
    spec: str = AUD_SPEC,
    consequence: str = "a token minted for another API is accepted here (token passthrough, RFC 8707)",
    applies_to: tuple[TokenKind, ...] = BOTH,
) -> Defect:
    return Defect(
        applies_to=applies_to,
        consequence=consequence,
        name=name,
        group="audience",
        description=description,
        spec=spec,
        check=check,
        claims=set_claim("aud", value),
        touches=frozenset({"claim:aud"}),
    )


def _iss(name: str, description: str, value: Any, consequence: str = "") -> Defect:
    return Defect(
        consequence=consequence
        or "an issuer that merely resembles the IdP is trusted: the comparison normalises, not matches",
        name=name,
        group="audience",
        description=description,
        spec=ISS_SPEC,
        check="iss",
        claims=set_claim("iss", value),
        touches=frozenset({"claim:iss"}),
    )


DEFECTS: tuple[Defect, ...] = (
    _aud("aud-wrong", "`aud` is another API (token passthrough)", _other_audience),
    _aud(
        "aud-lookalike",
        "`aud` is the expected audience with a look-alike host or suffix",
        _lookalike_audience,
    ),
    _aud(
        "aud-array-foreign",
        "`aud` is an array holding only a foreign audience",
        lambda claims, ctx: [FOREIGN_AUDIENCE],
    ),
    _aud(
        "aud-number",
        "`aud` is a JSON number instead of a string or array of strings",
        lambda claims, ctx: 12345,
        check="claim-type",
        spec="RFC 7519 §4.1.3",
        consequence="the audience is not really compared: a token for any API may pass",
    ),
    _aud(
        "aud-empty-array",
        "`aud` is an empty array",
        lambda claims, ctx: [],
        spec=AUD_SPEC + "; CVE-2020-26160",
        consequence=(
            "a token minted for no API at all is accepted by every API (jwt-go CVE-2020-26160: an "
            "empty audience list skipped the check)"
        ),
    ),
    _aud(
        "aud-wildcard",
        '`aud` is `"*"`',
        lambda claims, ctx: "*",
        consequence="one token is accepted by every API of the IdP: `aud` is matched as a pattern",
    ),
    _aud(
        "aud-is-issuer",
        "`aud` is the issuer (as in a client assertion or a token for the IdP itself)",
        lambda claims, ctx: ctx.issuer,
        consequence="a token meant for the IdP (e.g. a client assertion) is replayed at the API",
    ),
    _aud(
        "aud-is-client-id",
        "`aud` is the client_id (as in an ID token)",
        lambda claims, ctx: ctx.client_id,
        consequence="a token meant for the client (an ID token's audience) is accepted as an access token",
        applies_to=ACCESS,
    ),
    _aud(
        "aud-trailing-slash",
        "`aud` is the resource with a trailing `/` added (or removed)",
        _resource_slash,
        consequence=(
            "a token for another resource identifier is accepted: the API normalises the URL "
            "instead of comparing it exactly (MCP resources are URLs, RFC 8707 §2)"
        ),
    ),
    _aud(
        "aud-case-changed",
        "`aud` is the resource upper-cased (scheme, host and path)",
        _resource_case,
        consequence="a token for another resource is accepted: `aud` is compared case-insensitively",
    ),
    _aud(
        "aud-path-prefix",
        "`aud` is a prefix of the resource (its parent path, e.g. the whole host for an MCP server)",
        _resource_prefix,
        consequence=(
            "a token for the whole host (or a sibling) is accepted by one of its resources: the API "
            "matches `aud` as a prefix"
        ),
    ),
    Defect(
        name="aud-missing",
        group="audience",
        description="no `aud` claim",
        spec="RFC 9068 §2.2; RFC 8725 §3.9",
        check="missing-claim",
        consequence="a token minted for any API of this IdP is accepted here",
        claims=drop_claim("aud"),
        touches=frozenset({"claim:aud"}),
    ),
    _iss(
        "iss-wrong",
        "`iss` is a foreign issuer",
        lambda claims, ctx: FOREIGN_ISSUER,
        "tokens of another issuer sharing the keys (another tenant of a multi-tenant IdP) are accepted",
    ),
    _iss(
        "iss-trailing-slash",
        "`iss` is the real issuer with a trailing `/` added",
        lambda claims, ctx: ctx.issuer + "/",
    ),
    _iss("iss-scheme-swapped", "`iss` is the real issuer with http and https swapped", _swap_scheme),
    _iss("iss-case-changed", "`iss` is the real issuer with scheme and host upper-cased", _upper_host),
    _iss(
        "iss-prefix",
        "`iss` is a proper prefix of the real issuer (its parent path, or one character cut)",
        lambda claims, ctx: _prefix(ctx.issuer),
        "another issuer whose name is part of the IdP's is trusted (PyJWT CVE-2024-53861: `iss` "
        "checked with `in` against a string)",
    ),
    _iss(
        "iss-suffix",
        "`iss` is the real issuer with `.evil.example` appended",
        _suffixed_issuer,
        "an issuer anyone can register, whose name starts with the IdP's, is trusted: `iss` is "
        "compared with `startswith`",
    ),
    Defect(
        name="iss-array",
        group="audience",
        description="`iss` is an array holding a foreign issuer and the real one",
        spec=ISS_SPEC + "; RFC 7519 §4.1.1",
        check="claim-type",
        consequence="a foreign issuer's token passes a membership test (`issuer in iss`)",
        claims=set_claim("iss", lambda claims, ctx: [FOREIGN_ISSUER, ctx.issuer]),
        touches=frozenset({"claim:iss"}),
    ),
    _iss(
        "iss-percent-encoded",
        "`iss` is the real issuer with the first host character percent-encoded",
        _percent_encoded,
    ),
    _iss(
        "iss-explicit-port",
        "`iss` writes the issuer's port differently (`:443` added, the default dropped, or a leading 0)",
        _explicit_port,
    ),
    _iss(
        "iss-unicode-lookalike",
        "`iss` is the real issuer with one host character replaced by its full-width Unicode look-alike",
        _unicode_lookalike,
        "an issuer that merely resembles the IdP is trusted: the comparison applies Unicode (NFKC/IDNA) "
        "normalisation",
    ),
    Defect(
        name="iss-missing",
        group="audience",
        description="no `iss` claim",
        spec="RFC 9068 §2.2, §4",
        check="missing-claim",
        consequence="a token of any issuer sharing the keys (another tenant of a multi-tenant IdP) passes",
        claims=drop_claim("iss"),
        touches=frozenset({"claim:iss"}),
    ),
)
