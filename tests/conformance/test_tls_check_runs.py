"""check-api and check-agent with ``--tls``: the IdP (and the mock APIs) serve https from
mockidp's local CA, and the started API or agent trusts it through its environment alone
(``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``: the corpus programs know nothing of mockidp)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from serving import free_port

from mockidp.cli import main
from mockidp.conformance.check_agent import check_agent

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent


def test_check_api_tls_passes_a_correct_api_fetching_jwks_over_https(tmp_path: Path) -> None:
    port = free_port()
    report = tmp_path / "report.json"
    start = f"{sys.executable} {HERE / 'broken_rs.py'} --port {port} --scope items:read"
    code = main(
        [
            "check-api",
            f"http://127.0.0.1:{port}/items",
            "--audience=https://api.example/items",
            "--scope=items:read",
            f"--start={start}",
            "--tls",
            "--no-expiry-wait",
            f"--report-json={report}",
        ]
    )
    data = json.loads(report.read_text())
    assert code == 0, data
    assert data["cases"][0]["name"] == "valid-token" and data["cases"][0]["passed"]


@pytest.mark.parametrize("flow", ["client_credentials", "authorization_code"])
def test_check_agent_tls_passes_a_correct_agent(flow: str) -> None:
    command = f"{sys.executable} {HERE / 'agent.py'} --flow {flow}"
    report = check_agent(command, flow, timeout=20, trials=["baseline"], tls=True)
    assert report.passed, report.table() + report.log_text()
