"""Introspection endpoint (RFC 7662): only authenticated clients may ask (section 2.1)."""

from __future__ import annotations

from aiohttp import web

from ...token_status import introspect
from ..client_auth import authenticate_client
from ..client_documents import requested_client_id, resolve_document_client
from ..keys import STATE
from ..request_params import form_params
from ..responses import json_response


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    params = await form_params(request)
    params.check_single()
    await resolve_document_client(state, requested_client_id(params))
    authenticate_client(state, request, params, allow_public=False)
    token = params.require("token")
    return json_response(introspect(state, token), no_store=True)
