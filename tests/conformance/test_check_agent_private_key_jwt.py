"""check-agent ``--auth private_key_jwt``: mockidp provisions the agent's key pair, and judges its
assertions. A correct agent (PyJWT, either key form) passes; one that reuses a ``jti``, signs
hour-long assertions or addresses them to the API fails, with the check named."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mockidp.cli import main
from mockidp.conformance.check_agent import check_agent
from mockidp.conformance.runner import run_scenario
from mockidp.conformance.scenario import load_scenario

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("signed_agent.py")
CC = "client_credentials"
ASSERTION_CHECKS = {"assertion-aud", "assertion-jti-single-use", "assertion-lifetime"}


def command(*args: str) -> str:
    return " ".join([sys.executable, str(AGENT), *args])


def test_correct_signed_agent_passes_every_trial() -> None:
    report = check_agent(command(), CC, timeout=20, auth="private_key_jwt")
    assert report.passed, report.table()
    baseline = report.trials[0]
    cases = {c.name: c for c in baseline.cases}
    assert set(cases) >= ASSERTION_CHECKS
    assert all(cases[name].outcome == "passed" for name in ASSERTION_CHECKS), report.table()


def test_the_pem_file_works_too() -> None:
    report = check_agent(command("--key", "pem"), CC, timeout=20, trials=["baseline"], auth="private_key_jwt")
    assert report.passed, report.table()


@pytest.mark.parametrize(
    ("skip", "check", "detail"),
    [
        ("jti", "assertion-jti-single-use", "sent in 2 requests"),
        ("lifetime", "assertion-lifetime", "exp 3600 s after iat"),
        ("aud", "assertion-aud", "is not the issuer"),
    ],
)
def test_broken_assertions_fail_with_the_check_named(skip: str, check: str, detail: str) -> None:
    report = check_agent(command("--skip", skip), CC, timeout=20, trials=["baseline"], auth="private_key_jwt")
    assert not report.passed
    cases = {c.name: c for c in report.trials[0].cases}
    assert cases[check].outcome == "failed", report.table()
    assert detail in cases[check].detail
    others = ASSERTION_CHECKS - {check}
    assert all(cases[name].outcome != "failed" for name in others), report.table()


def test_a_secret_agent_is_not_judged_on_assertions() -> None:
    conformance = Path(__file__).parent
    secret_agent = f"{sys.executable} {conformance / 'agent.py'} --flow {CC}"
    report = check_agent(secret_agent, CC, timeout=20, trials=["baseline"])
    assert report.passed, report.table()
    assert not ASSERTION_CHECKS & {c.name for c in report.trials[0].cases}


def test_cli_auth_private_key_jwt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    status = main(
        [
            "check-agent",
            "--flow",
            CC,
            "--auth",
            "private_key_jwt",
            "--trial",
            "baseline",
            "--run",
            command("--skip", "jti"),
            "--report-json",
            str(out),
        ]
    )
    assert status == 1
    assert "assertion-jti-single-use" in capsys.readouterr().out
    assert "assertion-jti-single-use" in out.read_text()
    json.loads(out.read_text())


def test_a_scenario_can_ask_for_private_key_jwt(tmp_path: Path) -> None:
    text = f"""\
version: 1
name: signed-agent
agent:
  run: "{command("--key", "pem")}"
  flow: client_credentials
  auth: private_key_jwt
  timeout: 20
  trials: [baseline]
"""
    (tmp_path / "s.yaml").write_text(text)
    result = run_scenario(load_scenario(tmp_path / "s.yaml"))
    assert result.passed, result.explain()
    judged = {c.name: c.outcome for c in result.report.cases}
    assert {judged[f"baseline/{name}"] for name in ASSERTION_CHECKS} == {"passed"}
