"""check-agent against an independent agent that needs one API (Authlib + requests + PyJWT).

The careful agent passes every trial of both flows without a warning; each of its careless
habits gets exactly the verdict the issue asks for. Every test runs the agent as a subprocess.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mockidp.cli import main
from mockidp.conformance.case import Case
from mockidp.conformance.check_agent import check_agent
from mockidp.conformance.report import AgentReport

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("one_api_agent.py")
CC, CODE = "client_credentials", "authorization_code"


def command(flow: str, habit: str | None = None) -> str:
    return f"{sys.executable} {AGENT} --flow {flow}" + (f" --habit {habit}" if habit else "")


def case(report: AgentReport, name: str) -> Case:
    return next(c for c in report.cases if c.name == name)


@pytest.mark.parametrize("flow", [CC, CODE])
def test_careful_one_api_agent_passes_every_trial_of_the_flow(flow: str) -> None:
    report = check_agent(command(flow), flow, timeout=20, strict=True)
    assert report.passed, report.table()
    assert report.summary()["warning"] == 0
    # the trials that look at time had something to look at, and it was right
    assert case(report, "baseline/token-reuse").result == "passed"
    assert case(report, "expiry/expiry").result == "passed"
    assert case(report, "reauth-after-401/reauth-after-401").result == "passed"  # billing never called
    assert case(report, "issuer-mismatch/stops-on-issuer-mismatch").result == "passed"


def test_a_new_token_for_every_call_gets_a_token_reuse_warning(tmp_path: Path) -> None:
    report = check_agent(command(CC, "token-per-call"), CC, timeout=20, trials=["baseline"])
    reuse = case(report, "baseline/token-reuse")
    assert reuse.result == "failed" and reuse.severity == "should", report.table()
    assert "3 calls with 3 tokens" in reuse.detail
    assert report.passed and "warn" in report.table()
    args = ["check-agent", "--flow", CC, "--run", command(CC, "token-per-call"), "--trial", "baseline"]
    log = ["--agent-log", str(tmp_path / "agent.log")]
    assert main([*args, *log]) == 0
    assert main([*args, *log, "--strict"]) == 1


def test_an_agent_sending_an_expired_token_fails_expiry() -> None:
    report = check_agent(command(CC, "never-renew"), CC, timeout=20, trials=["expiry"])
    expiry = case(report, "expiry/expiry")
    assert expiry.result == "failed" and expiry.counts(strict=False), report.table()
    assert "after its expires_in (2 s) ran out" in expiry.detail
    assert not report.passed


@pytest.mark.parametrize("habit", ["crash", "crash-after-metadata"])
def test_an_agent_that_crashes_does_not_pass_issuer_mismatch(habit: str) -> None:
    report = check_agent(command(CC, habit), CC, timeout=20, trials=["issuer-mismatch"])
    stop = case(report, "issuer-mismatch/stops-on-issuer-mismatch")
    assert stop.result == "crashed", report.table()
    assert not report.passed
    assert [t.name for t in report.trials] == ["issuer-mismatch"]  # the control run is not reported


def test_agent_log_defaults_next_to_the_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "out" / "agent.json"
    report.parent.mkdir()
    run = "echo first words; for i in 1 2 3 4 5 6; do echo step $i; done; exit 3"
    args = ["check-agent", "--flow", CC, "--run", run, "--trial", "baseline", "--timeout", "10"]
    assert main([*args, "--report-json", str(report)]) == 1
    log = report.parent / "check-agent.log"
    assert "first words" in log.read_text() and "step 6" in log.read_text()
    out = capsys.readouterr().out
    assert f"the agent's full output: {log}" in out
    assert "| step 2" in out and "| step 6" in out and "| step 1" not in out  # the last 5 lines
    data = json.loads(report.read_text())
    assert data["trials"][0]["exit_status"] == 3


def test_agent_log_without_a_report_goes_to_a_temporary_directory(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check-agent", "--flow", CC, "--run", "echo hello from the agent", "--trial", "baseline"]
    assert main([*args, "--timeout", "10"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("the agent's full output: "))
    log = Path(line.split(": ", 1)[1])
    assert "mockidp-check-agent-" in str(log.parent)
    assert "hello from the agent" in log.read_text()
    log.unlink()
    log.parent.rmdir()
