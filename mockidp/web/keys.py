"""Typed application and request keys (aiohttp ``web.AppKey`` / ``web.RequestKey``)."""

from __future__ import annotations

from aiohttp import web

from ..params import Params
from ..state import IdPState
from .routing import RouteTable

STATE = web.AppKey("mockidp_state", IdPState)
#: the IdP's routes (``mockidp.web.app.RouteTable``), read by the fault middleware before dispatch
ROUTE_TABLE = web.AppKey("mockidp_routes", RouteTable)

#: endpoint name for the journal (token, jwks, ...)
ENDPOINT = web.RequestKey("mockidp_endpoint", str)
FORM = web.RequestKey("mockidp_form", Params)
QUERY = web.RequestKey("mockidp_query", Params)
CLIENT_ID = web.RequestKey("mockidp_client_id", str)
#: planned claims (``claims_plan``) the token this request got carries, for the journal
TOKEN_CLAIMS = web.RequestKey("mockidp_token_claims", dict)
#: the header and claims (not verified, no signature) of a ``private_key_jwt`` assertion, for the journal
CLIENT_ASSERTION = web.RequestKey("mockidp_client_assertion", dict)
