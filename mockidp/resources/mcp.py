"""A mock API as a minimal MCP server: streamable HTTP, JSON-RPC over POST, one tool.

Just enough of MCP (2025-06-18 and later) for a real client to sign in and call a tool:
``initialize``, ``ping``, ``tools/list`` and ``tools/call`` answered as ``application/json``,
notifications accepted with 202. It keeps no session (no ``Mcp-Session-Id``), so clients
open no GET stream. Any other method gets JSON-RPC ``-32601``, which is how the MCP SDK's
``server/discover`` probe learns to fall back to ``initialize``.

Every request passes the API's strict token checks first (:func:`.api.gate`): a 401 names the
RFC 9728 metadata and the scope to ask for, a 403 ``insufficient_scope`` the scope missing.
The tool is named after the API and needs ``<name>:read`` (``<name>:write`` when the options
ask for a step-up).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from aiohttp import web

from ..state import IdPState
from .api import ApiCall, MockApi, gate

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
#: the version answered when a client's ``initialize`` names none
DEFAULT_PROTOCOL_VERSION = "2025-11-25"
#: a request body above this is refused before it is parsed
MAX_BODY = 64 * 1024


def tool(api: MockApi) -> dict[str, Any]:
    return {
        "name": api.name,
        "description": f"Read the {api.name} items of the signed-in user",
        "inputSchema": {"type": "object", "properties": {}},
    }


def scope_for(api: MockApi, method: str) -> str:
    """``tools/call`` may need the write scope (step-up); everything else reads."""
    read, write = api.scopes
    return write if method == "tools/call" and api.mcp and api.mcp.call_needs_write else read


def _rpc_error(id_: Any, code: int, message: str, status: int = 200) -> web.Response:
    body = {"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}}
    return web.json_response(body, status=status)


def _result(id_: Any, result: dict[str, Any]) -> web.Response:
    return web.json_response({"jsonrpc": "2.0", "id": id_, "result": result})


def _message(raw: bytes) -> dict[str, Any] | str:
    """The JSON-RPC message, or why it is not one."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return "the body is not JSON"
    if not isinstance(message, dict):
        return "expected one JSON-RPC message (batches are not part of MCP since 2025-06-18)"
    if message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
        return "not a JSON-RPC 2.0 request or notification"
    return message


async def mcp_answer(
    state: IdPState, api: MockApi, request: web.Request
) -> tuple[web.Response, ApiCall | None]:
    """Answer one streamable-HTTP request; the record is None for a request never checked."""
    if request.method != "POST":
        # no session, so no GET stream to open and nothing to DELETE (streamable HTTP)
        return web.Response(status=405, headers={"Allow": "POST"}), None
    accept = request.headers.get("Accept", "*/*")
    if "application/json" not in accept and "*/*" not in accept:
        return _rpc_error(None, INVALID_REQUEST, "Accept must include application/json", 406), None
    raw = await request.content.read(MAX_BODY + 1)
    message = _message(raw) if len(raw) <= MAX_BODY else "the body is too large"
    if isinstance(message, str):
        return _rpc_error(None, PARSE_ERROR, message, 400), None
    method, id_ = message["method"], message.get("id")
    scope = api.scopes[0]  # a client asks for the least it needs first; a 403 asks for more
    challenge = scope if api.mcp is None or api.mcp.scope_in_challenge else ""
    refusal, call = gate(state, api, request, scope_for(api, method), rpc=method, challenge_scope=challenge)
    if refusal is not None:
        return refusal, call
    if "id" not in message:  # a notification: accepted, never answered
        return web.Response(status=202), call
    given = message.get("params")
    params: dict[str, Any] = given if isinstance(given, dict) else {}
    if method == "initialize":
        version = params.get("protocolVersion")
        return _result(
            id_,
            {
                "protocolVersion": version if isinstance(version, str) else DEFAULT_PROTOCOL_VERSION,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": f"mockidp-{api.name}", "version": "1"},
            },
        ), call
    if method == "ping":
        return _result(id_, {}), call
    if method == "tools/list":
        return _result(id_, {"tools": [tool(api)]}), call
    if method == "tools/call":
        if params.get("name") != api.name:
            return _rpc_error(id_, INVALID_PARAMS, f"unknown tool {params.get('name')!r}"), _failed(call)
        assert call.claims is not None
        text = json.dumps({"api": api.name, "sub": call.claims["sub"], "items": [f"{api.name}-1"]})
        return _result(id_, {"content": [{"type": "text", "text": text}], "isError": False}), call
    return _rpc_error(id_, METHOD_NOT_FOUND, f"method {method!r} not found"), _failed(
        call, "method_not_found"
    )


def _failed(call: ApiCall, error: str = "invalid_params") -> ApiCall:
    """An admitted call that the JSON-RPC layer refused: its token was fine, its request not."""
    return replace(call, error=error)
