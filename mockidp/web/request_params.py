"""Reading a request's parameters, remembered on the request for the journal."""

from __future__ import annotations

from aiohttp import web

from ..errors import InvalidRequest
from ..params import Params, decode
from .keys import FORM, QUERY

FORM_TYPE = "application/x-www-form-urlencoded"


def query_params(request: web.Request) -> Params:
    params = decode(request.rel_url.raw_query_string)
    request[QUERY] = params
    return params


async def form_params(request: web.Request) -> Params:
    """The POST body as form parameters; anything but a form is an ``invalid_request``."""
    if request.content_type != FORM_TYPE:
        raise InvalidRequest(f"the request body must be {FORM_TYPE}")
    params = decode(await request.read())
    request[FORM] = params
    return params
