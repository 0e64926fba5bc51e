"""openid-client (Node.js, OpenID-certified RP) against ``mockidp serve``: the harness works.

The feature tests (private_key_jwt, token exchange, DPoP, device flow) use the same harness.
"""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from openid_client_rp import NodeRPError, run_rp
from serving import ServeProcess

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with ServeProcess("--port", "0") as server:
        yield server.issuer


def test_client_credentials_token_for_the_demo_api(issuer: str) -> None:
    tokens = run_rp(
        "client_credentials.mjs",
        {"issuer": issuer, "client_id": "demo-agent", "client_secret": "demo-agent-secret"},
    )
    assert tokens["token_type"].lower() == "bearer"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["iss"] == issuer
    assert claims["client_id"] == "demo-agent"


def test_wrong_secret_is_refused(issuer: str) -> None:
    with pytest.raises(NodeRPError, match="invalid_client"):
        run_rp(
            "client_credentials.mjs",
            {"issuer": issuer, "client_id": "demo-agent", "client_secret": "wrong"},
        )
