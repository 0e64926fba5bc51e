"""``check-agent --profile mcp`` against an MCP client built on the MCP Python SDK.

The correct client passes every trial; each broken one (a small patch around the SDK, see
mcp_agent.py) fails the trial named after the conformance scenario that tests it. The agent is
a real process talking real HTTP over loopback to the IdP and to the mock MCP servers.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockidp.cli import main
from mockidp.conformance.check_agent import check_agent
from mockidp.conformance.mcp_trials import MCP_TRIALS
from mockidp.conformance.runner import run_scenario
from mockidp.conformance.scenario import load_scenario

pytestmark = [pytest.mark.slow, pytest.mark.interop]

AGENT = Path(__file__).with_name("mcp_agent.py")
CODE = "authorization_code"
TIMEOUT = 40  # the SDK alone takes seconds to import on a busy machine


def command(skip: str | None = None) -> str:
    return f"{sys.executable} {AGENT}" + (f" --skip {skip}" if skip else "")


def test_the_sdk_agent_passes_every_mcp_trial() -> None:
    report = check_agent(command(), CODE, profile="mcp", timeout=TIMEOUT)
    assert report.passed, report.table()
    assert [t.name for t in report.trials] == [t.name for t in MCP_TRIALS]
    assert all(t.scenario == f"auth/{t.name}" for t in report.trials)
    outcomes = {c.name: c.result for c in report.cases}
    # every check had something to look at: none is not-applicable or crashed
    assert set(outcomes.values()) == {"passed"}, outcomes
    assert len(outcomes) > 50


BROKEN = [
    ("iss-check", "iss-wrong-issuer", "iss-checked", "must"),
    ("iss-check", "iss-normalized", "iss-checked", "must"),
    ("scope-challenge", "scope-from-www-authenticate", "scope-selection", "must"),
    ("retry-limit", "scope-retry-limit", "scope-retry-limit", "should"),
    ("issuer-binding", "authorization-server-migration", "reregister-on-as-change", "must"),
    ("cimd", "basic-cimd", "cimd-used", "should"),
]


@pytest.mark.parametrize(
    ("skip", "trial", "check", "severity"), BROKEN, ids=[f"{b[0]}-{b[1]}" for b in BROKEN]
)
def test_a_broken_sdk_agent_fails_the_matching_trial(
    skip: str, trial: str, check: str, severity: str
) -> None:
    report = check_agent(command(skip), CODE, profile="mcp", timeout=TIMEOUT, trials=[trial], strict=True)
    case = next(c for c in report.cases if c.name == f"{trial}/{check}")
    assert (case.result, case.severity) == ("failed", severity), report.table()
    assert not report.passed
    # the correct agent passes the same trial: the failure is the breakage, not the trial
    good = check_agent(command(), CODE, profile="mcp", timeout=TIMEOUT, trials=[trial], strict=True)
    assert good.passed, good.table()


def test_ignoring_the_scope_challenge_over_asks_and_never_needs_a_step_up() -> None:
    report = check_agent(
        command("scope-challenge"), CODE, profile="mcp", timeout=TIMEOUT, trials=["scope-step-up"]
    )
    case = next(c for c in report.cases if c.name == "scope-step-up/scope-step-up")
    assert case.result == "not-applicable", report.table()  # it asked for write from the start


def test_an_agent_that_dies_at_once_crashed_it_did_not_refuse() -> None:
    """``exit 1`` before any request: the stop a trial demands proves nothing, so crashed."""
    report = check_agent("exit 1", CODE, profile="mcp", timeout=TIMEOUT, trials=["iss-wrong-issuer"])
    case = next(c for c in report.cases if c.name == "iss-wrong-issuer/iss-checked")
    assert case.result == "crashed", report.table()
    assert not report.passed


def test_cli_profile_mcp_writes_scenario_names_to_json_and_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, junit = tmp_path / "mcp.json", tmp_path / "mcp.xml"
    args = ["check-agent", "--profile", "mcp", "--run", command("iss-check"), "--timeout", str(TIMEOUT)]
    args += ["--trial", "iss-wrong-issuer", "--report-json", str(report), "--junit-xml", str(junit)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "auth/iss-wrong-issuer" in out and "FAIL" in out
    (trial,) = json.loads(report.read_text())["trials"]
    assert trial["scenario"] == "auth/iss-wrong-issuer" and "RFC 9207" in trial["spec"]
    cases = ET.parse(junit).getroot().iter("testcase")
    case = next(c for c in cases if c.get("name") == "iss-wrong-issuer/iss-checked")
    assert case.find("failure") is not None
    prop = case.find("properties/property")
    assert prop is not None and prop.attrib == {"name": "scenario", "value": "auth/iss-wrong-issuer"}


def test_a_scenario_runs_the_mcp_profile_with_its_own_trial(tmp_path: Path) -> None:
    """A scenario's own trial meets MCP servers too: here an IdP that sends no iss at all."""
    text = f"""\
version: 1
name: mcp-client
agent:
  run: "{command("iss-check")}"
  flow: authorization_code
  profile: mcp
  timeout: {TIMEOUT}
  trials: [iss-wrong-issuer]
  extra_trials:
    - name: no-iss-at-all
      idp: {{misbehaviour: {{authorization_iss: missing}}}}
      exit: nonzero
      checks: [exit-status, iss-checked]
expect:
  failing:
    - iss-wrong-issuer/exit-status
    - iss-wrong-issuer/iss-checked
    - no-iss-at-all/exit-status
    - no-iss-at-all/iss-checked
"""
    (tmp_path / "s.yaml").write_text(text)
    result = run_scenario(load_scenario(tmp_path / "s.yaml"))
    assert result.passed, result.explain()
