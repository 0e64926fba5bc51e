"""One check-api case: a request with a token, and the outcome its answer comes to."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import TargetUnreachable, Unreachable
from .case import Case, Outcome, Severity
from .probe import Answer, Where, send


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
    answer: Answer, expected_status: int | None, expected_error: str | None, check: str = ""
) -> Verdict:
    """What ``answer`` comes to, for a token that should get ``expected_status`` (None: 2xx).

    ``check`` is the cause an acceptance is grouped under (the defect's catalog check).
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
    if answer.scheme != "bearer":
        detail = "refused, but with no 'WWW-Authenticate: Bearer' challenge"
        return Verdict("refused-differently", detail, "challenge-missing")
    if expected_error is not None and answer.error != expected_error:
        detail = f'refused, but the challenge lacks error="{expected_error}" (got {answer.error or "none"})'
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
) -> Case:
    try:
        answer = send(target.url, method or target.method, token, where=where)
    except Unreachable as exc:
        raise TargetUnreachable(str(exc)) from None
    verdict = judge(answer, status, error, cause)
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
