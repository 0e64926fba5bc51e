"""Time defects: a token outside its validity window, or with times that are not NumericDates."""

from __future__ import annotations

import datetime
from typing import Any

from .edits import set_claim
from .jose import dumps
from .model import ClaimEdit, Defect, MintContext

HOUR = 3600
#: past a few minutes' leeway (RFC 9068 §4 allows "no more than a few minutes")
RECENT = 600


def _expired(ago: int) -> ClaimEdit:
    """Shift the whole validity window back so ``exp`` lies ``ago`` seconds in the past."""

    def edit(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        exp = int(claims.get("exp", ctx.now))
        shift = exp - (ctx.now - ago)
        out = dict(claims)
        for name in ("exp", "iat", "nbf", "auth_time"):
            if isinstance(out.get(name), int):
                out[name] -= shift
        return out

    return edit


def _iso(name: str) -> ClaimEdit:
    def value(claims: dict[str, Any], ctx: MintContext) -> Any:
        stamp = int(claims.get(name, ctx.now))
        return datetime.datetime.fromtimestamp(stamp, datetime.UTC).isoformat()

    return set_claim(name, value)


def _overflowing_exp(header: dict[str, Any], claims: dict[str, Any], ctx: MintContext) -> tuple[bytes, bytes]:
    """``"exp":1e309``: valid JSON text, but no double holds it; most parsers read infinity."""
    marker = "mockidp-exp-overflow"
    return dumps(header), dumps({**claims, "exp": marker}).replace(dumps(marker), b"1e309")


FORM_ONLY = "none by itself: the trusted IdP minted it for this API; "
_WINDOW = frozenset({"claim:exp", "claim:iat", "claim:nbf"})


def _wrong_type(name: str, severity: Any, consequence: str) -> Defect:
    return Defect(
        consequence=consequence,
        name=f"{name}-string",
        group="time",
        description=f"`{name}` is an ISO 8601 string instead of a NumericDate number",
        spec="RFC 7519 §2 (NumericDate), §4.1",
        severity=severity,
        check="claim-type",
        claims=_iso(name),
        touches=frozenset({f"claim:{name}"}),
    )


DEFECTS: tuple[Defect, ...] = (
    Defect(
        name="expired",
        group="time",
        description="`exp` is an hour in the past (the whole validity window shifted back)",
        spec="RFC 7519 §4.1.4; RFC 9068 §4",
        check="exp",
        consequence="a leaked or stolen token works forever: expiry is not checked",
        claims=_expired(HOUR),
        touches=_WINDOW,
    ),
    Defect(
        name="expired-beyond-leeway",
        group="time",
        description="`exp` is ten minutes in the past: more than any reasonable leeway",
        spec="RFC 9068 §4 (exp MUST be in the future; leeway usually no more than a few minutes)",
        check="exp",
        consequence="a leaked token keeps working long after its lifetime: the leeway is far too generous",
        claims=_expired(RECENT),
        touches=_WINDOW,
    ),
    Defect(
        name="nbf-future",
        group="time",
        description="`nbf` is an hour in the future",
        spec="RFC 7519 §4.1.5",
        check="nbf",
        consequence="a token the issuer meant for later is usable now",
        claims=set_claim("nbf", lambda claims, ctx: ctx.now + HOUR),
        touches=frozenset({"claim:nbf"}),
    ),
    Defect(
        name="iat-future",
        group="time",
        description="`iat` is an hour in the future",
        spec="RFC 9068 §2.2; OIDC Core §3.1.3.7 (10)",
        severity="should",
        check="iat",
        consequence=f"{FORM_ONLY}a future `iat` points at a clock problem",
        claims=set_claim("iat", lambda claims, ctx: ctx.now + HOUR),
        touches=frozenset({"claim:iat"}),
    ),
    _wrong_type("exp", "must", "a token whose expiry the API cannot read never expires for it"),
    _wrong_type(
        "iat",
        "should",
        f"{FORM_ONLY}only the type of `iat` is wrong",
    ),
    Defect(
        name="exp-overflow",
        group="time",
        description="`exp` is the JSON number `1e309`: it parses as infinity (never expires) or overflows",
        spec="RFC 7519 §2 (NumericDate), §4.1.4",
        severity="should",
        check="claim-type",
        consequence=(
            f"{FORM_ONLY}the issuer itself wrote a never-ending `exp` "
            "(Python's json reads it as infinity; PyJWT refuses it)"
        ),
        encode=_overflowing_exp,
        touches=frozenset({"claim:exp"}),
    ),
    Defect(
        name="exp-boolean",
        group="time",
        description="`exp` is the JSON boolean `true`",
        spec="RFC 7519 §2 (NumericDate), §4.1.4",
        check="claim-type",
        consequence="a token whose expiry the API cannot read never expires for it (`true` compares as 1)",
        claims=set_claim("exp", lambda claims, ctx: True),
        touches=frozenset({"claim:exp"}),
    ),
)
