"""Grants run on a thread pool (mockidp.web.workers): concurrent requests stay consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from userflow import authorize, redeem

from mockidp import MockIdP

AGENT = ("demo-agent", "demo-agent-secret")


def test_concurrent_client_credentials_tokens_are_all_distinct(mockidp: MockIdP) -> None:
    def one(_: int) -> str:
        with requests.Session() as http:
            r = http.post(
                mockidp.token_endpoint,
                data={"grant_type": "client_credentials", "resource": "demo-api"},
                auth=AGENT,
                timeout=10,
            )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    with ThreadPoolExecutor(8) as workers:
        tokens = list(workers.map(one, range(64)))
    assert len(set(tokens)) == 64
    assert len(mockidp.state.store.tokens()) >= 64


def test_a_concurrent_code_replay_revokes_the_token_of_the_winner(mockidp: MockIdP) -> None:
    """Both requests race for one code: one gets tokens, the other invalid_grant, and the
    winner's access token is revoked by the replay, however the two interleave."""
    for _ in range(15):
        with requests.Session() as http:
            got = authorize(mockidp, http)
        with ThreadPoolExecutor(2) as workers:
            answers = list(workers.map(lambda code: redeem(mockidp, requests.Session(), code), [got, got]))
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200, 400], [r.text for r in answers]
        winner = next(r for r in answers if r.status_code == 200).json()
        loser = next(r for r in answers if r.status_code == 400).json()
        assert loser["error"] == "invalid_grant"
        info = requests.post(
            mockidp.url("introspect"), data={"token": winner["access_token"]}, auth=AGENT, timeout=5
        ).json()
        assert info == {"active": False}
