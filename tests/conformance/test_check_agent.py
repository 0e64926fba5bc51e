"""check-agent against the agent corpus: correct agents pass; each broken one is caught and named."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from mockidp.cli import main
from mockidp.conformance.agent_checks import CHECKS, Evidence
from mockidp.conformance.check_agent import check_agent
from mockidp.conformance.processes import Finished
from mockidp.conformance.runner import run_scenario
from mockidp.conformance.scenario import load_scenario
from mockidp.journal import RequestRecord
from mockidp.resources import ApiCall, MockApi

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("agent.py")
CC, CODE = "client_credentials", "authorization_code"


def command(flow: str, skip: str | None = None) -> str:
    return f"{sys.executable} {AGENT} --flow {flow}" + (f" --skip {skip}" if skip else "")


@pytest.mark.slow
@pytest.mark.parametrize("flow", [CC, CODE])
def test_correct_agent_passes_every_trial(flow: str) -> None:
    report = check_agent(command(flow), flow, timeout=20)
    assert report.passed, report.table()
    names = [t.name for t in report.trials]
    assert names[:4] == ["baseline", "token-503", "reauth-after-401", "issuer-mismatch"]
    if flow == CODE:
        assert {"id-token-wrong-nonce", "authorization-state-wrong", "authorization-iss-wrong"} <= set(names)
        assert "step-up" in names


BROKEN = [
    (CC, "resource", "baseline", "resource-indicator"),
    (CC, "retry", "token-503", "retry-after-honoured"),
    (CC, "reauth", "reauth-after-401", "reauth-after-401"),
    (CC, "creds-in-url", "baseline", "no-credentials-in-url"),
    (CC, "token-in-query", "baseline", "no-credentials-in-url"),
    (CC, "secret-in-query", "baseline", "no-credentials-in-url"),
    (CC, "least-privilege", "baseline", "least-privilege"),
    (CC, "issuer-check", "issuer-mismatch", "stops-on-issuer-mismatch"),
    (CODE, "resource", "baseline", "resource-indicator"),
    (CODE, "pkce", "baseline", "pkce-s256"),
    (CODE, "plain-pkce", "baseline", "pkce-s256"),
    (CODE, "state", "baseline", "state-checked"),
    (CODE, "nonce", "baseline", "nonce-checked"),
    (CODE, "id-token-signature", "id-token-bad-signature", "id-token-validated"),
    (CODE, "state-mismatch", "authorization-state-wrong", "state-checked"),
    (CODE, "iss-mismatch", "authorization-iss-wrong", "authorization-iss-checked"),
    (CODE, "issuer-check", "issuer-mismatch", "stops-on-issuer-mismatch"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flow", "skip", "trial", "check"), BROKEN, ids=[f"{b[0][:4]}-{b[1]}" for b in BROKEN]
)
def test_broken_agent_is_caught_and_named(flow: str, skip: str, trial: str, check: str) -> None:
    report = check_agent(command(flow, skip), flow, timeout=20, trials=[trial])
    assert not report.passed
    failed = [c.name for c in report.cases if not c.passed]
    assert f"{trial}/{check}" in failed, report.table()


@pytest.mark.slow
def test_agent_that_cannot_step_up_fails_a_should() -> None:
    """An agent that ignores an RFC 9470 challenge is locked out, which lets nobody in: a should."""
    report = check_agent(command(CODE, "step-up"), CODE, timeout=20, trials=["step-up"])
    case = next(c for c in report.cases if c.name == "step-up/step-up-acr")
    assert (case.passed, case.severity) == (False, "should"), report.table()
    assert "acr_values=mfa" in case.detail
    good = check_agent(command(CODE), CODE, timeout=20, trials=["step-up"])
    assert next(c for c in good.cases if c.name == "step-up/step-up-acr").passed, good.table()


@pytest.mark.slow
def test_cli_report_json_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "agent.json"
    args = [
        "check-agent",
        "--flow",
        CC,
        "--run",
        command(CC, "least-privilege"),
        "--report-json",
        str(report),
    ]
    assert main([*args, "--trial", "baseline", "--timeout", "20"]) == 1
    data = json.loads(report.read_text())
    assert data["passed"] is False
    (trial,) = data["trials"]
    assert trial["name"] == "baseline"
    case = next(c for c in trial["cases"] if c["name"] == "least-privilege")
    assert case == {
        "name": "least-privilege",
        "passed": False,
        "detail": case["detail"],
        "outcome": "failed",
        "severity": "must",
        "counts": True,
    }
    assert data["summary"]["failed"] == 1 and data["summary"]["passed"] >= 4
    assert "inventory:write" in case["detail"]
    assert "least-privilege" in capsys.readouterr().out


def test_cli_exit_two_on_unknown_trial(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-agent", "--flow", CC, "--run", "true", "--trial", "nope"]) == 2
    assert "unknown trial 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_agent_that_hangs_is_stopped_and_fails() -> None:
    report = check_agent("sleep 30", CC, timeout=1, trials=["baseline"])
    exit_case = next(c for c in report.cases if c.name == "baseline/exit-status")
    assert not exit_case.passed and "did not finish within 1 s" in exit_case.detail


def _evidence(scope_sent: list[str], granted: str | None) -> Evidence:
    """One token request (with ``scope_sent``) and, unless ``granted`` is None, one GET with its claims."""
    inventory = MockApi("inventory", url="http://127.0.0.1:1/inventory")
    form = {"grant_type": ["client_credentials"], "resource": [inventory.url]}
    sent = {**form, **({"scope": scope_sent} if scope_sent else {})}
    token = RequestRecord(method="POST", path="/token", form=sent, endpoint="token", status=200)
    calls = []
    if granted is not None:
        claims = {"aud": inventory.url, "scope": granted}
        calls.append(ApiCall(api="inventory", method="GET", path="/inventory", status=200, claims=claims))
    return Evidence(
        flow=CC,
        expect_exit="zero",
        requests=[token],
        calls=calls,
        apis={"inventory": inventory},
        finished=Finished(0, ""),
        timeout=5,
    )


def test_least_privilege_accepts_an_omitted_scope_when_the_grant_was_minimal() -> None:
    """The issue's rule is about scopes nobody needed; asking for none and getting just those is fine."""
    assert CHECKS["least-privilege"](_evidence([], "inventory:read")).passed
    wide = CHECKS["least-privilege"](_evidence([], "inventory:read inventory:write"))
    assert not wide.passed and "inventory:write" in wide.detail
    blind = CHECKS["least-privilege"](_evidence([], None))
    assert not blind.passed and "no scope requested" in blind.detail


