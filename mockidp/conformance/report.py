"""Verdicts of conformance runs: cases, trials, the readable table and the JSON report.

check-api and check-agent share this shape so scenario runs, the CLI and the pytest items read
one model: a case passed or not, with a detail that says what was seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case import OUTCOMES, Case, Outcome, run_passed
from .findings import Finding, group_findings

#: the outcomes of a check-api case, in the order the summary counts them
API_OUTCOMES: tuple[Outcome, ...] = ("passed", "accepted", "refused-differently", "crashed")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiReport:
    target: str
    cases: tuple[Case, ...]
    strict: bool = False
    #: the last lines a ``--start``ed API wrote, kept only when it crashed or died
    api_output: tuple[str, ...] = ()
    #: where the API's whole output went (``--api-log``)
    api_log: str = ""

    @property
    def passed(self) -> bool:
        return run_passed(self.cases, self.strict)

    @property
    def failures(self) -> list[Case]:
        return [c for c in self.cases if not c.passed and c.counts(self.strict)]

    def summary(self) -> dict[str, int]:
        """How many cases came to each outcome."""
        counts: dict[str, int] = dict.fromkeys(API_OUTCOMES, 0)
        for case in self.cases:
            counts[case.result] = counts.get(case.result, 0) + 1
        return counts

    @property
    def findings(self) -> list[Finding]:
        """The failed cases grouped by root cause, ``must`` first."""
        return group_findings(self.cases)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "passed": self.passed,
            "strict": self.strict,
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "cases": [c.api_dict() for c in self.cases],
        }
        if self.api_output:
            out["api_output"] = list(self.api_output)
        return out

    def table(self) -> str:
        parts = []
        findings = self.findings
        if findings:
            parts.append("Findings, by root cause:")
            parts.extend(f.line(self.strict) for f in findings)
            parts.append("")
        rows = [("case", "expected", "got", "outcome", "verdict", "spec")]
        for case in self.cases:
            verdict = "pass" if case.passed else ("FAIL" if case.counts(self.strict) else "warn")
            rows.append((case.name, _expected(case), case.got, case.result, verdict, case.spec))
        parts.append(format_table(rows))
        if self.api_output:
            where = f" (all of it in {self.api_log})" if self.api_log else ""
            parts.append(f"\nlast lines of the API's output{where}:")
            parts.extend(f"  | {line}" for line in self.api_output)
        counts = ", ".join(f"{n} {outcome}" for outcome, n in self.summary().items())
        parts.append(
            f"{self.target}: {'PASSED' if self.passed else 'FAILED'} ({counts}; {len(self.cases)} cases)"
        )
        return "\n".join(parts)


def _expected(case: Case) -> str:
    if case.expected_status is None:
        return "2xx"
    return f"{case.expected_status} {case.expected_error or ''}".rstrip()


#: how many of the agent's last output lines the table shows under a failed trial
TAIL_LINES = 5
#: check-agent's verdict column, by outcome (a failed ``should`` case shows as ``warn``)
AGENT_VERDICTS: dict[str, str] = {
    "passed": "pass",
    "failed": "FAIL",
    "crashed": "CRASH",
    "not-applicable": "n/a",
}


def _agent_verdict(case: Case, strict: bool) -> str:
    if case.result == "failed" and not case.counts(strict):
        return "warn"
    return AGENT_VERDICTS.get(case.result, case.result)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialReport:
    """One agent run: its checks, and what the agent said (stdout and stderr together)."""

    name: str
    cases: tuple[Case, ...]
    description: str = ""
    #: the agent's exit status (None: it did not finish in time)
    exit_status: int | None = None
    output: str = ""
    strict: bool = False
    #: the MCP conformance suite's equivalent scenario, and the spec clauses (MCP profile)
    scenario: str = ""
    spec: str = ""

    @property
    def passed(self) -> bool:
        """No case failed that counts: not-applicable never does, a ``should`` only with strict."""
        return run_passed(self.cases, self.strict)

    @property
    def warnings(self) -> list[Case]:
        return [c for c in self.cases if c.result == "failed" and not c.counts(self.strict)]

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        """The last ``lines`` non-empty lines of the agent's output."""
        return [line for line in self.output.splitlines() if line.strip()][-lines:]

    def to_dict(self) -> dict[str, Any]:
        named = {"scenario": self.scenario, "spec": self.spec} if self.scenario else {}
        return {
            "name": self.name,
            **named,
            "passed": self.passed,
            "exit_status": self.exit_status,
            "output_tail": self.tail(),
            "cases": [
                {
                    **c.agent_dict(),
                    "outcome": c.result,
                    "severity": c.severity,
                    "counts": c.counts(self.strict),
                }
                for c in self.cases
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReport:
    target: str
    flow: str
    trials: tuple[TrialReport, ...] = field(default_factory=tuple)
    #: ``should`` failures (``token-reuse``) fail the run too
    strict: bool = False

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.trials)

    @property
    def cases(self) -> tuple[Case, ...]:
        """Every case, named ``<trial>/<check>`` (for JUnit and pytest)."""
        return tuple(
            Case(
                name=f"{t.name}/{c.name}",
                passed=c.passed,
                detail=c.detail,
                severity=c.severity,
                outcome=c.result,
            )
            for t in self.trials
            for c in t.cases
        )

    def summary(self) -> dict[str, int]:
        """How many cases came to each outcome; a failed ``should`` case that does not count is a
        ``warning``, not ``failed``."""
        counts: dict[str, int] = {o: 0 for o in OUTCOMES if o in AGENT_VERDICTS}
        counts["warning"] = 0
        for trial in self.trials:
            warned = trial.warnings
            for case in trial.cases:
                key = "warning" if any(case is w for w in warned) else case.result
                counts[key] = counts.get(key, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "flow": self.flow,
            "passed": self.passed,
            "strict": self.strict,
            "summary": self.summary(),
            "trials": [t.to_dict() for t in self.trials],
        }

    def scenario_of(self, case_name: str) -> str:
        """The conformance-suite scenario of a ``<trial>/<check>`` case ("" : none)."""
        trial = case_name.rsplit("/", 1)[0]
        return next((t.scenario for t in self.trials if t.name == trial), "")

    def table(self) -> str:
        mapped = any(t.scenario for t in self.trials)
        rows: list[tuple[str, ...]] = [("trial", "check", "verdict", "detail")]
        if mapped:
            rows = [("trial", "scenario", "check", "verdict", "detail")]
        for trial in self.trials:
            for case in trial.cases:
                row = (trial.name, case.name, _agent_verdict(case, self.strict), case.detail)
                rows.append((row[0], trial.scenario, *row[1:]) if mapped else row)
        parts = [format_table(rows)]
        for trial in self.trials:
            if not trial.passed:
                status = "timed out" if trial.exit_status is None else f"exit status {trial.exit_status}"
                lines = trial.tail() or ["(no output)"]
                parts.append(
                    f"\n{trial.name}: the agent's last output lines ({status}):\n"
                    + "\n".join(f"  | {line}" for line in lines)
                )
        counts = self.summary()
        warnings = counts.pop("warning", 0)
        said = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
        if warnings:
            plural = "s" if warnings > 1 else ""
            said += f"{', ' if said else ''}{warnings} warning{plural} (should: fail only with --strict)"
        parts.append(f"{self.target}: {'PASSED' if self.passed else 'FAILED'} ({said})")
        return "\n".join(parts)

    def log_text(self) -> str:
        """Every trial's full agent output, under a header naming the trial: the ``--agent-log``."""
        chunks = []
        for trial in self.trials:
            status = "timed out" if trial.exit_status is None else f"exit status {trial.exit_status}"
            chunks.append(f"===== trial {trial.name} ({status}) =====\n{trial.output.rstrip()}\n")
        return "\n".join(chunks)


Report = ApiReport | AgentReport


def format_table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
