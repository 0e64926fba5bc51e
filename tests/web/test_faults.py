"""Endpoint faults over real loopback HTTP: every kind on every named endpoint, once/N/always."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mockidp import ConfigError, Fault, MockIdP, ServerBugError, load_config
from mockidp.demo import demo_config
from mockidp.faults import ENDPOINTS as FAULT_ENDPOINTS
from mockidp.faults import FAULT_KINDS
from mockidp.state import IdPState
from mockidp.web import fault_middleware
from mockidp.web.app import route_defs
from mockidp.web.fault_middleware import ENDPOINT_ATTR
from mockidp.web.keys import ROUTE_TABLE, STATE
from mockidp.web.routing import RouteTable

AGENT = ("demo-agent", "demo-agent-secret")
TIMEOUT = 5


def named_routes() -> dict[str, tuple[str, str]]:
    """One (method, path) per endpoint name the app serves, GET preferred; control excluded."""
    found: dict[str, tuple[str, str]] = {}
    state = IdPState(demo_config())
    for route in route_defs(state.issuer_path, state.config.dynamic_registration):
        name = getattr(route.handler, ENDPOINT_ATTR, None)
        path = route.path
        if not isinstance(name, str) or name == "control" or not path or route.method == "HEAD":
            continue
        if name not in found or (route.method == "GET" and found[name][0] != "GET"):
            found[name] = (route.method, path)
    return found


ROUTES = named_routes()
ENDPOINTS = sorted(ROUTES)


def call(idp: MockIdP, endpoint: str, http: requests.Session) -> requests.Response:
    method, path = ROUTES[endpoint]
    return http.request(method, idp.base_url + path, allow_redirects=False, timeout=TIMEOUT)


def test_the_required_endpoints_are_covered() -> None:
    assert {"discovery", "jwks", "token"} <= set(ENDPOINTS)
    # the names a fault may use are exactly the names the app gives its routes
    assert set(FAULT_ENDPOINTS) == set(ENDPOINTS)


@pytest.mark.parametrize("endpoint", ["tokne", "token_endpoint", "/token", "Token"])
def test_unknown_endpoint_is_refused_not_silently_ignored(mockidp: MockIdP, endpoint: str) -> None:
    """A misspelt endpoint would never fire: the test relying on it would pass without its fault."""
    with pytest.raises(ConfigError, match="unknown endpoint") as raised:
        mockidp.add_fault(endpoint, "unavailable")
    assert raised.value.key_path == "endpoint"
    assert mockidp.faults == []


@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=pytest.mark.slow) if k == "latency" else k for k in FAULT_KINDS]
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_fault_kind_on_every_endpoint(
    mockidp: MockIdP, http: requests.Session, endpoint: str, kind: str
) -> None:
    normal = call(mockidp, endpoint, http)
    params = {"delay": 0.3} if kind == "latency" else {}
    mockidp.add_fault(endpoint, kind, **params)
    if kind == "drop":
        with pytest.raises(requests.ConnectionError):
            call(mockidp, endpoint, http)
        assert mockidp.requests[-1].status == 599
    else:
        started = time.monotonic()
        faulted = call(mockidp, endpoint, http)
        elapsed = time.monotonic() - started
        check_fault(kind, normal, faulted, elapsed)
    assert mockidp.requests[-1].endpoint == endpoint
    # once: the next request is answered normally again
    again = call(mockidp, endpoint, http)
    assert (again.status_code, again.headers.get("Content-Type")) == (
        normal.status_code,
        normal.headers.get("Content-Type"),
    )


def check_fault(kind: str, normal: requests.Response, faulted: requests.Response, elapsed: float) -> None:
    if kind in ("status", "unavailable", "rate_limited"):
        expected = {"status": 500, "unavailable": 503, "rate_limited": 429}[kind]
        assert faulted.status_code == expected
        assert faulted.json()["error"] in ("server_error", "temporarily_unavailable")
        assert (faulted.headers.get("Retry-After") == "1") == (kind != "status")
    elif kind == "latency":
        assert elapsed >= 0.3
        assert faulted.status_code == normal.status_code
        assert faulted.content == normal.content or normal.headers.get("Content-Type") != "application/json"
    elif kind == "malformed_json":
        assert faulted.headers["Content-Type"].startswith("application/json")
        assert 200 <= faulted.status_code < 300
        with pytest.raises(ValueError):
            json.loads(faulted.text)
    else:  # wrong_content_type
        assert faulted.status_code == normal.status_code
        was = normal.headers.get("Content-Type", "")
        assert faulted.headers["Content-Type"].split(";")[0] == (
            "application/json" if was.startswith("text/html") else "text/html"
        )
        if was.startswith("application/json") and "jwk-set" not in was:
            assert faulted.json().keys() == normal.json().keys()


def test_once_n_times_and_always(mockidp: MockIdP, http: requests.Session) -> None:
    def statuses(n: int) -> list[int]:
        return [call(mockidp, "jwks", http).status_code for _ in range(n)]

    mockidp.add_fault("jwks", "status", status=502)
    assert statuses(3) == [502, 200, 200]
    mockidp.add_fault("jwks", "status", status=502, times=3)
    assert statuses(5) == [502, 502, 502, 200, 200]
    mockidp.add_fault("jwks", "status", status=502, times="always")
    assert statuses(6) == [502] * 6
    assert mockidp.faults[0].times is None
    mockidp.clear_faults()
    assert statuses(2) == [200, 200]


def test_faults_apply_in_queue_order_and_by_endpoint(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_fault("token", "unavailable", retry_after=7)
    mockidp.add_fault("*", "status", status=418, body="teapot", times=2)
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert (r.status_code, r.headers["Retry-After"]) == (503, "7")
    assert call(mockidp, "discovery", http).status_code == 418
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (418, "teapot", "text/plain; charset=utf-8")
    assert http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT).ok


def test_status_body_as_json_and_custom_status(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_fault("token", "status", status=400, body={"error": "invalid_grant"}, retry_after=3)
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert (r.status_code, r.json(), r.headers["Retry-After"]) == (400, {"error": "invalid_grant"}, "3")


def test_malformed_json_cuts_the_real_response(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_fault("token", "malformed_json")
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 200
    assert r.text.startswith('{"access_token": "ey')
    with pytest.raises(ValueError):
        r.json()


def test_faulted_requests_are_journaled(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_fault("token", "unavailable")
    mockidp.add_fault("token", "drop")
    data = {"grant_type": "client_credentials"}
    assert http.post(mockidp.token_endpoint, data=data, auth=AGENT).status_code == 503
    with pytest.raises(requests.ConnectionError):
        http.post(mockidp.token_endpoint, data=data, auth=AGENT, timeout=TIMEOUT)
    assert http.post(mockidp.token_endpoint, data=data, auth=AGENT).status_code == 200
    assert [(r.endpoint, r.status) for r in mockidp.requests] == [
        ("token", 503),
        ("token", 599),
        ("token", 200),
    ]


@pytest.mark.asyncio
async def test_dropped_connection_is_an_aiohttp_connection_error() -> None:
    async with MockIdP(demo_config()) as idp:
        idp.add_fault("token", "drop")
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.post(idp.token_endpoint, data={"grant_type": "client_credentials"})
            # GET on a fresh connection: aiohttp retries idempotent requests once on a reused one
            idp.add_fault("jwks", "drop", times=2)
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.get(idp.jwks_uri)
        assert [r.status for r in idp.requests] == [599, 599, 599]
        await asyncio.sleep(0)


def test_control_api_is_never_faulted(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_fault("*", "drop", times=None)
    r = http.get(mockidp.url("_mockidp/faults"), timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json()["faults"][0]["kind"] == "drop"
    with pytest.raises(ConfigError, match="control API cannot be faulted"):
        mockidp.add_fault("control", "drop")


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"kind": "explode"}, "kind"),
        ({"kind": "status", "status": 99}, "status"),
        ({"kind": "latency", "delay": -1}, "delay"),
        ({"kind": "latency", "delay": 3600}, "delay"),
        ({"kind": "status", "times": 0}, "times"),
        ({"kind": "status", "times": "sometimes"}, "times"),
        ({"kind": "unavailable", "retry_after": -5}, "retry_after"),
        ({"kind": "status", "colour": "red"}, "colour"),
    ],
)
def test_invalid_faults_are_refused(mockidp: MockIdP, params: dict[str, object], key: str) -> None:
    kind = params.pop("kind")
    with pytest.raises(ConfigError) as raised:
        mockidp.add_fault("token", str(kind), **params)
    assert raised.value.key_path == key
    assert mockidp.faults == []


@pytest.mark.mockidp(faults=[{"endpoint": "token", "kind": "unavailable", "times": "always"}])
def test_marker_queues_faults(mockidp: MockIdP, http: requests.Session) -> None:
    for _ in range(3):
        r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
        assert r.status_code == 503
    assert mockidp.faults == [Fault("token", "unavailable", times=None)]


def test_yaml_faults_apply_at_start_and_after_reset(tmp_path: Path, http: requests.Session) -> None:
    path = tmp_path / "idp.yaml"
    path.write_text(
        "clients:\n  - client_id: agent\n    client_secret: s\n"
        "faults:\n  - endpoint: jwks\n    kind: status\n    status: 502\n    times: 2\n"
    )
    with MockIdP(path) as idp:
        codes = [http.get(idp.jwks_uri).status_code for _ in range(3)]
        assert codes == [502, 502, 200]
        idp.reset()
        assert http.get(idp.jwks_uri).status_code == 502


def test_yaml_fault_errors_name_the_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "idp.yaml"
    path.write_text("faults:\n  - endpoint: jwks\n    kind: latency\n    delay: slow\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.key_path == "faults[0].delay"
    assert raised.value.line == 4


def test_a_bug_while_applying_a_fault_reaches_the_test(
    monkeypatch: pytest.MonkeyPatch, http: requests.Session
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fault_middleware, "_malformed", broken)
    idp = MockIdP(demo_config()).start()
    try:
        idp.add_fault("jwks", "malformed_json")
        r = http.get(idp.jwks_uri)
        assert (r.status_code, r.json()["error"]) == (500, "server_error")
    finally:
        idp.stop()
    with pytest.raises(ServerBugError, match="boom"):
        idp.raise_server_errors()


@pytest.mark.asyncio
async def test_transforming_faults_apply_to_raised_redirects() -> None:
    async def redirecting(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://127.0.0.1/callback?code=x")

    setattr(redirecting, ENDPOINT_ATTR, "authorize")
    app = web.Application(middlewares=[fault_middleware.fault_middleware])
    app[STATE] = state = IdPState(demo_config())
    app.router.add_get("/authorize", redirecting)
    app[ROUTE_TABLE] = RouteTable([web.get("/authorize", redirecting)])  # how faults find the endpoint
    state.faults.add(Fault("authorize", "wrong_content_type"))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        r = await client.get("/authorize", allow_redirects=False)
        assert (r.status, r.headers["Location"]) == (302, "http://127.0.0.1/callback?code=x")
        assert r.headers["Content-Type"].startswith("text/html")