def test_least_privilege_does_not_invent_a_grant_when_no_token_was_asked() -> None:
    idle = dataclasses.replace(_evidence([], None), requests=[])
    assert "no scope requested" not in CHECKS["least-privilege"](idle).detail


@pytest.mark.slow
def test_scenario_expecting_a_failure_that_was_not_applicable_says_so(tmp_path: Path) -> None:
    """The corpus agent reads one page per API: token-reuse had nothing to look at."""
    text = f"""\
version: 1
name: reuse-expected
agent:
  run: "{command(CC)}"
  flow: client_credentials
  timeout: 20
  trials: [baseline]
expect:
  failing: [baseline/token-reuse]
"""
    (tmp_path / "s.yaml").write_text(text)
    result = run_scenario(load_scenario(tmp_path / "s.yaml"))
    assert not result.passed
    (mismatch,) = result.mismatches
    assert mismatch.case == "baseline/token-reuse"
    assert "not-applicable: no API was called twice" in result.explain()


@pytest.mark.slow
def test_scenario_trial_can_demand_its_own_step_up(tmp_path: Path) -> None:
    """A scenario's own trial: another level to step up to; the agent that ignores it is named."""
    text = f"""\
version: 1
name: step-up-hwk
agent:
  run: "{command(CODE, "step-up")}"
  flow: authorization_code
  timeout: 20
  trials: []
  extra_trials:
    - name: hwk
      idp: {{acr_levels: [pwd, mfa, hwk]}}
      require_acr: hwk
      checks: [step-up-acr]
expect:
  failing: [hwk/step-up-acr]
"""
    (tmp_path / "s.yaml").write_text(text)
    result = run_scenario(load_scenario(tmp_path / "s.yaml"))
    assert result.passed, result.explain()
    case = next(c for c in result.report.cases if c.name == "hwk/step-up-acr")
    assert "acr_values=hwk" in case.detail
