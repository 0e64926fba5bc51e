"""The token endpoint with signer processes (``mockidp.web.signers``, as ``mockidp serve`` runs
it): every grant's tokens come back whole and verify, ``at_hash`` matches the access token
actually sent, rotated keys reach the children, and a dead child costs nothing but speed.

The IdP runs on a loop thread of its own, so the pool (bound to one loop) stays with it.
PS256 signs with fresh randomness each time: a token signed twice would differ, so it
catches a response that mixes two signatures of one token.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
import requests
from userflow import refresh, tokens

from mockidp import MockIdP, WorkloadIssuer
from mockidp.config import IdPConfig
from mockidp.demo import demo_config
from mockidp.errors import ServerBugError
from mockidp.loading import to_dict
from mockidp.runtime import LoopThread
from mockidp.tokens import PLACEHOLDER_PREFIX, deferred_signing, sign, token_hash
from mockidp.web import signers

AGENT = ("demo-agent", "demo-agent-secret")
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PARTNER = WorkloadIssuer("https://partner.example")


def config(alg: str) -> IdPConfig:
    """The demo config plus a gateway client that uses the two grants that may fetch keys."""
    base = demo_config()
    gateway = {
        "client_id": "gateway",
        "client_secret": "gateway-secret",
        "grant_types": [EXCHANGE, JWT_BEARER],
        "audiences": ["demo-api"],
        "scopes": ["demo-api:read"],
        "exchange": {"audiences": ["demo-api"], "scopes": ["demo-api:read"]},
    }
    return base.merged(
        {
            "signing_alg": alg,
            "login": "auto",
            "clients": [*to_dict(base)["clients"], gateway],
            "trusted_issuers": [PARTNER.trusted_issuer(audiences=["demo-api"], scopes=["demo-api:read"])],
        }
    )


class PooledIdP:
    """A MockIdP and a signer pool on a private loop thread."""

    def __init__(self, alg: str, count: int = 1) -> None:
        self.thread = LoopThread()
        self.idp = MockIdP(config(alg))
        self.thread.run(self.idp.astart())
        self.thread.run(signers.start(count))
        pool = signers._pool
        assert pool is not None
        self.pool = pool

    def __enter__(self) -> PooledIdP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.thread.run(signers.stop())
        self.thread.run(self.idp.astop())
        self.thread.loop.call_soon_threadsafe(self.thread.loop.stop)
        self.thread.thread.join(5)
        self.thread.loop.close()

    def signed(self) -> int:
        return sum(child.signed for child in self.pool.children)


@pytest.fixture(params=["PS256", "ES256", "EdDSA", "RS256"])
def pooled(request: pytest.FixtureRequest) -> Iterator[PooledIdP]:
    with PooledIdP(request.param) as server:
        yield server


def verified(idp: MockIdP, token: str, audience: str | None = None) -> dict[str, Any]:
    """The claims of ``token`` checked against the IdP's JWKS with PyJWT (independent code)."""
    assert not token.startswith(PLACEHOLDER_PREFIX)
    header = jwt.get_unverified_header(token)
    keys = {k["kid"]: k for k in requests.get(idp.jwks_uri, timeout=5).json()["keys"]}
    key = jwt.PyJWK(keys[header["kid"]])
    options = {"verify_aud": audience is not None}
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[header["alg"]],
        audience=audience,
        options=options,  # type: ignore[arg-type]
    )
    return claims


def test_client_credentials_tokens_are_signed_by_the_children(pooled: PooledIdP) -> None:
    idp = pooled.idp
    for _ in range(4):
        r = requests.post(
            idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT, timeout=5
        )
        assert r.status_code == 200, r.text
        assert verified(idp, r.json()["access_token"])["client_id"] == "demo-agent"
    assert pooled.signed() == 4


def test_code_flow_at_hash_matches_the_access_token_sent(pooled: PooledIdP, http: requests.Session) -> None:
    idp = pooled.idp
    body = tokens(idp, http)
    access, id_token = body["access_token"], body["id_token"]
    verified(idp, access)
    id_claims = verified(idp, id_token, audience="demo-app")
    alg = jwt.get_unverified_header(id_token)["alg"]
    assert id_claims["at_hash"] == token_hash(access, alg)
    # both went to a child: the ID token once the access token was signed (at_hash)
    assert pooled.signed() == 2
    r = refresh(idp, http, body["refresh_token"])
    assert r.status_code == 200, r.text
    again = r.json()
    verified(idp, again["access_token"])
    assert verified(idp, again["id_token"], audience="demo-app")["at_hash"] == token_hash(
        again["access_token"], alg
    )
    assert pooled.signed() == 4


