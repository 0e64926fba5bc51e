"""Dynamic client registration endpoint (RFC 7591 section 3): JSON in, 201 and the client out.

The answer carries the RFC 7592 ``registration_access_token`` and ``registration_client_uri``
with which the client manages its registration (see ``client_configuration``).
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ...errors import InvalidClientMetadata, InvalidRequest
from ...registration import OIDC_CLIENT_SCOPES, register_client
from ...state import IdPState
from ...store import RegistrationRecord
from ..keys import CLIENT_ID, STATE
from ..responses import json_response


async def json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise InvalidRequest("the registration request must be application/json (RFC 7591 section 3.1)")
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidClientMetadata("the request body is not valid JSON") from None


def client_information(state: IdPState, response: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The client information response with its RFC 7592 members (section 3)."""
    uri = f"{state.endpoint('register')}?client_id={quote(response['client_id'], safe='')}"
    return {**response, "registration_access_token": access_token, "registration_client_uri": uri}


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    metadata = await json_body(request)
    if state.misbehaviour.config.registered_scope_ignored and isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if k != "scope"}
    apis = state.store.apis()
    known = {s for api in apis.values() for s in api.scopes} | set(OIDC_CLIENT_SCOPES)
    registration = register_client(metadata, known_scopes=known, audiences=tuple(apis), now=state.clock.now())
    information = client_information(state, registration.response, secrets.token_urlsafe(32))
    record = RegistrationRecord(information["registration_access_token"], information)
    client = state.store.add_registration(registration.client, record)
    request[CLIENT_ID] = client.client_id
    return json_response(information, status=201, no_store=True)
