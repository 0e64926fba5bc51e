"""``mockidp mint`` and ``mockidp defects``: tokens and the catalog from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from userflow import claims_of, header_of

from mockidp.cli import main
from mockidp.defects import CATALOG

PUBLIC_KEYS = ["name", "group", "description", "spec", "expected_status", "expected_error", "severity"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_mint_prints_a_valid_demo_token(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "mint")
    assert code == 0
    token = out.strip()
    claims = claims_of(token)
    assert claims["iss"] == "http://127.0.0.1:9400"
    assert claims["client_id"] == "demo-agent" and claims["aud"] == "demo-api"
    assert header_of(token)["typ"] == "at+jwt"


def test_mint_with_options_and_defects(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "mint",
        "--issuer", "https://idp.example.test/tenant",
        "--subject", "robot",
        "--audience", "demo-api",
        "--scope", "demo-api:read",
        "--defect", "expired",
        "--defect", "typ-jwt",
    )  # fmt: skip
    assert code == 0
    claims = claims_of(out.strip())
    assert claims["iss"] == "https://idp.example.test/tenant" and claims["sub"] == "robot"
    assert claims["scope"] == "demo-api:read"
    assert claims["exp"] < time.time() - 3000
    assert header_of(out.strip())["typ"] == "JWT"


def test_mint_with_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "idp.yaml"
    config.write_text(
        "clients:\n  - client_id: svc\n    client_secret: s\n    scopes: [api:x]\n    audiences: [https://api]\n"
        "apis:\n  - audience: https://api\n    scopes: [api:x]\n"
    )
    code, out, _ = run(capsys, "mint", "--config", str(config), "--defect", "aud-lookalike")
    assert code == 0
    assert claims_of(out.strip())["aud"] == "https://api.evil.example"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mint", "--defect", "no-such-defect"], "unknown defect 'no-such-defect'"),
        (["mint", "--defect", "alg-none", "--defect", "alg-confusion-hs256-pem"], "cannot be combined"),
        (["mint", "--client", "ghost"], "unknown client 'ghost'"),
        (["mint", "--scope", "admin"], "admin"),
    ],
)
def test_mint_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.startswith("mockidp: error:")


def test_defects_json_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "defects", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [d["name"] for d in listed] == list(CATALOG) and len(listed) >= 40
    for entry in listed:
        assert list(entry)[:7] == PUBLIC_KEYS
    assert {d["group"] for d in listed} == {
        "signature", "header", "time", "audience", "claims", "type", "structure", "delegation", "id-jag",
        "positive",
    }  # fmt: skip


def test_defects_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "defects")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["NAME", "GROUP", "EXPECTED", "SEVERITY"]
    assert len(lines) == len(CATALOG) + 1
    assert any(line.startswith("scope-insufficient") and "403 insufficient_scope" in line for line in lines)


@pytest.mark.slow
def test_console_script_entry_point() -> None:
    script = Path(sys.executable).with_name("mockidp")
    result = subprocess.run(
        [str(script), "defects", "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["name"] == "alg-none"


@pytest.mark.slow
def test_a_closed_pipe_is_not_a_traceback() -> None:
    """`mockidp defects --json | head -1`: the reader leaves early; the user must not see a traceback."""
    script = Path(sys.executable).with_name("mockidp")
    with subprocess.Popen(
        [str(script), "defects", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before the command writes: its first write meets a closed pipe
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 1
