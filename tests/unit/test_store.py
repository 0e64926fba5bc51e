"""The store stays bounded: expired records are forgotten past a high-water mark."""

from __future__ import annotations

import pytest
import requests

from mockidp import MockIdP
from mockidp import store as store_module

AGENT = ("demo-agent", "demo-agent-secret")


def test_expired_tokens_are_forgotten_past_the_high_water_mark(
    monkeypatch: pytest.MonkeyPatch, mockidp: MockIdP, http: requests.Session
) -> None:
    monkeypatch.setattr(store_module, "PRUNE_AT", 5)
    mockidp.state.store.prune(0)  # re-arm the high-water mark at the patched value
    mockidp.clock.freeze()
    old = [mockidp.issue_token(client_id="demo-agent") for _ in range(3)]
    assert len(mockidp.state.store.tokens()) == 3
    mockidp.clock.advance(3600)  # the three are expired now
    live = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert len(mockidp.state.store.tokens()) == 4
    mockidp.issue_token(client_id="demo-agent")  # the fifth crosses the mark: prune
    assert len(mockidp.state.store.tokens()) == 2
    introspected = http.post(
        mockidp.url("introspect"), data={"token": live.json()["access_token"]}, auth=AGENT
    ).json()
    assert introspected["active"] is True
    for token in old:  # forgotten, and inactive as before
        answer = http.post(mockidp.url("introspect"), data={"token": token}, auth=AGENT).json()
        assert answer == {"active": False}


def test_a_revoked_token_that_has_not_expired_is_never_forgotten(
    monkeypatch: pytest.MonkeyPatch, mockidp: MockIdP, http: requests.Session
) -> None:
    monkeypatch.setattr(store_module, "PRUNE_AT", 2)
    mockidp.state.store.prune(0)
    token = mockidp.issue_token(client_id="demo-agent")
    assert http.post(mockidp.url("revoke"), data={"token": token}, auth=AGENT).status_code == 200
    for _ in range(5):
        mockidp.issue_token(client_id="demo-agent")
    answer = http.post(mockidp.url("introspect"), data={"token": token}, auth=AGENT).json()
    assert answer == {"active": False}
    jti = next(t.jti for t in mockidp.state.store.tokens().values() if t.revoked)
    assert mockidp.state.store.is_revoked(jti)
