"""RFC 7592 client configuration endpoint: a registered client reads, updates or deletes itself.

The endpoint is ``registration_client_uri`` = ``{issuer}/register?client_id=...`` (GET, PUT,
DELETE), protected by the ``registration_access_token`` issued at registration, sent as a
Bearer token (RFC 6750 section 2.1). A wrong or missing token, or a client that is not (or no
longer) registered, gets 401 ``invalid_token`` alike, so the answer says nothing about which
clients exist (RFC 7592 section 2.1). Only dynamically registered clients have a token.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from ...errors import InvalidRequest, InvalidToken
from ...registration import OIDC_CLIENT_SCOPES, register_client
from ...state import IdPState
from ...store import RegistrationRecord
from ..bearer import header_token, invalid_token
from ..keys import CLIENT_ID, STATE
from ..responses import NO_STORE, json_response
from .register import client_information, json_body

#: members a client must not send in an update (RFC 7592 section 2.2)
SERVER_MEMBERS = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)


def _authorized(state: IdPState, request: web.Request) -> tuple[str, RegistrationRecord]:
    client_id = request.query.get("client_id", "")
    request[CLIENT_ID] = client_id
    token = header_token(request.headers)
    record = state.store.registration(client_id) if client_id else None
    if not token or record is None or not hmac.compare_digest(token.encode(), record.access_token.encode()):
        raise invalid_token(InvalidToken("unknown client or wrong registration access token"))
    return client_id, record


async def handle_read(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    _, record = _authorized(state, request)
    return json_response(record.metadata, no_store=True)


async def handle_update(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    client_id, record = _authorized(state, request)
    metadata = await json_body(request)
    _check_update(metadata, client_id, state)
    previous = state.store.client(client_id)
    apis = state.store.apis()
    known = {s for api in apis.values() for s in api.scopes} | set(OIDC_CLIENT_SCOPES)
    registration = register_client(
        metadata,
        known_scopes=known,
        audiences=tuple(apis),
        now=float(record.metadata.get("client_id_issued_at", state.clock.now())),
        previous=previous,
    )
    information = client_information(state, registration.response, record.access_token)
    state.store.add_registration(registration.client, RegistrationRecord(record.access_token, information))
    return json_response(information, no_store=True)


async def handle_delete(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    client_id, _ = _authorized(state, request)
    state.store.remove_client(client_id)
    # RFC 7592 section 2.3: the AS SHOULD invalidate the client's active tokens at once
    # (introspection then answers inactive; its refresh tokens die with its credentials)
    state.store.revoke_client_tokens(client_id)
    return web.Response(status=204, headers=NO_STORE)


def _check_update(metadata: Any, client_id: str, state: IdPState) -> None:
    """RFC 7592 section 2.2: the body names the client and carries no server-assigned member."""
    if not isinstance(metadata, dict):
        raise InvalidRequest("the update must be a JSON object")
    if metadata.get("client_id") != client_id:
        raise InvalidRequest("the update's client_id must be the client's own (RFC 7592 section 2.2)")
    for name in SERVER_MEMBERS:
        if name in metadata:
            raise InvalidRequest(f"an update must not send {name} (RFC 7592 section 2.2)")
    client = state.store.client(client_id)
    secret = metadata.get("client_secret")
    if secret is not None and (client is None or secret != client.client_secret):
        raise InvalidRequest("client_secret differs from the one issued (RFC 7592 section 2.2)")
