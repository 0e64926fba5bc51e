"""Revocation endpoint (RFC 7009): 200 for any token the caller may revoke, known or not.

``token_type_hint`` is only a hint: both kinds are looked up whatever it says.
"""

from __future__ import annotations

from aiohttp import web

from ...token_status import revoke
from ..client_auth import authenticate_client
from ..client_documents import requested_client_id, resolve_document_client
from ..keys import STATE
from ..request_params import form_params
from ..responses import NO_STORE


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    params = await form_params(request)
    params.check_single()
    await resolve_document_client(state, requested_client_id(params))
    client = authenticate_client(state, request, params).client
    revoke(state, client.client_id, params.require("token"))
    return web.Response(status=200, headers=NO_STORE)
