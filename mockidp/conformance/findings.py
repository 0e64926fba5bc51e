"""check-api's findings: failed cases grouped by root cause, each with one fix hint.

A missing ``typ`` check shows up as four accepted tokens and a 401 without a challenge as one
per refused token; the developer has one thing to fix in each case. Catalog defects are grouped
by their ``check`` code (hints in :mod:`mockidp.defects.checks`); the cases check-api adds
itself, and the ways a refusal can differ from RFC 6750's, have their causes here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..defects.checks import CHECKS, Check
from .case import Case, Outcome, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Failed cases that share one root cause, with the fix that addresses all of them."""

    cause: str
    #: completes "the API ...", e.g. "does not check `typ`"
    text: str
    fix: str
    severity: Severity
    outcome: Outcome
    cases: tuple[str, ...]
    #: what was seen, where the cause alone does not say it (the URL an API fetched)
    notes: tuple[str, ...] = ()

    def line(self, strict: bool) -> str:
        mark = "FAIL" if self.severity == "must" or strict else "warn"
        names = ", ".join(self.cases[:5]) + (", ..." if len(self.cases) > 5 else "")
        count = f"{len(self.cases)} case{'s' if len(self.cases) != 1 else ''}"
        line = f"  {mark} [{self.severity}] {self.text} ({count}: {names}): {self.fix}"
        return line + "".join(f"\n       {note}" for note in self.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "severity": self.severity,
            "outcome": self.outcome,
            "text": self.text,
            "fix": self.fix,
            "cases": list(self.cases),
            "notes": list(self.notes),
        }


#: root causes that are not one catalog check
PROTOCOL: Mapping[str, Check] = MappingProxyType(
    {
        "no-token": Check(
            "lets requests without any token in",
            "require a Bearer token on this endpoint (RFC 6750 §3.1)",
        ),
        "token-in-query": Check(
            "accepts a token from the `access_token` query parameter",
            "read tokens from the Authorization header only (RFC 6750 §2.3; OAuth 2.1 §5.2), or "
            "pass `--allow-token-in query` if the API documents it",
        ),
        "token-in-body": Check(
            "accepts a token from an `access_token` form field",
            "read tokens from the Authorization header only (OAuth 2.1 §5.2), or pass "
            "`--allow-token-in body` if the API documents it",
        ),
        "exp-cache": Check(
            "keeps accepting a cached token after its `exp`",
            "cache a validation result no longer than the token's `exp` (RFC 9068 §4)",
        ),
        "ssrf": Check(
            "fetches URLs named in the token (server-side request forgery)",
            "never fetch `jku`/`x5u`; take keys only from the issuer's `jwks_uri` (RFC 8725 §3.10)",
        ),
        "crash": Check(
            "crashes or hangs on bad tokens (5xx, timeout)",
            'catch every validation error and answer 401 `error="invalid_token"` (RFC 6750 §3.1)',
        ),
        "status": Check(
            "refuses with another status than RFC 6750's",
            "answer 401 for a bad or missing token and 403 for too little scope (RFC 6750 §3.1)",
        ),
        "challenge-missing": Check(
            "refuses without a `WWW-Authenticate: Bearer` challenge",
            'send `WWW-Authenticate: Bearer error="invalid_token"` with every 401, and '
            '`error="insufficient_scope"` with a 403 (RFC 6750 §3)',
        ),
        "error-code": Check(
            "names another `error` code in the challenge",
            '`error="invalid_token"` for a bad token, `"insufficient_scope"` for too little scope '
            "(RFC 6750 §3.1)",
        ),
        "jwks-refetch": Check(
            "does not fetch the JWKS again for an unknown `kid` (too strict: rollovers lock callers out)",
            "on a `kid` not in the cached JWKS, refetch it once (rate-limited) before refusing "
            "(OIDC Core §10.1.1)",
        ),
        "jwks-removed": Check(
            "keeps trusting a key the issuer no longer publishes",
            "take keys only from the issuer's current JWKS; drop keys it no longer lists "
            "(OIDC Core §10.1.1; RFC 9068 §4)",
        ),
        "jwks-flood": Check(
            "fetches the JWKS for every unknown `kid` (anyone can make it hammer the IdP)",
            "refetch on an unknown `kid` at most once per cooldown (e.g. 30 s), as PyJWKClient does "
            "(OIDC Core §10.1.1; RFC 8725 §3.10)",
        ),
        "trial": Check(
            "answers a scenario trial differently from what the scenario expects",
            "see each trial's detail",
        ),
    }
)


#: causes whose cases' details are shown with the finding (the URL fetched, what was cached)
NOTED = frozenset({"ssrf", "exp-cache"})


ACCEPTED = "accepted with "


def _notes(cause: str, members: list[Case]) -> tuple[str, ...]:
    """What was seen (SSRF, cache), or what accepting costs and the usual culprit library.

    The catalog's consequence of the group's first accepted case: one line, since the cases of
    one root cause cost much the same.
    """
    if cause in NOTED:
        return tuple(f"{c.name}: {c.detail}" for c in members)
    for case in sorted(members, key=lambda c: c.level != "must"):
        if case.result == "accepted" and case.detail.startswith(ACCEPTED):
            return (f"impact ({case.name}): {case.detail.split(': ', 1)[-1]}",)
    return ()


def hint(cause: str) -> Check:
    return CHECKS.get(cause) or PROTOCOL.get(cause) or Check(f"fails `{cause}`", "see the cases' details")


def group_findings(cases: Iterable[Case]) -> list[Finding]:
    """One finding per root cause among the cases that found something, ``must`` first."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        if case.level is not None:
            groups.setdefault(case.cause or case.name, []).append(case)
    findings = []
    for cause, members in groups.items():
        text = hint(cause)
        severity: Severity = "must" if any(c.level == "must" for c in members) else "should"
        findings.append(
            Finding(
                cause=cause,
                text=text.cause,
                fix=text.fix,
                severity=severity,
                outcome=members[0].result,
                cases=tuple(c.name for c in members),
                notes=_notes(cause, members),
            )
        )
    return sorted(findings, key=lambda f: f.severity != "must")
