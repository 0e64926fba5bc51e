"""Applies queued endpoint faults (``mockidp.faults``) and the unreachable-JWKS switch.

It sits inside the journal middleware, so faulted requests are journaled like any other
(a dropped connection is recorded with status 599), and outside the error middleware, so
the transforming faults (malformed JSON, wrong content type) also apply to error responses
without mapping errors to HTTP a second time. Its own unexpected exceptions are recorded
as server errors, like the error middleware does for handlers.
The endpoint name comes from the route (see ``endpoint_of``) because ``_named`` only sets
``request[ENDPOINT]`` once the handler runs, and a fault must be chosen before that.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..faults import Fault
from .keys import ENDPOINT, ROUTE_TABLE, STATE
from .responses import json_response, oauth_error_body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("mockidp")

#: the attribute ``web.app._named`` puts on each route handler
ENDPOINT_ATTR = "mockidp_endpoint"
#: what the journal records for a connection closed without a response
DROPPED_STATUS = 599
#: the body of ``malformed_json`` when the real response has none to cut
GARBAGE_JSON = '{"error": "server_error", "error_descr'


def endpoint_of(request: web.Request) -> str | None:
    """The endpoint name of the route this request matched (None: unknown path)."""
    table = request.app.get(ROUTE_TABLE)
    handler = table.find(request.method, request.path) if table is not None else None
    name = getattr(handler, ENDPOINT_ATTR, None)
    return name if isinstance(name, str) else None


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the connection without a byte of response; the client sees a connection error.

    The returned response is never sent (writing to the closed transport fails, which aiohttp
    treats as a client disconnect); it only carries the status the journal records.
    """
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=DROPPED_STATUS)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    name = endpoint_of(request)
    if name is None:
        return await handler(request)
    state = request.app[STATE]
    if name == "jwks" and state.misbehaviour.jwks_unreachable:
        request[ENDPOINT] = name
        return drop_connection(request)
    fault = state.faults.take(name)
    if fault is None:
        return await handler(request)
    request[ENDPOINT] = name
    try:
        return await apply(fault, request, handler)
    except Exception as exc:  # the handler's own errors were rendered inside: this is a mockidp bug
        state.server_errors.add(exc)
        log.exception("mockidp bug while applying %s", fault)
        body = oauth_error_body("server_error", "mockidp hit an internal error; this is a bug")
        return json_response(body, status=500)


async def apply(fault: Fault, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer ``request`` the way ``fault`` says."""
    kind = fault.kind
    if kind == "drop":
        return drop_connection(request)
    if kind in ("status", "unavailable", "rate_limited"):
        return _status_response(fault)
    if kind == "latency":
        await asyncio.sleep(1.0 if fault.delay is None else fault.delay)
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a redirect raised rather than returned: answer it as one
        response = web.Response(status=exc.status, headers=exc.headers, body=exc.body)
    if kind == "malformed_json":
        return _malformed(fault, response)
    real = response.content_type if isinstance(response, web.Response) else ""
    return _relabelled(response, "application/json" if real == "text/html" else "text/html")


def _status_response(fault: Fault) -> web.Response:
    status = fault.effective_status or 500
    headers: dict[str, str] = {}
    retry_after = fault.retry_after
    if retry_after is None and fault.kind in ("unavailable", "rate_limited"):
        retry_after = 1
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = fault.body
    if body is None:
        error = "temporarily_unavailable" if status in (429, 503) else "server_error"
        if status < 500 and status != 429:
            error = "invalid_request"
        body = oauth_error_body(error, f"mockidp fault: {fault.kind} on {fault.endpoint}")
    if isinstance(body, str):
        return web.Response(text=body, status=status, headers=headers, content_type="text/plain")
    return json_response(body, status=status, headers=headers)


def _body_bytes(response: web.StreamResponse) -> bytes:
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        return response.body
    return b""


def _malformed(fault: Fault, response: web.StreamResponse) -> web.Response:
    """A response that claims JSON and is not: the real body cut in half, or ``fault.body``."""
    if isinstance(fault.body, str):
        text = fault.body
    elif fault.body is not None:
        text = json.dumps(fault.body)[:-1]
    else:
        real = _body_bytes(response).decode("utf-8", "replace")
        text = real[: len(real) // 2] if len(real) > 1 else GARBAGE_JSON
    status = fault.status or (response.status if 200 <= response.status < 300 else 200)
    return web.Response(text=text, status=status, content_type="application/json")


def _relabelled(response: web.StreamResponse, content_type: str) -> web.StreamResponse:
    """The same response, its Content-Type replaced."""
    if not isinstance(response, web.Response):
        return response
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")
    }
    headers["Content-Type"] = f"{content_type}; charset=utf-8"
    return web.Response(body=_body_bytes(response), status=response.status, headers=headers)
