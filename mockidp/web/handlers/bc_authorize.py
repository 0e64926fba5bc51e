"""Backchannel authentication endpoint (OpenID CIBA Core section 7): authenticated clients only."""

from __future__ import annotations

from aiohttp import web

from ...flows import ciba
from ..client_auth import authenticate_client
from ..keys import STATE
from ..request_params import form_params
from ..responses import json_response


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not state.config.ciba.enabled:
        raise web.HTTPNotFound()
    params = await form_params(request)
    params.check_single()
    client = (await authenticate_client(state, request, params, allow_public=False)).client
    return json_response(ciba.start(state, client, params), no_store=True)
