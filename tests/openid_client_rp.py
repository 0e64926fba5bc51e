"""Drive openid-client (Node.js; an OpenID-certified relying-party library) from the tests.

Each scenario is a small ES module in ``tests/node_rp/`` that takes one JSON argument and prints
one JSON result. ``.ci/run`` installs the pinned package with ``npm ci``; the tests skip only
when Node.js itself is missing, and fail if the package is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_RP = Path(__file__).parent / "node_rp"


class NodeRPError(AssertionError):
    """The script failed: openid-client refused something (its message is in ``stderr``)."""

    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("Node.js is not installed")
    if not (NODE_RP / "node_modules" / "openid-client").is_dir():
        raise AssertionError("openid-client is not installed: run `npm ci --prefix tests/node_rp`")
    return path


def run_rp(script: str, args: dict[str, Any], *, timeout: float = 30.0) -> Any:
    """Run ``tests/node_rp/<script>`` with ``args``; its JSON output, or :class:`NodeRPError`."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    done = subprocess.run(
        [node(), str(NODE_RP / script), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=NODE_RP,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise NodeRPError(done.stderr)
    return json.loads(done.stdout)
