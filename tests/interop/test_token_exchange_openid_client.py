"""openid-client (Node.js, OpenID-certified RP) does an RFC 8693 token exchange against
``mockidp serve``: the token is for the resource, with the user as ``sub`` and the agent in ``act``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from openid_client_rp import NodeRPError, run_rp
from serving import ServeProcess

pytestmark = [pytest.mark.interop, pytest.mark.slow]

AT = "urn:ietf:params:oauth:token-type:access_token"
CONFIG = """
apis:
  - {audience: https://front.example, scopes: [front:read]}
  - {audience: https://back.example, scopes: [back:read]}
users:
  - {sub: alice}
clients:
  - client_id: web-app
    client_secret: web-app-secret
    audiences: [https://front.example, https://back.example]
    scopes: [front:read, back:read]
  - client_id: agent
    client_secret: agent-secret
    grant_types: [urn:ietf:params:oauth:grant-type:token-exchange]
    exchange: {audiences: [https://back.example], scopes: [back:read]}
"""


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = Path(tmp_path_factory.mktemp("exchange")) / "mockidp.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with ServeProcess("--port", "0", "--config", str(config)) as server:
        yield server.issuer


def user_token(issuer: str) -> str:
    """Alice's access token for the web app (as a sign-in would give it), via the control API."""
    body = {
        "client_id": "web-app",
        "subject": "alice",
        "audience": ["https://front.example", "https://back.example"],
        "scope": "front:read back:read",
    }
    r = requests.post(f"{issuer}/_mockidp/tokens", json=body, timeout=10)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_exchange_gives_a_token_for_the_resource_with_the_agent_in_act(issuer: str) -> None:
    tokens = run_rp(
        "token_exchange.mjs",
        {
            "issuer": issuer,
            "client_id": "agent",
            "client_secret": "agent-secret",
            "subject_token": user_token(issuer),
            "subject_token_type": AT,
            "resource": "https://back.example",
            "scope": "back:read",
        },
    )
    assert tokens["issued_token_type"] == AT
    assert tokens["token_type"].lower() == "bearer"
    jwks = jwt.PyJWKClient(f"{issuer}/jwks")
    claims = jwt.decode(
        tokens["access_token"],
        jwks.get_signing_key_from_jwt(tokens["access_token"]).key,
        algorithms=["RS256"],
        audience="https://back.example",
        issuer=issuer,
    )
    assert claims["sub"] == "alice"
    assert claims["act"] == {"sub": "agent", "client_id": "agent"}
    assert claims["scope"] == "back:read"


def test_a_target_outside_the_policy_is_refused(issuer: str) -> None:
    with pytest.raises(NodeRPError, match="invalid_target"):
        run_rp(
            "token_exchange.mjs",
            {
                "issuer": issuer,
                "client_id": "agent",
                "client_secret": "agent-secret",
                "subject_token": user_token(issuer),
                "subject_token_type": AT,
                "resource": "https://front.example",
            },
        )
