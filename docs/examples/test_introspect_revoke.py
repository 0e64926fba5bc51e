"""Introspection (RFC 7662) for an API, revocation (RFC 7009) for the client that holds the token."""

import requests

AGENT = ("demo-agent", "demo-agent-secret")


def test_an_api_introspects_and_a_client_revokes(mockidp):
    token = requests.post(
        mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT
    ).json()["access_token"]

    # Introspection needs an authenticated client; any invalid token is just active: false.
    info = requests.post(mockidp.url("introspect"), data={"token": token}, auth=AGENT).json()
    assert info["active"] is True and info["client_id"] == "demo-agent"
    bogus = requests.post(mockidp.url("introspect"), data={"token": "bogus"}, auth=AGENT).json()
    assert bogus == {"active": False}

    # Revocation answers 200 and the token is dead everywhere.
    assert requests.post(mockidp.url("revoke"), data={"token": token}, auth=AGENT).status_code == 200
    info = requests.post(mockidp.url("introspect"), data={"token": token}, auth=AGENT).json()
    assert info == {"active": False}


def test_unauthenticated_introspection_is_refused(mockidp):
    r = requests.post(mockidp.url("introspect"), data={"token": "anything"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
