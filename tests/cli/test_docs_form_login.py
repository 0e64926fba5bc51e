"""The form-login curl recipe in docs/flows/authorization-code.md runs as written against `mockidp serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from serving import ServeProcess

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "form-login.sh"
PAGE = SCRIPT.parent.parent / "flows" / "authorization-code.md"


def test_page_shows_the_script_verbatim() -> None:
    assert f"```sh\n{SCRIPT.read_text('utf-8')}```" in PAGE.read_text("utf-8")


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="needs curl and openssl")
def test_form_login_recipe_gets_tokens() -> None:
    with ServeProcess("--port", "0") as server:
        done = subprocess.run(
            ["bash", str(SCRIPT)],
            env={**os.environ, "ISSUER": server.issuer},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    tokens = json.loads(done.stdout)
    assert tokens["token_type"] == "Bearer"
    assert tokens["access_token"].count(".") == 2 and tokens["id_token"].count(".") == 2
