"""Attacker material for the ``jku``/``x5u`` defects, hosted by mockidp so nothing leaves loopback.

``{issuer}/_mockidp/attacker/jwks.json`` is the JWKS a ``jku-attacker`` token points at and
``{issuer}/_mockidp/attacker/cert.pem`` the certificate of ``x5u-attacker``; a resource server
that fetches either has already failed (RFC 8725 §3.10), and the journal shows the fetch.
"""

from __future__ import annotations

from aiohttp import web

from ...defects.attacker import ATTACKER_PATH, CERT_NAME, JWKS_NAME
from ...defects.header import ATTACKER_ALG
from ..keys import STATE
from ..responses import json_response

JWKS_PATH = f"{ATTACKER_PATH}/{JWKS_NAME}"
CERT_PATH = f"{ATTACKER_PATH}/{CERT_NAME}"


async def handle_jwks(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.attacker.key(ATTACKER_ALG, avoid=state.keys.keys)  # published even before first use
    return json_response(state.attacker.jwks(), headers={"Content-Type": "application/jwk-set+json"})


async def handle_cert(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    pem = state.attacker.certificate_pem(state.attacker.key(ATTACKER_ALG, avoid=state.keys.keys))
    return web.Response(body=pem, content_type="application/pem-certificate-chain")
