"""CIBA poll mode: an agent asks a person to approve one action, then polls for the answer."""

import json
import time

import pytest
import requests

CIBA = "urn:openid:params:grant-type:ciba"
AGENT = {"client_id": "shop-agent", "client_secret": "agent-secret", "grant_types": [CIBA]}
PURCHASE = [{"type": "purchase", "actions": ["buy"], "item": "book", "price": "12.00 EUR"}]


def ask_and_wait(idp, **extra):
    """What a human-in-the-loop agent does: ask over the back channel, poll until decided."""
    meta = requests.get(idp.metadata_url).json()
    auth = ("shop-agent", "agent-secret")
    asked = requests.post(
        meta["backchannel_authentication_endpoint"],
        data={
            "scope": "openid",
            "login_hint": "alice",
            "binding_message": "Buy the book for 12 EUR?",
            "authorization_details": json.dumps(PURCHASE),
            **extra,
        },
        auth=auth,
    ).json()
    interval = asked["interval"]
    while True:
        time.sleep(interval)
        r = requests.post(
            meta["token_endpoint"], data={"grant_type": CIBA, "auth_req_id": asked["auth_req_id"]}, auth=auth
        )
        if r.status_code == 200 or r.json()["error"] not in ("authorization_pending", "slow_down"):
            return r.json()
        if r.json()["error"] == "slow_down":
            interval += 5


@pytest.mark.mockidp(clients=[AGENT], ciba={"auto": "approve", "after_polls": 1, "interval": 1})
def test_the_person_approves(mockidp):
    tokens = ask_and_wait(mockidp)
    assert tokens["authorization_details"] == PURCHASE  # what was approved, also in the access token


@pytest.mark.mockidp(clients=[AGENT], ciba={"auto": "deny", "interval": 1})
def test_the_person_refuses(mockidp):
    assert ask_and_wait(mockidp)["error"] == "access_denied"


@pytest.mark.mockidp(clients=[AGENT], ciba={"auto": "none", "interval": 1})
def test_nobody_answers_in_time(mockidp):
    assert ask_and_wait(mockidp, requested_expiry="2")["error"] == "expired_token"
