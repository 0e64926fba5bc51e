"""``mockidp check-api`` end to end: --start in a process group, reports, exit statuses."""

from __future__ import annotations

import json
import socket
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from serving import free_port

from mockidp.cli import main
from mockidp.conformance.processes import port_open

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).with_name("broken_rs.py")


def start_cmd(port: int, skip: str | None = None) -> str:
    cmd = f"{sys.executable} {CORPUS} --port {port} --scope items:read"
    return cmd + (f" --skip {skip}" if skip else "")


def test_start_reports_and_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code = main(
        [
            "check-api",
            f"http://127.0.0.1:{port}/items",
            "--audience=https://api.example/items",
            "--scope=items:read",
            f"--start={start_cmd(port)}",
            "--no-expiry-wait",
            f"--report-json={report}",
            f"--junit-xml={junit}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "case" in out and "outcome" in out and "verdict" in out and "PASSED" in out
    data = json.loads(report.read_text())
    assert data["target"] == f"http://127.0.0.1:{port}/items"
    assert data["passed"] is True and data["strict"] is False and data["findings"] == []
    assert data["summary"] == {
        "passed": len(data["cases"]),
        "accepted": 0,
        "refused-differently": 0,
        "crashed": 0,
    }
    assert data["cases"][0] == {
        "name": "valid-token",
        "severity": "must",
        "outcome": "passed",
        "expected_status": None,
        "expected_error": None,
        "status": 200,
        "got": "200",
        "passed": True,
        "detail": "",
    }
    assert set(data["cases"][1]) == set(data["cases"][0])
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) == len(data["cases"])
    # the process group was stopped: nothing listens there any more
    assert not port_open("127.0.0.1", port)


def test_skipping_aud_exits_one_and_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    report = tmp_path / "report.json"
    code = main(
        [
            "check-api",
            f"http://127.0.0.1:{port}/items",
            "--audience",
            "https://api.example/items",
            "--scope",
            "items:read",
            "--start",
            start_cmd(port, "aud"),
            "--skip-slow",
            "--report-json",
            str(report),
        ]
    )
    assert code == 1
    data = json.loads(report.read_text())
    failed = [c["name"] for c in data["cases"] if not c["passed"]]
    # a delegated token exchanged for another API is an aud case too
    assert "aud-wrong" in failed, failed
    assert all(name.startswith("aud-") or name == "act-exchanged-for-other-audience" for name in failed), (
        failed
    )
    # grouped by the catalog check each defect exercises: aud-number is a type check, aud-missing a
    # required claim, the rest the comparison itself
    groups = {f["cause"]: f["cases"] for f in data["findings"]}
    assert groups == {
        "aud": [
            "aud-wrong",
            "aud-lookalike",
            "aud-array-foreign",
            "aud-empty-array",
            "aud-wildcard",
            "aud-is-issuer",
            "aud-is-client-id",
            "aud-trailing-slash",
            "aud-case-changed",
            "aud-path-prefix",
            "act-exchanged-for-other-audience",
        ],
        "claim-type": ["aud-number"],
        "missing-claim": ["aud-missing"],
    }
    assert all(f["severity"] == "must" and f["fix"] for f in data["findings"])
    out = capsys.readouterr().out
    assert "FAIL" in out and out.index("does not check `aud` exactly") < out.index("valid-token")


def test_unreachable_api_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    code = main(["check-api", f"http://127.0.0.1:{port}/", "--audience", "a", "--scope", "s"])
    assert code == 2
    assert "nothing accepts connections" in capsys.readouterr().err


def test_start_command_that_dies_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    args = ["check-api", f"http://127.0.0.1:{port}/", "--audience", "a", "--scope", "s", "--start", "exit 3"]
    assert main(args) == 2
    assert "exited with status 3" in capsys.readouterr().err


def test_bad_config_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "idp.yaml"
    bad.write_text("clients:\n  - client_id: x\n    wat: 1\n")
    code = main(["check-api", "http://127.0.0.1:9/", "--audience", "a", "--scope", "s", "--config", str(bad)])
    assert code == 2
    assert "idp.yaml:3" in capsys.readouterr().err


def test_start_refuses_a_port_already_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A leftover API on the port would be judged instead of CMD's (which cannot bind): exit 2."""
    marker = tmp_path / "started"
    with socket.socket() as stale:
        stale.bind(("127.0.0.1", 0))
        stale.listen()
        port = int(stale.getsockname()[1])
        args = ["check-api", f"http://127.0.0.1:{port}/items", "--audience", "a", "--scope", "s"]
        assert main([*args, "--start", f"touch {marker}; sleep 30"]) == 2
    assert "already accepts connections" in capsys.readouterr().err
    assert not marker.exists()


def test_api_that_hangs_fails_with_exit_one_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A timeout always fails: an API that accepts connections but never answers is not unreachable."""
    import functools
    import time

    from mockidp.conformance import api_send, probe

    monkeypatch.setattr(api_send, "send", functools.partial(probe.send, timeout=0.3))
    with socket.socket() as hung:  # the kernel accepts connections; nobody ever answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}/items"
        began = time.monotonic()
        assert main(["check-api", url, "--audience", "a", "--scope", "s"]) == 1
    assert time.monotonic() - began < 5
    out = capsys.readouterr().out
    assert (
        "timeout after 0.3 s" in out
        and "FAILED (0 passed, 0 accepted, 0 refused-differently, 2 crashed" in out
    )


def test_tag_cve_sends_only_the_cve_entries_and_catches_python_jose_hmac(tmp_path: Path) -> None:
    from mockidp.defects import CATALOG

    port = free_port()
    report = tmp_path / "report.json"
    args = ["check-api", f"http://127.0.0.1:{port}/items", "--audience", "https://api.example/items"]
    args += ["--scope", "items:read", "--start", start_cmd(port, "jose-hmac"), "--skip-slow"]
    code = main([*args, "--tag", "cve", "--report-json", str(report)])
    assert code == 1
    data = json.loads(report.read_text())
    sent = {c["name"] for c in data["cases"]} - {"valid-token", "no-token", "token-in-query", "token-in-body"}
    assert sent and all(CATALOG[n].cves for n in sent), sent
    assert {"iss-prefix", "aud-empty-array", "jwk-embedded-ec", "b64-false-without-crit"} <= sent
    [finding] = data["findings"]
    assert finding["cause"] == "alg"
    assert set(finding["cases"]) == {"alg-confusion-hs256-der", "alg-confusion-hs256-openssh"}


def test_an_empty_selection_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check-api", "http://127.0.0.1:9/items", "--audience", "a", "--scope", "s", "--tag", "nope"]
    assert main(args) == 2
    assert "no catalog entry" in capsys.readouterr().err
