"""openid-client (Node.js, OpenID-certified RP) with DPoP: the issue 14 done-when.

Against ``mockidp serve`` it gets a DPoP-bound client-credentials token whose ``cnf.jkt`` is the
RFC 7638 thumbprint of its own key; against an in-process IdP with a DPoP-only mock API it then
calls the API with ``Authorization: DPoP`` and a proof carrying ``ath`` (and the API's nonce).
"""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from openid_client_rp import run_rp
from serving import ServeProcess

from mockidp import MockIdP
from mockidp.demo import demo_config
from mockidp.resources import MockApis

pytestmark = [pytest.mark.interop, pytest.mark.slow]
AGENT = {"client_id": "demo-agent", "client_secret": "demo-agent-secret"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with ServeProcess("--port", "0") as server:
        yield server.issuer


def test_dpop_bound_client_credentials_token_from_mockidp_serve(issuer: str) -> None:
    out = run_rp("dpop_client_credentials.mjs", {"issuer": issuer, **AGENT})
    assert out["tokens"]["token_type"].lower() == "dpop"
    claims = jwt.decode(out["tokens"]["access_token"], options={"verify_signature": False})
    assert claims["iss"] == issuer
    assert claims["cnf"] == {"jkt": out["jkt"]}


@pytest.mark.parametrize("nonce", [False, True], ids=["no-nonce", "api-nonce"])
def test_openid_client_calls_a_dpop_only_mock_api(nonce: bool) -> None:
    with MockIdP(demo_config()) as idp, MockApis(idp, ["inventory"]) as apis:
        apis["inventory"].require_dpop(nonce=nonce)
        out = run_rp(
            "dpop_client_credentials.mjs",
            {
                **AGENT,
                "issuer": idp.issuer,
                "resource": apis["inventory"].url,
                "api_url": apis["inventory"].url,
            },
        )
        calls = apis["inventory"].snapshot()
    assert out["api"]["status"] == 200, out
    assert out["api"]["body"]["sub"] == "demo-agent"
    assert calls[-1].status == 200 and calls[-1].claims is not None
    assert calls[-1].claims["cnf"] == {"jkt": out["jkt"]}
    if nonce:  # the first call was refused with use_dpop_nonce, the retry carried it
        assert [c.error for c in calls] == ["use_dpop_nonce", None]
