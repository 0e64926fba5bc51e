"""check-agent's device flow: a careful device-flow agent passes; one that polls faster than the
interval, or ignores ``slow_down``, fails ``poll-interval`` in the trial that shows it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mockidp.cli import main
from mockidp.conformance.check_agent import check_agent

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("device_agent.py")
FLOW = "device_code"


def command(habit: str | None = None) -> str:
    return f"{sys.executable} {AGENT}" + (f" --habit {habit}" if habit else "")


def test_a_careful_device_agent_passes_every_trial() -> None:
    report = check_agent(command(), FLOW, timeout=40)
    assert report.passed, report.table()
    assert [t.name for t in report.trials] == ["baseline", "device-slow-down"]
    cases = {c.name: c for c in report.cases}
    assert (
        cases["baseline/poll-interval"].passed and "1 slow_down" not in cases["baseline/poll-interval"].detail
    )
    assert "2 slow_down" in cases["device-slow-down/poll-interval"].detail  # one per API's device code
    assert cases["baseline/resource-indicator"].passed and cases["baseline/least-privilege"].passed


@pytest.mark.parametrize(("habit", "trial"), [("fast", "baseline"), ("ignore-slow-down", "device-slow-down")])
def test_an_agent_that_polls_too_fast_fails_poll_interval(habit: str, trial: str) -> None:
    """Such an agent keeps getting slow_down and never its token, as from a real server: it is
    stopped at the timeout, and its polls show why."""
    report = check_agent(command(habit), FLOW, timeout=8, trials=[trial])
    assert not report.passed
    case = next(c for c in report.cases if c.name == f"{trial}/poll-interval")
    # polling too fast wastes the server's effort but lets nobody in: a should
    assert (case.passed, case.outcome, case.severity) == (False, "failed", "should"), report.table()
    assert "the interval was" in case.detail


def test_the_cli_takes_the_device_flow(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["check-agent", "--flow", FLOW, "--run", command("fast"), "--trial", "baseline", "--strict"]
    )
    assert status == 1
    assert "poll-interval" in capsys.readouterr().out