def test_fetching_grants_run_off_the_loop_and_are_signed_too(pooled: PooledIdP) -> None:
    idp = pooled.idp
    before = pooled.signed()
    assertion = PARTNER.mint("spiffe://partner/agent", audience=idp.issuer)
    r = requests.post(
        idp.token_endpoint,
        data={"grant_type": JWT_BEARER, "assertion": assertion, "scope": "demo-api:read"},
        auth=("gateway", "gateway-secret"),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    subject_token = r.json()["access_token"]
    assert verified(idp, subject_token)["sub"] == "spiffe://partner/agent"
    r = requests.post(
        idp.token_endpoint,
        data={
            "grant_type": EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "audience": "demo-api",
        },
        auth=("gateway", "gateway-secret"),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    assert verified(idp, r.json()["access_token"])["act"]["client_id"] == "gateway"
    assert pooled.signed() == before + 2


def test_rotated_keys_reach_the_children() -> None:
    with PooledIdP("RS256") as pooled:
        idp = pooled.idp
        kids = set()
        for _ in range(3):
            r = requests.post(
                idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT, timeout=5
            )
            token = r.json()["access_token"]
            verified(idp, token)
            kids.add(jwt.get_unverified_header(token)["kid"])
            idp.rotate_keys()
        assert len(kids) == 3
        assert pooled.signed() == 3


def token_request(idp: MockIdP) -> str:
    r = requests.post(idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT, timeout=20)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_dead_child_is_replaced_and_costs_no_token(capfd: pytest.CaptureFixture[str]) -> None:
    with PooledIdP("PS256", count=2) as pooled:
        idp = pooled.idp
        first = pooled.pool.children[0]
        first.process.kill()
        for _ in range(6):
            verified(idp, token_request(idp))
        wait_for(lambda: len(pooled.pool.children) == 2 and first not in pooled.pool.children)
        assert not first.alive
        assert f"signer process {first.process.pid} ended" in capfd.readouterr().err
        before = pooled.signed()
        for _ in range(4):
            verified(idp, token_request(idp))
        assert pooled.signed() == before + 4  # the replacement signs


def test_with_no_replacements_left_the_server_signs_on_threads(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(signers, "MAX_REPLACEMENTS", 0)
    with PooledIdP("PS256", count=1) as pooled:
        idp = pooled.idp
        only = pooled.pool.children[0]
        only.process.kill()
        wait_for(lambda: not pooled.pool.children)
        for _ in range(3):
            verified(idp, token_request(idp))
        assert "no signer process left; signing on threads" in capfd.readouterr().err


def test_a_stuck_child_is_stopped_and_what_it_owed_is_signed(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(signers, "STALL_SECONDS", 0.5)
    monkeypatch.setattr(signers, "WATCH_SECONDS", 0.1)
    with PooledIdP("RS256", count=1) as pooled:
        idp = pooled.idp
        stuck = pooled.pool.children[0]
        os.kill(stuck.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        verified(idp, token_request(idp))  # answered although the child never will
        assert time.monotonic() - started < 5
        assert f"signer process {stuck.process.pid} gave no answer" in capfd.readouterr().err
        wait_for(lambda: len(pooled.pool.children) == 1 and pooled.pool.children[0] is not stuck)
        verified(idp, token_request(idp))
        assert pooled.pool.children[0].signed == 1


def test_concurrent_requests_spread_over_the_children() -> None:
    with PooledIdP("PS256", count=2) as pooled:
        idp = pooled.idp
        with ThreadPoolExecutor(8) as pool:
            tokens_made = list(pool.map(lambda _: token_request(idp), range(80)))
        assert len(set(tokens_made)) == 80
        for token in tokens_made:
            verified(idp, token)
        assert pooled.signed() == 80
        assert all(child.signed > 0 for child in pooled.pool.children)


def test_a_placeholder_anywhere_but_a_top_level_value_is_a_server_bug() -> None:
    with PooledIdP("RS256") as pooled:
        key = pooled.idp.signing_key

        async def settle_nested() -> None:
            with deferred_signing() as batch:
                body = {"access_token": sign({"a": 1}, key), "nested": {"token": sign({"b": 2}, key)}}
            await pooled.pool.settle(body, batch)

        with pytest.raises(ServerBugError, match="placeholder was left"):
            pooled.thread.run(settle_nested())


def test_the_pool_serves_only_its_own_loop() -> None:
    # the other IdP runs on the shared loop thread, which has no signer pool
    with PooledIdP("RS256") as pooled, MockIdP(demo_config()) as other:
        assert token_request(other).count(".") == 2
        assert pooled.signed() == 0
        assert asyncio.run(_active_elsewhere()) is None


async def _active_elsewhere() -> signers.SignerPool | None:
    return signers.active()


def test_children_exit_when_the_pool_stops() -> None:
    pooled = PooledIdP("RS256", count=2)
    processes = [child.process for child in pooled.pool.children]
    pooled.close()
    assert all(process.poll() is not None for process in processes)
    assert signers._pool is None
