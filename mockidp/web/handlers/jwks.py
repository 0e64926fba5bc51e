"""JWKS endpoint: the public keys that verify this IdP's tokens (RFC 7517)."""

from __future__ import annotations

from aiohttp import web

from ..keys import STATE
from ..responses import json_response


async def handle(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[STATE].keys.jwks(), headers={"Content-Type": "application/jwk-set+json"})
