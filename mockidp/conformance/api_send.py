"""One check-api case: a request with a token, and the outcome its answer comes to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import TargetUnreachable, Unreachable
from .case import Case, Outcome, Severity
from .probe import Answer, Where, send

#: sends a token the way a run presents it (url, method, token): Bearer, or DPoP with a proof
Sender = Callable[[str, str, str | None], Answer]
#: the challenge schemes a refusal may use: Bearer (RFC 6750 §3), or DPoP too when the API
#: requires DPoP (RFC 9449 §7.1)
BEARER_ONLY = frozenset({"bearer"})
BEARER_OR_DPOP = frozenset({"bearer", "dpop"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiTarget:
    url: str
    audience: str
    scope: str
    method: str = "GET"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    detail: str = ""
    #: the root cause a finding is grouped under ("" when passed)
    cause: str = ""


def judge(
    answer: Answer,
    expected_status: int | None,
    expected_error: str | tuple[str, ...] | None,
    check: str = "",
    schemes: frozenset[str] = BEARER_ONLY,
) -> Verdict:
    """What ``answer`` comes to, for a token that should get ``expected_status`` (None: 2xx).

    ``check`` is the cause an acceptance is grouped under (the defect's catalog check);
    ``expected_error`` may list several acceptable codes; ``schemes`` the acceptable challenges.
    """
    if answer.status == 0:
        return Verdict("crashed", answer.failure, "crash")
    if answer.status >= 500:
        detail = f"server error {answer.status}: an invalid token must be rejected, not crash the API"
        return Verdict("crashed", detail, "crash")
    if expected_status is None:
        if 200 <= answer.status < 300:
            return Verdict("passed")
        return Verdict("failed", f"a valid token was refused with {answer.describe()}", check or "trial")
    if 200 <= answer.status < 300:
        return Verdict("accepted", f"accepted with {answer.status}: the API let this token through", check)
    if answer.status != expected_status:
        return Verdict(
            "refused-differently", f"refused, but with {answer.status}, not {expected_status}", "status"
        )
    if not answer.schemes & schemes:
        named = " or ".join(s.capitalize() if s == "bearer" else "DPoP" for s in sorted(schemes))
        detail = f"refused, but with no 'WWW-Authenticate: {named}' challenge"
        return Verdict("refused-differently", detail, "challenge-missing")
    errors = (expected_error,) if isinstance(expected_error, str) else expected_error
    if errors is not None and answer.error not in errors:
        wanted = " or ".join(f'error="{e}"' for e in errors)
        detail = f"refused, but the challenge lacks {wanted} (got {answer.error or 'none'})"
        return Verdict("refused-differently", detail, "error-code")
    return Verdict("passed")


def send_case(
    target: ApiTarget,
    name: str,
    token: str | None,
    status: int | None,
    error: str | None,
    severity: Severity,
    spec: str,
    *,
    cause: str = "",
    where: Where = "header",
    method: str | None = None,
    sender: Sender | None = None,
    schemes: frozenset[str] = BEARER_ONLY,
) -> Case:
    try:
        if sender is not None and where == "header":
            answer = sender(target.url, method or target.method, token)
        else:
            answer = send(target.url, method or target.method, token, where=where)
    except Unreachable as exc:
        raise TargetUnreachable(str(exc)) from None
    verdict = judge(answer, status, error, cause, schemes)
    return Case(
        name=name,
        passed=verdict.outcome == "passed",
        detail=verdict.detail,
        severity=severity,
        expected_status=status,
        expected_error=error,
        status=answer.status,
        got=answer.describe() if answer.status else answer.failure,
        spec=spec,
        broken=verdict.outcome == "crashed",
        outcome=verdict.outcome,
        cause=verdict.cause,
    )
