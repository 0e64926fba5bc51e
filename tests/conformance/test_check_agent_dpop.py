"""check-agent's opt-in ``dpop-required`` trial: APIs that take only DPoP-bound tokens.

A DPoP agent (``dpop_agent.py``: requests + PyJWT, independent of mockidp) passes it; the same
agent sending Bearer tokens fails it, named ``dpop-required/dpop-bound``. The trial is opt-in:
the default run of an agent that knows nothing of DPoP does not include it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mockidp.conformance.agent_trials import trials_for
from mockidp.conformance.check_agent import check_agent

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("dpop_agent.py")
CC = "client_credentials"


def command(*flags: str) -> str:
    # the agent imports tests/dpop_client.py: put tests/ on its path
    tests = Path(__file__).resolve().parent.parent
    return f"env PYTHONPATH={tests} {sys.executable} {AGENT} {' '.join(flags)}".rstrip()


def test_a_dpop_agent_passes_the_dpop_trial() -> None:
    report = check_agent(command(), CC, timeout=20, trials=["dpop-required"])
    assert report.passed, report.table()
    assert [c.name for c in report.cases] == [
        "dpop-required/exit-status",
        "dpop-required/api-called",
        "dpop-required/dpop-bound",
    ]


def test_a_bearer_agent_fails_it_by_name() -> None:
    report = check_agent(command("--bearer"), CC, timeout=20, trials=["dpop-required"])
    assert not report.passed
    failed = {c.name for c in report.cases if not c.passed}
    assert "dpop-required/dpop-bound" in failed, report.table()


def test_the_dpop_trial_is_opt_in() -> None:
    assert "dpop-required" not in {t.name for t in trials_for(CC)}
    assert [t.name for t in trials_for(CC, ("dpop-required",))] == ["dpop-required"]
