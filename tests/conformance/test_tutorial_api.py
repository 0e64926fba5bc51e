"""The check-api tutorial's FastAPI + PyJWT API, before and after its findings (real runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from serving import free_port

from mockidp.cli import main

pytestmark = pytest.mark.slow
pytest.importorskip("fastapi")

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def run(module: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    port, report = free_port(), tmp_path / f"{module}.json"
    start = f"cd {EXAMPLES} && {sys.executable} -m uvicorn {module}:app --port {port}"
    code = main(
        [
            "check-api",
            f"http://127.0.0.1:{port}/items",
            "--audience=https://api.example.com",
            "--scope=items:read",
            f"--start={start}",
            f"--api-log={tmp_path / 'api.log'}",
            f"--report-json={report}",
            "--skip-slow",
        ]
    )
    return code, json.loads(report.read_text())


def test_before_fails_with_the_grouped_findings_of_the_tutorial(tmp_path: Path) -> None:
    code, report = run("items_api_before", tmp_path)
    assert code == 1
    findings = {f["cause"]: f for f in report["findings"]}
    assert {c for c, f in findings.items() if f["severity"] == "must"} == {"missing-claim", "scope", "typ"}
    assert "exp-missing" in findings["missing-claim"]["cases"]
    assert "scope-lookalike" in findings["scope"]["cases"]
    assert findings["challenge-missing"]["severity"] == "should"


def test_after_passes_with_should_findings_only(tmp_path: Path) -> None:
    code, report = run("items_api", tmp_path)
    assert code == 0
    findings = report["findings"]
    # PyJWT's default leeway of 0 refuses `nbf` 5 s ahead: the positive control's should finding
    assert {f["cause"] for f in findings} == {"json", "duplicate-key", "size", "leeway"}
    assert all(f["severity"] == "should" for f in findings)
