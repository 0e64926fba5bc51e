"""Verdicts of conformance runs: cases, trials, the readable table and the JSON report.

check-api and check-agent share this shape so scenario runs, the CLI and the pytest items read
one model: a case passed or not, with a detail that says what was seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
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

    @property
    def result(self) -> Outcome:
        """The outcome, derived from ``passed`` where the check did not name one."""
        if self.outcome is not None:
            return self.outcome
        return "passed" if self.passed else "failed"

    def counts(self, strict: bool) -> bool:
        """Whether a failure of this case fails the run (a not-applicable case never does)."""
        if self.result == "not-applicable":
            return False
        return self.severity == "must" or strict or self.broken

    def api_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "expected_status": self.expected_status,
            "status": self.status,
            "passed": self.passed,
            "detail": self.detail,
        }

    def agent_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def run_passed(cases: Sequence[Case], strict: bool) -> bool:
    return all(c.passed or not c.counts(strict) for c in cases)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiReport:
    target: str
    cases: tuple[Case, ...]
    strict: bool = False

    @property
    def passed(self) -> bool:
        return run_passed(self.cases, self.strict)

    @property
    def failures(self) -> list[Case]:
        return [c for c in self.cases if not c.passed and c.counts(self.strict)]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "passed": self.passed, "cases": [c.api_dict() for c in self.cases]}

    def table(self) -> str:
        rows = [("defect", "expected", "got", "verdict", "spec")]
        for case in self.cases:
            expected = _expected(case)
            verdict = "pass" if case.passed else ("FAIL" if case.counts(self.strict) else "warn")
            rows.append((case.name, expected, case.got, verdict, case.spec))
        summary = f"{self.target}: {'PASSED' if self.passed else 'FAILED'}"
        summary += f" ({sum(c.passed for c in self.cases)}/{len(self.cases)} cases passed)"
        return format_table(rows) + "\n" + summary


def _expected(case: Case) -> str:
    if case.expected_status is None:
        return "2xx"
    return f"{case.expected_status} {case.expected_error or ''}".rstrip()


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialReport:
    name: str
    cases: tuple[Case, ...]
    description: str = ""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "cases": [c.agent_dict() for c in self.cases]}


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReport:
    target: str
    flow: str
    trials: tuple[TrialReport, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.trials)

    @property
    def cases(self) -> tuple[Case, ...]:
        """Every case, named ``<trial>/<check>`` (for JUnit and pytest)."""
        return tuple(
            Case(name=f"{t.name}/{c.name}", passed=c.passed, detail=c.detail)
            for t in self.trials
            for c in t.cases
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "flow": self.flow,
            "passed": self.passed,
            "trials": [t.to_dict() for t in self.trials],
        }

    def table(self) -> str:
        rows = [("trial", "check", "verdict", "detail")]
        for trial in self.trials:
            for case in trial.cases:
                rows.append((trial.name, case.name, "pass" if case.passed else "FAIL", case.detail))
        return format_table(rows) + f"\n{self.target}: {'PASSED' if self.passed else 'FAILED'}"


Report = ApiReport | AgentReport


def format_table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
