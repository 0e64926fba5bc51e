"""JWKS endpoint: the public keys that verify this IdP's tokens (RFC 7517)."""

from __future__ import annotations

from aiohttp import web

from ..keys import STATE
from ..responses import json_response


async def handle(request: web.Request) -> web.StreamResponse:
    """The public keys; misbehaviour may leave out the key in use (see ``mockidp.misbehaviour``)."""
    state = request.app[STATE]
    document = state.misbehaviour.jwks(state.keys)
    state.keys.served(document)  # a key published first starts signing once it has gone out
    return json_response(document, headers={"Content-Type": "application/jwk-set+json"})
