"""One verdict: a case passed or not, with what was seen; the atom every report is made of.

Kept apart from :mod:`.report` so the findings (which group cases) and the reports (which show
findings) both build on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["must", "should"]
#: what one case came to. check-api: ``accepted`` (a 2xx for a token that must be refused: the
#: security finding), ``refused-differently`` (wrong status, error code or challenge) and
#: ``crashed`` (5xx, timeout, no answer). check-agent: ``failed`` (the practice was not followed)
#: and ``not-applicable`` (the trial gave the check nothing to look at: neither a pass nor a
#: failure). Both: ``passed``.
Outcome = Literal["passed", "accepted", "refused-differently", "crashed", "failed", "not-applicable"]
OUTCOMES: tuple[Outcome, ...] = (
    "passed",
    "accepted",
    "refused-differently",
    "crashed",
    "failed",
    "not-applicable",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One check: a token sent to an API (check-api) or a practice checked in a trial (check-agent)."""

    name: str
    passed: bool
    detail: str = ""
    severity: Severity = "must"
    #: check-api only: the status the catalog expects and the one received (0: no answer)
    expected_status: int | None = None
    expected_error: str | None = None
    status: int | None = None
    got: str = ""
    spec: str = ""
    #: a 5xx or a timeout: fails the run whatever the severity
    broken: bool = False
    #: None: derived from ``passed`` (``passed`` or ``failed``)
    outcome: Outcome | None = None
    #: check-api only: the root cause a failed case is grouped under (a catalog ``check`` code
    #: such as ``typ``, or a protocol cause such as ``challenge-missing``); see findings.py
    cause: str = ""

    @property
    def result(self) -> Outcome:
        """The outcome, derived from ``passed`` where the check did not name one."""
        if self.outcome is not None:
            return self.outcome
        return "passed" if self.passed else "failed"

    @property
    def level(self) -> Severity | None:
        """The severity of what this case found (None: nothing).

        A crash is always ``must`` and a refusal with the wrong status or challenge always
        ``should`` (docs/defects.md, the severity rule); otherwise the check's own severity.
        """
        result = self.result
        if result in ("passed", "not-applicable"):
            return None
        if result == "crashed" or self.broken:
            return "must"
        if result == "refused-differently" and self.expected_status != 200:
            return "should"
        return self.severity

    def counts(self, strict: bool) -> bool:
        """Whether a failure of this case fails the run (a not-applicable case never does)."""
        level = self.level
        if level is None:  # nothing found: whether it would count, for callers that ask anyway
            return self.result != "not-applicable" and (self.severity == "must" or strict or self.broken)
        return level == "must" or strict

    def api_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "outcome": self.result,
            "expected_status": self.expected_status,
            "expected_error": self.expected_error,
            "status": self.status,
            "got": self.got,
            "passed": self.passed,
            "detail": self.detail,
        }

    def agent_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def run_passed(cases: Sequence[Case], strict: bool) -> bool:
    return all(c.passed or not c.counts(strict) for c in cases)
