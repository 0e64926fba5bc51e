"""One runtime (``mockidp.runtime``) for the IdP and the mock APIs: the same sync and async
lifecycle, one shared loop thread for sync use, and server errors surfaced by the IdP only."""

from __future__ import annotations

import threading

import aiohttp
import pytest
import requests

from mockidp import MockIdP, MockIdPError, ServerBugError
from mockidp.demo import demo_config
from mockidp.resources import MockApis

AGENT = ("demo-agent", "demo-agent-secret")


def _loop_threads() -> int:
    return sum(t.name == "mockidp-loop" for t in threading.enumerate())


def test_sync_idp_and_apis_share_one_loop_thread_and_both_stop() -> None:
    with MockIdP(demo_config()) as idp, MockApis(idp, ["inventory"]) as apis:
        url = apis["inventory"].url
        data = {"grant_type": "client_credentials", "resource": url, "scope": "inventory:read"}
        token = requests.post(idp.token_endpoint, data=data, auth=AGENT, timeout=5).json()["access_token"]
        r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 200, r.headers.get("WWW-Authenticate")
        assert _loop_threads() == 1
        jwks = idp.jwks_uri
    for stopped in (url, jwks):
        with pytest.raises(requests.ConnectionError):
            requests.get(stopped, timeout=2)


@pytest.mark.asyncio
async def test_async_idp_and_apis_run_on_the_callers_loop() -> None:
    async with MockIdP(demo_config()) as idp, MockApis(idp, ["billing"]) as apis:
        url = apis["billing"].url
        assert idp.apis[url].scopes == ("billing:read", "billing:write")
        async with aiohttp.ClientSession() as session, session.get(url) as r:
            assert r.status == 401
    assert not idp.running
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url)


def test_starting_the_apis_twice_is_an_error_and_stop_is_idempotent() -> None:
    with MockIdP(demo_config()) as idp:
        apis = MockApis(idp, ["inventory"]).start()
        with pytest.raises(MockIdPError, match="these mock APIs are already started"):
            apis.start()
        apis.stop()
        apis.stop()
        assert apis.start() is apis  # a stopped instance starts again
        apis.stop()


def test_server_errors_are_raised_when_the_idp_block_ends_not_the_apis_block() -> None:
    idp = MockIdP(demo_config()).start()
    with MockApis(idp, ["inventory"]):
        idp.state.server_errors.add(RuntimeError("boom"))
    # the mock APIs' block ended quietly: the error is still the IdP's to raise
    with pytest.raises(ServerBugError, match="boom"):
        idp.__exit__(None, None, None)
    assert not idp.running
