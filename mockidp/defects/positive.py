"""Positive controls: tokens a correct API MUST accept (expected answer 200).

Without them an API that refuses everything odd looks perfect. Each is a valid token in a form
the specs allow but a strict-looking implementation may refuse; refusing it breaks
interoperability (``should``), or, for an ``aud`` array holding the API, locks out the
multi-resource tokens many IdPs issue (``must``, as issue 12 rates it).
"""

from __future__ import annotations

from typing import Any

from .edits import set_claim, set_header
from .model import ACCESS, Defect, MintContext

#: how far ahead of the API's clock ``nbf`` is: inside any leeway an API should allow (30-60 s)
SKEW = 5
#: a second audience next to the resource (RFC 7519 §4.1.3 allows several)
OTHER_AUDIENCE = "https://other-api.mockidp.invalid"


def _with_other_audience(claims: dict[str, Any], ctx: MintContext) -> list[str]:
    return [*ctx.audiences, OTHER_AUDIENCE]


def _fractional_exp(claims: dict[str, Any], ctx: MintContext) -> float:
    return float(claims["exp"]) + 0.5


def _nbf_ahead(claims: dict[str, Any], ctx: MintContext) -> int:
    return ctx.now + SKEW


def _positive(name: str, description: str, spec: str, check: str, consequence: str, **extra: Any) -> Defect:
    return Defect(
        name=name,
        group="positive",
        description=description,
        spec=spec,
        expected_status=200,
        expected_error="",
        applies_to=ACCESS,
        check=check,
        consequence=consequence,
        **extra,
    )


DEFECTS: tuple[Defect, ...] = (
    _positive(
        "typ-application-at-jwt",
        "`typ: application/at+jwt`, the full media type RFC 9068 also allows",
        "RFC 9068 §2.1, §4; RFC 7515 §4.1.9",
        "typ-media-type",
        "too strict: breaks interoperability with IdPs that write the full media type",
        severity="should",
        header=set_header(typ="application/at+jwt"),
        touches=frozenset({"header:typ"}),
    ),
    _positive(
        "aud-array-with-resource",
        "`aud` is an array holding this API's identifier and another audience",
        "RFC 7519 §4.1.3; RFC 9068 §3; RFC 8707 §2",
        "aud-array",
        "too strict: every token minted for several resources (RFC 8707) is refused",
        claims=set_claim("aud", _with_other_audience),
        touches=frozenset({"claim:aud"}),
    ),
    _positive(
        "exp-fractional",
        "`exp` is a NumericDate with a fraction (`1700000000.5`)",
        "RFC 7519 §2 (NumericDate: non-integer values can be represented)",
        "numeric-date",
        "too strict: breaks interoperability with IdPs that write fractional seconds",
        severity="should",
        claims=set_claim("exp", _fractional_exp),
        touches=frozenset({"claim:exp"}),
    ),
    _positive(
        "nbf-within-leeway",
        f"`nbf` is {SKEW} s ahead of the clock: a skew inside any reasonable leeway",
        "RFC 7519 §4.1.5 (leeway); RFC 8725 §3.10; RFC 9068 §4",
        "leeway",
        f"too strict: a clock {SKEW} s behind the IdP's refuses every fresh token",
        # `should`, not the issue's `must`: PyJWT's default leeway is 0, and a careful API with
        # it lets in nobody who should not get in (the severity rule); it only breaks under skew
        severity="should",
        claims=set_claim("nbf", _nbf_ahead),
        touches=frozenset({"claim:nbf"}),
    ),
)
