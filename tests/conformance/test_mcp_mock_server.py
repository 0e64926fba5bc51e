"""The mock APIs as MCP servers, over loopback HTTP with httpx: JSON-RPC, challenges, metadata.

What an MCP client meets under ``check-agent --profile mcp``: the same strict token checks as
the plain APIs, a 401 that names the RFC 9728 metadata and the scope, a 403
``insufficient_scope`` that names the scope missing, and each deviation a trial switches on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockidp import MockIdP
from mockidp.conformance.check_agent import AGENT_CONFIG
from mockidp.resources import MockApis
from mockidp.resources.mcp_options import WRONG_RESOURCE, McpOptions

HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


class Server:
    """One IdP, its second (for migration) and one MCP API, with an httpx client."""

    def __init__(self, idp: MockIdP, successor: MockIdP, apis: MockApis, http: httpx.Client) -> None:
        self.idp, self.successor, self.apis, self.http = idp, successor, apis, http
        self.api = apis["inventory"]

    def token(self, scope: str = "inventory:read", idp: MockIdP | None = None) -> str:
        return (idp or self.idp).issue_token(client_id="agent", audience=self.api.url, scope=scope)

    def rpc(self, method: str, token: str | None = None, **params: Any) -> httpx.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        if method.startswith("notifications/"):
            del message["id"]
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(self.api.url, json=message, headers={**HEADERS, **auth})


@pytest.fixture
def make() -> Iterator[Any]:
    stack: list[Any] = []

    def start(**options: Any) -> Server:
        idp, successor = MockIdP(AGENT_CONFIG), MockIdP(AGENT_CONFIG)
        idp.start()
        successor.start()
        stack.extend([successor, idp])
        apis = MockApis(idp, ["inventory"], clients=["agent"], mcp=McpOptions(**options), successor=successor)
        apis.start()
        stack.insert(0, apis)
        successor.add_client(
            client_id="agent",
            client_secret="agent-secret",
            grant_types=["client_credentials"],
            scopes=["inventory:read"],
            audiences=[apis["inventory"].url],
        )
        http = httpx.Client(trust_env=False, timeout=5)
        stack.insert(0, http)
        return Server(idp, successor, apis, http)

    yield start
    for item in stack:
        item.close() if isinstance(item, httpx.Client) else item.stop()


def test_initialize_list_and_call_the_one_tool(make: Any) -> None:
    s = make()
    token = s.token()
    init = s.rpc("initialize", token, protocolVersion="2025-06-18", capabilities={}, clientInfo={"name": "t"})
    assert init.status_code == 200 and init.headers["content-type"].startswith("application/json")
    assert init.json()["result"]["protocolVersion"] == "2025-06-18"
    assert "mcp-session-id" not in init.headers  # stateless: no GET stream, no DELETE
    assert s.rpc("notifications/initialized", token).status_code == 202
    tools = s.rpc("tools/list", token).json()["result"]["tools"]
    assert [t["name"] for t in tools] == ["inventory"]
    call = s.rpc("tools/call", token, name="inventory", arguments={}).json()["result"]
    assert call["isError"] is False
    assert json.loads(call["content"][0]["text"])["sub"] == "agent"
    assert [(c.rpc, c.status) for c in s.api.snapshot()] == [
        ("initialize", 200),
        ("notifications/initialized", 200),
        ("tools/list", 200),
        ("tools/call", 200),
    ]


def test_unknown_method_and_tool_are_json_rpc_errors(make: Any) -> None:
    s = make()
    token = s.token()
    probe = s.rpc("server/discover", token).json()
    assert probe["error"]["code"] == -32601  # how the SDK's probe learns to fall back to initialize
    assert s.rpc("tools/call", token, name="nope").json()["error"]["code"] == -32602
    assert [c.error for c in s.api.snapshot()] == ["method_not_found", "invalid_params"]


def test_a_401_names_the_metadata_and_the_scope(make: Any) -> None:
    s = make()
    r = s.rpc("initialize")
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    assert challenge == f'Bearer scope="inventory:read", resource_metadata="{s.api.metadata_url}"'
    assert s.api.metadata_url.endswith("/.well-known/oauth-protected-resource/inventory")
    bad = s.rpc("tools/list", s.token() + "x").headers["www-authenticate"]
    assert 'error="invalid_token"' in bad and 'scope="inventory:read"' in bad


def test_a_token_for_another_audience_is_refused(make: Any) -> None:
    s = make()
    other = s.idp.issue_token(
        client_id="agent", audience=s.api.url, scope="inventory:read", defects=["aud-wrong"]
    )
    r = s.rpc("tools/list", other)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_step_up_asks_for_the_write_scope_with_a_403(make: Any) -> None:
    s = make(call_needs_write=True)
    read = s.token()
    assert s.rpc("tools/list", read).status_code == 200
    r = s.rpc("tools/call", read, name="inventory")
    assert r.status_code == 403
    assert r.headers["www-authenticate"].startswith(
        'Bearer error="insufficient_scope", scope="inventory:write"'
    )
    assert s.rpc("tools/call", s.token("inventory:read inventory:write"), name="inventory").status_code == 200


def test_never_enough_refuses_every_tool_call(make: Any) -> None:
    s = make(step_up_never_enough=True)
    r = s.rpc("tools/call", s.token("inventory:read inventory:write"), name="inventory")
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("options", "path", "elsewhere"),
    [
        ({}, "/.well-known/oauth-protected-resource/inventory", "/.well-known/oauth-protected-resource"),
        (
            {"metadata_location": "root"},
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/inventory",
        ),
        (
            {"metadata_location": "custom"},
            "/custom/inventory/metadata.json",
            "/.well-known/oauth-protected-resource",
        ),
    ],
)
def test_metadata_is_where_the_options_put_it_and_every_look_is_kept(
    make: Any, options: dict[str, Any], path: str, elsewhere: str
) -> None:
    s = make(**options)
    origin = s.api.origin
    assert s.api.metadata_url == origin + path
    doc = s.http.get(origin + path).json()
    assert doc["resource"] == s.api.url and doc["authorization_servers"] == [s.idp.issuer]
    assert s.http.get(origin + elsewhere).status_code == 404
    assert [(m.path, m.status) for m in s.apis.metadata_requests] == [(path, 200), (elsewhere, 404)]


def test_challenge_without_metadata_or_scope_and_metadata_without_scopes(make: Any) -> None:
    s = make(
        metadata_in_challenge=False, scope_in_challenge=False, scopes_supported=False, resource=WRONG_RESOURCE
    )
    assert s.rpc("initialize").headers["www-authenticate"] == "Bearer"
    doc = s.http.get(s.api.metadata_url).json()
    assert "scopes_supported" not in doc and doc["resource"] == WRONG_RESOURCE


def test_migration_moves_to_the_second_idp_after_the_first_admitted_call(make: Any) -> None:
    s = make(migrate=True)
    assert s.rpc("initialize").status_code == 401  # refused calls do not move it
    old = s.token()
    assert s.rpc("tools/list", old).status_code == 200
    assert s.http.get(s.api.metadata_url).json()["authorization_servers"] == [s.successor.issuer]
    assert s.rpc("tools/list", old).status_code == 401
    assert s.rpc("tools/list", s.token(idp=s.successor)).status_code == 200


def test_not_post_not_json_and_no_json_accept(make: Any) -> None:
    s = make()
    assert s.http.get(s.api.url).status_code == 405
    bad = s.http.post(s.api.url, content=b"{", headers=HEADERS)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == -32700
    batch = s.http.post(s.api.url, json=[{"jsonrpc": "2.0", "id": 1, "method": "ping"}], headers=HEADERS)
    assert batch.status_code == 400
    sse_only = s.http.post(
        s.api.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Accept": "text/event-stream"}
    )
    assert sse_only.status_code == 406
    assert s.api.snapshot() == []  # none of these reached the token checks


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
MESSAGES = st.fixed_dictionaries(
    {
        "jsonrpc": st.just("2.0"),
        "method": st.sampled_from(["initialize", "tools/list", "tools/call", "ping", "x"]),
    },
    optional={"id": JSON, "params": JSON},
)


@pytest.fixture
def server(make: Any) -> Server:
    return make()  # type: ignore[no-any-return]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(JSON, MESSAGES, st.binary(max_size=200)))
def test_any_body_gets_a_json_answer_never_a_500(server: Server, body: Any) -> None:
    s = server
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    auth = {"Authorization": f"Bearer {s.token()}"}
    r = s.http.post(s.api.url, content=content, headers={**HEADERS, **auth})
    assert r.status_code in (200, 202, 400), r.text
    if r.status_code != 202:
        assert r.json()["jsonrpc"] == "2.0"
