"""Dynamic client registration endpoint (RFC 7591 section 3): JSON in, 201 and the client out."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ...errors import InvalidClientMetadata, InvalidRequest
from ...registration import OIDC_CLIENT_SCOPES, register_client
from ..keys import CLIENT_ID, STATE
from ..responses import json_response


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise InvalidRequest("the registration request must be application/json (RFC 7591 section 3.1)")
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidClientMetadata("the request body is not valid JSON") from None


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    metadata = await _json_body(request)
    if state.misbehaviour.config.registered_scope_ignored and isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if k != "scope"}
    apis = state.store.apis()
    known = {s for api in apis.values() for s in api.scopes} | set(OIDC_CLIENT_SCOPES)
    registration = register_client(metadata, known_scopes=known, audiences=tuple(apis), now=state.clock.now())
    client = state.store.add_client(registration.client)
    request[CLIENT_ID] = client.client_id
    return json_response(registration.response, status=201, no_store=True)
