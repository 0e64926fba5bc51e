"""``mockidp check-api --start`` against the Starlette + PyJWT API: exit statuses and the API's log."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from serving import free_port

from mockidp.cli import main

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]

API = Path(__file__).with_name("careful_api.py")


def args(port: int, variant: str, *extra: str) -> list[str]:
    return [
        "check-api",
        f"http://127.0.0.1:{port}/items",
        "--audience=https://api.example/items",
        "--scope=items:read",
        f"--start={sys.executable} {API} --port {port} --variant {variant}",
        *extra,
    ]


def test_hardened_api_passes_strict_including_the_expiry_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port, log = free_port(), tmp_path / "api.log"
    assert main(args(port, "hardened", "--strict", f"--api-log={log}")) == 0
    out = capsys.readouterr().out
    assert "expired-after-cache" in out
    assert re.search(r"PASSED \(\d+ passed, 0 accepted, 0 refused-differently, 0 crashed", out)
    assert "last lines of the API" not in out
    # the API's own output went to the log, not into the report
    assert "trusting http://127.0.0.1" in log.read_text() and "trusting" not in out


def test_api_that_refuses_everything_exits_two_with_what_to_check(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    cmd = args(port, "hardened", "--skip-slow")
    cmd[-2] += " --issuer https://login.example.com"
    assert main(cmd) == 2
    err = capsys.readouterr().err
    assert "refused the valid token" in err
    for name in ("MOCKIDP_ISSUER", "MOCKIDP_AUDIENCE", "MOCKIDP_JWKS_URI", "https://api.example/items"):
        assert name in err


def test_api_that_fetches_jku_fails_naming_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port, report = free_port(), tmp_path / "report.json"
    assert main(args(port, "fetch-jku", "--skip-slow", f"--report-json={report}")) == 1
    [finding] = json.loads(report.read_text())["findings"]
    assert finding["cause"] == "ssrf" and finding["cases"] == ["jku-attacker"]
    assert "/_mockidp/attacker/jwks.json" in finding["notes"][0]
    assert "/_mockidp/attacker/jwks.json" in capsys.readouterr().out


def test_crashing_api_shows_the_last_lines_of_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port, log = free_port(), tmp_path / "api.log"
    assert main(args(port, "crash-on-garbage", "--skip-slow", f"--api-log={log}")) == 1
    out = capsys.readouterr().out
    assert f"last lines of the API's output (all of it in {log})" in out
    assert "  | " in out and "ValueError" in log.read_text()


def test_start_failure_quotes_the_commands_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    cmd = ["check-api", f"http://127.0.0.1:{port}/", "--audience=a", "--scope=s"]
    assert main([*cmd, "--start", "echo cannot-import-myapi >&2; exit 3"]) == 2
    err = capsys.readouterr().err
    assert "exited with status 3" in err and "| cannot-import-myapi" in err


def test_pytest_scenario_reports_outcomes_and_grouped_findings(pytester: pytest.Pytester) -> None:
    port = free_port()
    start = f"{{python}} {API} --port {port} --variant no-typ"
    scenario = (
        "version: 1\nname: items\napi:\n"
        f"  url: http://127.0.0.1:{port}/items\n  audience: https://api.example/items\n"
        f"  scope: items:read\n  expiry_wait: false\n  start: '{start}'\n"
    )
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "items.yaml").write_text(scenario)
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "scenarios")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "typ-jwt failed: accepted: accepted with 200" in out
    assert "does not check `typ` (4 cases" in out and "refused-differently" in out


def test_pytest_scenario_of_a_misconfigured_api_says_what_to_check(pytester: pytest.Pytester) -> None:
    port = free_port()
    start = f"{{python}} {API} --port {port} --issuer https://login.example.com"
    scenario = (
        "version: 1\napi:\n"
        f"  url: http://127.0.0.1:{port}/items\n  audience: https://api.example/items\n"
        f"  scope: items:read\n  start: '{start}'\n"
    )
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "items.yaml").write_text(scenario)
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "scenarios")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "refused the valid token" in out and "MOCKIDP_ISSUER" in out and "Traceback" not in out
