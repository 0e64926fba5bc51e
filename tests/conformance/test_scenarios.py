"""Scenario files: the format, line-accurate errors, `mockidp run`, and the same verdicts in pytest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from serving import free_port

from mockidp import ConfigError, ScenarioError
from mockidp.cli import main
from mockidp.conformance.runner import run_scenario
from mockidp.conformance.scenario import load_scenario, parse_scenario
from mockidp.conformance.schema import DOCS_PATH, SCHEMA_PATH, reference_markdown, schema_text

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent.parent
LIBRARY = sorted((ROOT / "scenarios").glob("*.yaml"))
CORPUS = Path(__file__).with_name("broken_rs.py")
REGENERATE = "stale: run `python -m mockidp.conformance.schema` to regenerate"


def test_shipped_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), REGENERATE


def test_reference_docs_are_current() -> None:
    assert DOCS_PATH.read_text(encoding="utf-8") == reference_markdown(), REGENERATE


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_validates_against_the_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "api": {"builtin": "inventory", "metod": "GET"}}, schema)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("version: 1\napi:\n  builtin: inventory\n  metod: GET\n", 4, "unknown key 'metod'"),
        ("version: 1\napi:\n  builtin: inventory\n  trials:\n    - status: 200\n", 5, "'name'"),
        ("version: 1\nagent:\n  run: x\n  flow: implicit\n", 4, "expected one of"),
        ("version: 1\nidp:\n  login: maybe\napi:\n  builtin: inventory\n", 3, "expected one of"),
        ("version: 2\napi:\n  builtin: inventory\n", 1, "expected one of 1"),
        ("version: 1\napi:\n  url: http://x/\n", 2, "'scope'"),
        (  # checked against the catalog after the config model is built, still at its line
            "version: 1\nidp:\n  token_defects:\n    - defects: [expird]\napi:\n  builtin: inventory\n",
            4,
            "at 'idp.token_defects[0].defects': unknown defect 'expird' (did you mean 'expired'?)",
        ),
    ],
)
def test_validation_errors_give_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_scenario(text, file="s.yaml")
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)
    assert str(info.value).startswith(f"s.yaml:{line}")


def test_unknown_defect_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\napi:\n  builtin: inventory\n  defects:\n    - expired\n    - no-such-defect\n"
    )
    with pytest.raises(ScenarioError, match=r"s\.yaml:6: unknown access-token defect 'no-such-defect'"):
        run_scenario(load_scenario(path))


@pytest.mark.slow
@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_scenarios_pass(path: Path) -> None:
    result = run_scenario(load_scenario(path))
    assert result.passed, result.explain() + "\n" + result.report.table()


def broken_api_scenario(tmp_path: Path, port: int, failing: list[str]) -> Path:
    text = {
        "version": 1,
        "name": "aud-skipped",
        "api": {
            "url": f"http://127.0.0.1:{port}/items",
            "audience": "https://api.example/items",
            "scope": "items:read",
            "start": f"{sys.executable} {CORPUS} --port {port} --skip aud",
            "defects": ["expired", "aud-wrong", "aud-missing"],
        },
        "expect": {"failing": failing},
    }
    path = tmp_path / "aud-skipped.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    return path


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` that holds ``text`` (safe_dump may wrap long values)."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.slow
def test_run_reports_mismatches_with_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken_api_scenario(tmp_path, free_port(), failing=["aud-wrong"])
    assert main(["run", str(path)]) == 1
    out = capsys.readouterr().out
    assert "NOT as expected" in out
    assert f"{path}:{line_of(path, '- aud-missing')}: aud-missing failed" in out  # its `defects` line
    assert "aud-wrong failed" not in out


@pytest.mark.slow
def test_run_passes_when_expectations_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken_api_scenario(tmp_path, free_port(), failing=["aud-wrong", "aud-missing"])
    report = tmp_path / "out.json"
    assert main(["run", str(path), "--report-json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data[0]["as_expected"] is True and data[0]["passed"] is False
    assert "as expected" in capsys.readouterr().out


def test_run_exit_two_on_invalid_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\napi:\n  builtin: inventory\n  stict: true\n")
    assert main(["run", str(path)]) == 2
    assert "bad.yaml:4" in capsys.readouterr().err


@pytest.mark.slow
def test_pytest_collects_scenarios_with_the_same_verdicts(pytester: pytest.Pytester, tmp_path: Path) -> None:
    port = free_port()
    good = broken_api_scenario(tmp_path, port, failing=["aud-wrong", "aud-missing"])
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "good.yaml").write_text(good.read_text())
    bad = broken_api_scenario(tmp_path, free_port(), failing=["aud-wrong"])
    (pytester.path / "scenarios" / "bad.yaml").write_text(bad.read_text().replace("aud-skipped", "aud-bad"))
    (pytester.path / "scenarios" / "notes.yaml").write_text("just: data\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "scenarios")
    result.assert_outcomes(passed=1, failed=1)
    line = line_of(bad, "- aud-missing")
    result.stdout.fnmatch_lines([f"*bad.yaml:{line}: aud-missing failed*", "*aud-missing*FAIL*"])


AGENT_SCENARIO = """\
version: 1
agent:
  run: "true"
  flow: client_credentials
  trials: [baseline]
  extra_trials:
    - name: mine
      idp:
        faults:
          - {endpoint: token, kind: unavailable}
      checks: [exit-status, pkce-s257]
