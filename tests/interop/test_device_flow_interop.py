"""openid-client (Node.js, OpenID-certified RP) does the device flow and CIBA against ``mockidp serve``.

The RP library does the polling itself, so these prove that mockidp's ``interval``,
``authorization_pending`` and the token responses are what a certified client expects; the
journal (control API) shows what it saw.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from openid_client_rp import NodeRPError, run_rp
from serving import ServeProcess

pytestmark = [pytest.mark.interop, pytest.mark.slow]

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
CIBA = "urn:openid:params:grant-type:ciba"
CONFIG = f"""\
login: auto
users:
  - sub: alice
    password: pw
  - sub: bob
    password: pw
clients:
  - client_id: tv
    grant_types: ["{DEVICE}", refresh_token]
  - client_id: agent
    client_secret: agent-secret
    grant_types: ["{CIBA}"]
device:
  interval: 1
  approve_after_polls: 2
ciba:
  interval: 1
  after_polls: 1
"""


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("device") / "idp.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    with ServeProcess("--port", "0", "--config", str(path)) as server:
        yield server.issuer
        assert server.stop() == 0


def token_polls(issuer: str) -> list[dict[str, Any]]:
    journal = requests.get(f"{issuer}/_mockidp/journal", timeout=5).json()["requests"]
    return [r for r in journal if r["endpoint"] == "token"]


def test_openid_client_device_flow_with_a_login_hint_sees_pending_then_tokens(issuer: str) -> None:
    requests.delete(f"{issuer}/_mockidp/journal", timeout=5)
    out = run_rp(
        "device_flow.mjs",
        {"issuer": issuer, "client_id": "tv", "scope": "openid offline_access", "login_hint": "bob"},
    )
    authorization = out["authorization"]
    assert authorization["verification_uri"] == f"{issuer}/device"
    assert authorization["verification_uri_complete"].endswith(f"user_code={authorization['user_code']}")
    assert authorization["interval"] == 1
    tokens = out["tokens"]
    assert tokens["token_type"].lower() == "bearer" and tokens["refresh_token"]
    assert out["claims"]["sub"] == "bob" and out["claims"]["aud"] == "tv"
    polls = token_polls(issuer)
    # approve_after_polls: 2 -> two authorization_pending answers, then the tokens; a slow_down
    # would have shown as a fourth poll
    assert [p["status"] for p in polls] == [400, 400, 200]
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(polls)]
    assert all(gap >= 0.9 for gap in gaps), gaps


def waiting(issuer: str) -> list[dict[str, Any]]:
    listed = requests.get(f"{issuer}/_mockidp/polled-requests", timeout=5).json()["requests"]
    return [r for r in listed if r["status"] == "pending"]


def test_openid_client_sees_access_denied_when_the_person_denies(issuer: str) -> None:
    args = {"issuer": issuer, "client_id": "tv", "login_hint": "alice"}
    with ThreadPoolExecutor(1) as pool:
        polling = pool.submit(run_rp, "device_flow.mjs", args)
        deadline = time.monotonic() + 10
        while not waiting(issuer) and time.monotonic() < deadline:
            time.sleep(0.05)
        (request,) = waiting(issuer)
        r = requests.post(f"{issuer}/_mockidp/polled-requests/deny", json={"id": request["id"]}, timeout=5)
        assert r.status_code == 200 and r.json()["status"] == "denied"
        with pytest.raises(NodeRPError, match="access_denied"):
            polling.result(timeout=30)


def test_an_unknown_login_hint_is_refused_up_front(issuer: str) -> None:
    with pytest.raises(NodeRPError, match="invalid_request"):
        run_rp("device_flow.mjs", {"issuer": issuer, "client_id": "tv", "login_hint": "nobody"})


def test_openid_client_ciba_poll_mode(issuer: str) -> None:
    out = run_rp(
        "ciba.mjs",
        {
            "issuer": issuer,
            "client_id": "agent",
            "client_secret": "agent-secret",
            "login_hint": "alice",
            "binding_message": "Approve order 42",
        },
    )
    assert out["claims"]["sub"] == "alice" and out["claims"]["aud"] == "agent"
    assert out["tokens"]["access_token"]
