"""Device authorization endpoint (RFC 8628 section 3.1): clients authenticate as at the token
endpoint; a public client names itself with ``client_id``."""

from __future__ import annotations

from aiohttp import web

from ...flows import device_code
from ..client_auth import authenticate_client
from ..keys import STATE
from ..request_params import form_params
from ..responses import json_response


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not state.config.device.enabled:
        raise web.HTTPNotFound()
    params = await form_params(request)
    params.check_single()
    client = (await authenticate_client(state, request, params)).client
    return json_response(device_code.start(state, client, params), no_store=True)