"""


def test_agent_scenario_unknown_check_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(AGENT_SCENARIO)
    with pytest.raises(ScenarioError, match=r"a\.yaml:11: unknown check 'pkce-s257'"):
        run_scenario(load_scenario(path))


def test_agent_scenario_trial_of_other_flow_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(AGENT_SCENARIO.replace("[baseline]", "[baseline, id-token-expired]"))
    with pytest.raises(
        ScenarioError, match=r"a\.yaml:5: no trial 'id-token-expired' in the client_credentials"
    ):
        run_scenario(load_scenario(path))


def test_agent_scenario_trial_idp_is_validated_with_lines() -> None:
    with pytest.raises(ConfigError) as info:
        parse_scenario(AGENT_SCENARIO.replace("kind: unavailable", "kind: flaky"), file="a.yaml")
    assert info.value.line == 10


@pytest.mark.parametrize("doc", ["tutorial-test-your-api.md", "tutorial-test-your-agent.md"])
def test_tutorial_scenarios_are_valid(doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    assert blocks
    for block in blocks:
        parse_scenario(block, file=doc)


QUICK = "version: 1\nname: quick\napi:\n  builtin: inventory\n  defects: [aud-wrong]\n"


@pytest.mark.slow
def test_pytest_collects_a_nested_scenarios_dir_and_from_inside_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any ``scenarios`` directory within the rootdir, including the rootdir itself."""
    nested = pytester.path / "services" / "items" / "scenarios"
    nested.mkdir(parents=True)
    (nested / "quick.yaml").write_text(QUICK)
    (pytester.path / "services" / "items" / "config.yaml").write_text(QUICK)  # not in a scenarios dir
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "services")
    result.assert_outcomes(passed=1)
    monkeypatch.chdir(nested)
    inside = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rootdir", str(nested))
    inside.assert_outcomes(passed=1)


@pytest.mark.slow
def test_scenario_commands_run_in_the_scenario_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    agent = Path(__file__).resolve().parents[2] / "scenarios" / "agents" / "m2m_agent.py"
    (project / "my_agent.py").write_text(agent.read_text("utf-8"), encoding="utf-8")
    path = project / "agent.yaml"
    path.write_text(
        "version: 1\nname: relative\nagent:\n"
        '  run: "{python} my_agent.py"  # relative to this file, wherever the run starts\n'
        "  flow: client_credentials\n  trials: [baseline]\n",
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["run", str(path)]) == 0, capsys.readouterr().out


@pytest.mark.slow
def test_key_rollover_trials_against_a_pyjwt_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A PyJWKClient API (30 s refetch cooldown) survives a publish-first rollover and fails an
    abrupt rotation, as the scenario's `keys` trials show."""
    port = free_port()
    careful = Path(__file__).with_name("careful_api.py")
    trial = {"scope": "items:read", "status": 200}
    text = {
        "version": 1,
        "name": "rollover",
        "api": {
            "url": f"http://127.0.0.1:{port}/items",
            "audience": "https://api.example/items",
            "scope": "items:read",
            "start": f"{sys.executable} {careful} --port {port} --variant careful",
            "defects": [],
            "expiry_wait": False,
            "trials": [
                {"name": "publish-first", "keys": "publish-first", **trial},
                {"name": "after-publication", **trial},
                {"name": "abrupt-rotation", "keys": "rotate", **trial},
            ],
        },
        "expect": {"failing": ["abrupt-rotation"]},
    }
    path = tmp_path / "rollover.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    code = main(["run", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "abrupt-rotation" in out
