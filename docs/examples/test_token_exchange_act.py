"""Token exchange (RFC 8693): a gateway trades the user's token for one for the API behind it;
the new token has the user as ``sub`` and the gateway in ``act``."""

import jwt
import pytest
import requests

from mockidp import MockIdP

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
def idp():
    config = {
        "apis": [
            {"audience": "https://gateway.example", "scopes": ["orders:read"]},
            {"audience": "https://orders.example", "scopes": ["orders:read"]},
        ],
        "users": [{"sub": "alice"}],
        "clients": [
            {
                "client_id": "web-app",
                "client_secret": "web-app-secret",
                "audiences": ["https://gateway.example", "https://orders.example"],
                "scopes": ["orders:read"],
            },
            {
                "client_id": "gateway",
                "client_secret": "gateway-secret",
                "grant_types": [EXCHANGE],
                # what the gateway may exchange into, and how long a delegation chain may get
                "exchange": {"audiences": ["https://orders.example"], "scopes": ["orders:read"], "max_act_depth": 1},
            },
        ],
    }
    with MockIdP(config) as server:
        yield server


def test_gateway_exchanges_the_users_token(idp):
    users_token = idp.issue_token(
        client_id="web-app",
        subject="alice",
        audience=["https://gateway.example", "https://orders.example"],
        scope="orders:read",
    )
    r = requests.post(
        idp.token_endpoint,
        data={
            "grant_type": EXCHANGE,
            "subject_token": users_token,
            "subject_token_type": ACCESS_TOKEN,
            "resource": "https://orders.example",
        },
        auth=("gateway", "gateway-secret"),
    )
    assert r.status_code == 200
    assert r.json()["issued_token_type"] == ACCESS_TOKEN
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "alice" and claims["aud"] == "https://orders.example"
    assert claims["act"] == {"sub": "gateway", "client_id": "gateway"}


def test_may_act_in_the_users_token_is_honoured(idp):
    only_the_mailer = idp.issue_token(
        client_id="web-app",
        subject="alice",
        audience="https://orders.example",
        scope="orders:read",
        claims={"may_act": {"sub": "mailer"}},
    )
    r = requests.post(
        idp.token_endpoint,
        data={"grant_type": EXCHANGE, "subject_token": only_the_mailer, "subject_token_type": ACCESS_TOKEN},
        auth=("gateway", "gateway-secret"),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"  # RFC 8693 section 2.2.2
