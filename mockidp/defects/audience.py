"""Audience and issuer defects: a token for someone else, or from someone who looks like the IdP.

Both claims must match exactly (RFC 9068 §4); look-alikes catch prefix, suffix and
normalising comparisons.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .edits import drop_claim, set_claim
from .model import Defect, MintContext

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
    apis = [a for a in ctx.state.store.apis() if a not in ctx.audiences]
    return apis[0] if apis and ctx.kind == "access" else FOREIGN_AUDIENCE


def _lookalike_audience(claims: dict[str, Any], ctx: MintContext) -> str:
    return lookalike(ctx.audiences[0])


def _swap_scheme(claims: dict[str, Any], ctx: MintContext) -> str:
    scheme, rest = ctx.issuer.split("://", 1)
    return f"{'http' if scheme == 'https' else 'https'}://{rest}"


def _upper_host(claims: dict[str, Any], ctx: MintContext) -> str:
    parts = urlsplit(ctx.issuer)
    return urlunsplit(parts._replace(scheme=parts.scheme.upper(), netloc=parts.netloc.upper()))


def _aud(
    name: str,
    description: str,
    value: Any,
    check: str = "aud",
    spec: str = AUD_SPEC,
    consequence: str = "a token minted for another API is accepted here (token passthrough, RFC 8707)",
) -> Defect:
    return Defect(
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
