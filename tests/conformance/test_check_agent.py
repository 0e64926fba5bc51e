"""check-agent against the agent corpus: correct agents pass; each broken one is caught and named."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mockidp.cli import main
from mockidp.conformance.check_agent import check_agent

AGENT = Path(__file__).with_name("agent.py")
CC, CODE = "client_credentials", "authorization_code"


def command(flow: str, skip: str | None = None) -> str:
    return f"{sys.executable} {AGENT} --flow {flow}" + (f" --skip {skip}" if skip else "")


@pytest.mark.parametrize("flow", [CC, CODE])
def test_correct_agent_passes_every_trial(flow: str) -> None:
    report = check_agent(command(flow), flow, timeout=20)
    assert report.passed, report.table()
    names = [t.name for t in report.trials]
    assert names[:4] == ["baseline", "token-503", "reauth-after-401", "issuer-mismatch"]
    if flow == CODE:
        assert {"id-token-wrong-nonce", "authorization-state-wrong", "authorization-iss-wrong"} <= set(names)


BROKEN = [
    (CC, "resource", "baseline", "resource-indicator"),
    (CC, "retry", "token-503", "retry-after-honoured"),
    (CC, "reauth", "reauth-after-401", "reauth-after-401"),
    (CC, "creds-in-url", "baseline", "no-credentials-in-url"),
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


@pytest.mark.parametrize(
    ("flow", "skip", "trial", "check"), BROKEN, ids=[f"{b[0][:4]}-{b[1]}" for b in BROKEN]
)
def test_broken_agent_is_caught_and_named(flow: str, skip: str, trial: str, check: str) -> None:
    report = check_agent(command(flow, skip), flow, timeout=20, trials=[trial])
    assert not report.passed
    failed = [c.name for c in report.cases if not c.passed]
    assert f"{trial}/{check}" in failed, report.table()


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
    assert case == {"name": "least-privilege", "passed": False, "detail": case["detail"]}
    assert "inventory:write" in case["detail"]
    assert "least-privilege" in capsys.readouterr().out


def test_cli_exit_two_on_unknown_trial(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-agent", "--flow", CC, "--run", "true", "--trial", "nope"]) == 2
    assert "unknown trial 'nope'" in capsys.readouterr().err


def test_agent_that_hangs_is_stopped_and_fails() -> None:
    report = check_agent("sleep 30", CC, timeout=1, trials=["baseline"])
    exit_case = next(c for c in report.cases if c.name == "baseline/exit-status")
    assert not exit_case.passed and "did not finish within 1 s" in exit_case.detail
