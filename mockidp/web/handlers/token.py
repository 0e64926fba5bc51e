"""Token endpoint (RFC 6749 section 3.2): authenticate the client, dispatch on grant_type."""

from __future__ import annotations

from aiohttp import web

from ...claims_plan import recording
from ...errors import InvalidRequest, UnauthorizedClient, UnsupportedGrantType
from ...flows import GRANTS, TokenRequest
from .. import signers
from ..client_auth import authenticate_client
from ..dpop import token_request_jkt
from ..keys import STATE, TOKEN_CLAIMS
from ..request_params import form_params
from ..responses import json_response
from ..workers import off_loop


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    params = await form_params(request)
    params.check_single()
    grant_type = params.get("grant_type")
    if grant_type is None:
        raise InvalidRequest("missing required parameter 'grant_type'")
    authenticated = await authenticate_client(state, request, params)
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")
    client = authenticated.client
    if grant_type not in client.allowed_grant_types:
        raise UnauthorizedClient(f"client {client.client_id!r} may not use {grant_type}")
    jkt = token_request_jkt(state, request, client)
    token_request = TokenRequest(state=state, client=client, params=params, dpop_jkt=jkt)
    pool = signers.active()
    with recording() as applied:
        # signing is most of the cost: in signer processes under mockidp serve
        # (mockidp.web.signers), else on worker threads (mockidp.web.workers)
        if pool is not None:
            body = await pool.run(grant, token_request, grant_type)
        else:
            body = await off_loop(grant, token_request)
    if applied:
        request[TOKEN_CLAIMS] = applied
    # RFC 9449 §8.2: in nonce mode every answer carries the nonce for the client's next proof
    nonce = {"DPoP-Nonce": state.dpop_nonces.current(state.clock.now())} if state.config.dpop.nonce else {}
    return json_response(body, headers=nonce, no_store=True)
