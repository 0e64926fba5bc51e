"""``check-agent --profile mcp`` usage errors, and its trial list: no agent runs here."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from mockidp.cli import build_parser, main
from mockidp.conformance.agent_checks import CHECKS
from mockidp.conformance.mcp_trials import MCP_TRIALS
from mockidp.conformance.runner import run_scenario
from mockidp.conformance.scenario import load_scenario
from mockidp.errors import ScenarioError

#: the official suite's client auth scenarios the brief asks for
OFFICIAL = {
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/iss-supported",
    "auth/iss-not-advertised",
    "auth/iss-supported-missing",
    "auth/iss-wrong-issuer",
    "auth/iss-unexpected",
    "auth/iss-normalized",
    "auth/metadata-issuer-mismatch",
    "auth/resource-mismatch",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    "auth/authorization-server-migration",
}


def test_every_mcp_trial_names_its_scenario_spec_and_known_checks() -> None:
    assert {t.scenario for t in MCP_TRIALS} == OFFICIAL
    for trial in MCP_TRIALS:
        assert trial.mcp is not None and trial.spec and trial.description, trial.name
        assert trial.checks and all(key in CHECKS for key in trial.checks), trial.name


def test_unknown_mcp_trial_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-agent", "--profile", "mcp", "--run", "true", "--trial", "baseline"]) == 2
    err = capsys.readouterr().err
    assert "unknown trial 'baseline' in the mcp profile" in err and "iss-wrong-issuer" in err


def test_the_oauth_profile_still_needs_a_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-agent", "--run", "true"]) == 2
    assert "needs --flow" in capsys.readouterr().err


def test_the_mcp_profile_is_a_code_flow(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check-agent", "--profile", "mcp", "--flow", "client_credentials", "--run", "true"]
    assert main(args) == 2
    assert "authorization_code" in capsys.readouterr().err


def test_the_documented_commands_parse_and_name_a_real_agent() -> None:
    """docs/howto-mcp.md and the tutorial show commands to copy: they must stay valid."""
    root = Path(__file__).resolve().parents[2]
    lines = [
        line.removeprefix("$ ")
        for page in ("howto-mcp.md", "tutorial-test-your-agent.md")
        for line in (root / "docs" / page).read_text("utf-8").splitlines()
        if line.startswith("$ mockidp check-agent --profile mcp")
    ]
    assert len(lines) == 4
    for line in lines:
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert args.profile == "mcp" and args.flow is None
        script = shlex.split(args.agent_command)[1]
        assert (root / script).is_file(), script
        for trial in args.trial or ():
            assert trial in {t.name for t in MCP_TRIALS}


def test_a_scenario_with_the_mcp_profile_checks_its_trial_names(tmp_path: Path) -> None:
    text = """\
version: 1
agent:
  run: "true"
  flow: authorization_code
  profile: mcp
  trials: [iss-wrong-issuer, baseline]
"""
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ScenarioError, match=r"s\.yaml:6: no trial 'baseline' .* of the mcp profile"):
        run_scenario(load_scenario(tmp_path / "s.yaml"))
    (tmp_path / "s.yaml").write_text(text.replace("authorization_code", "client_credentials"))
    with pytest.raises(ScenarioError, match=r"s\.yaml:4: the mcp profile runs the authorization_code flow"):
        run_scenario(load_scenario(tmp_path / "s.yaml"))
