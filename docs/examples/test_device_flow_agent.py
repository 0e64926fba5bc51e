"""The device authorization grant (RFC 8628): an agent without a browser gets a token."""

import time

import pytest
import requests

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
TV = {"client_id": "tv", "grant_types": [DEVICE, "refresh_token"]}


def device_login(idp, client_id="tv", **extra):
    """What a device-flow agent does: start, show the code, poll politely."""
    meta = requests.get(idp.metadata_url).json()
    started = requests.post(
        meta["device_authorization_endpoint"], data={"client_id": client_id, "scope": "openid", **extra}
    ).json()
    print(f"Visit {started['verification_uri']} and enter {started['user_code']}")
    interval = started["interval"]
    while True:
        time.sleep(interval)
        r = requests.post(
            meta["token_endpoint"],
            data={"grant_type": DEVICE, "device_code": started["device_code"], "client_id": client_id},
        )
        if r.status_code == 200:
            return r.json()
        error = r.json()["error"]
        if error == "slow_down":
            interval += 5  # RFC 8628 section 3.5: for this and every later poll
        elif error != "authorization_pending":
            return r.json()  # access_denied, expired_token: stop polling


@pytest.mark.mockidp(clients=[TV], device={"interval": 1, "approve_after_polls": 2})
def test_login_hint_names_who_approves_after_two_polls(mockidp):
    tokens = device_login(mockidp, login_hint="alice")
    assert tokens["token_type"] == "Bearer" and "id_token" in tokens
    answers = [p["answer"] for p in mockidp.polled_requests()[0]["answers"]]
    assert answers == ["authorization_pending", "authorization_pending", "tokens"]


@pytest.mark.mockidp(clients=[TV], login="form", device={"interval": 1})
def test_the_person_denies(mockidp):
    meta = requests.get(mockidp.metadata_url).json()
    started = requests.post(meta["device_authorization_endpoint"], data={"client_id": "tv"}).json()
    mockidp.deny(user_code=started["user_code"])  # or POST /_mockidp/polled-requests/deny
    r = requests.post(
        meta["token_endpoint"],
        data={"grant_type": DEVICE, "device_code": started["device_code"], "client_id": "tv"},
    )
    assert r.json()["error"] == "access_denied"
