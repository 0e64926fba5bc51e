"""The one place that maps errors to HTTP, and the journal writer.

``OAuthError`` becomes an RFC 6749 JSON body. An aiohttp HTTP error (404, 405, 413) gets the
same JSON shape. Any other exception is a bug: it is recorded for the test to re-raise and
answered with a JSON ``server_error``, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import MockIdPError, OAuthError
from ..journal import RequestRecord, redact_headers, redact_params
from ..params import Params, decode
from .keys import CLIENT_ASSERTION, CLIENT_ID, ENDPOINT, FORM, QUERY, STATE, TOKEN_CLAIMS
from .responses import json_response, oauth_error_body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("mockidp")

_HTTP_ERRORS = {404: "not_found", 405: "invalid_request", 413: "invalid_request"}


@web.middleware
async def journal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    status = 0
    try:
        response = await handler(request)
        status = response.status
        return response
    except BaseException:
        status = 599  # the connection was dropped on purpose, or the client went away
        raise
    finally:
        form = request.get(FORM, Params())
        query = request.get(QUERY)
        if query is None:
            try:
                query = decode(request.rel_url.raw_query_string)
            except OAuthError:
                query = Params()
        state.journal.append(
            RequestRecord(
                method=request.method,
                path=request.path,
                endpoint=request.get(ENDPOINT, ""),
                query=redact_params(query.values),
                form=redact_params(form.values),
                headers=redact_headers(request.headers),
                client_id=request.get(CLIENT_ID),
                token_claims=request.get(TOKEN_CLAIMS),
                client_assertion=request.get(CLIENT_ASSERTION),
                status=status,
                time=state.clock.now(),
            )
        )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except OAuthError as exc:
        return json_response(exc.body(), status=exc.status, headers=exc.headers, no_store=True)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        error = _HTTP_ERRORS.get(exc.status, "invalid_request")
        description = exc.reason if exc.status != 404 else f"no such endpoint: {request.path}"
        return json_response(oauth_error_body(error, description), status=exc.status, headers=headers)
    except MockIdPError as exc:
        # The test set mockidp up to do something it cannot do here (say, a planned defect
        # that does not fit the token being issued): fail the test with mockidp's own words.
        request.app[STATE].server_errors.add(exc)
        log.error("mockidp cannot carry out its setup for %s %s: %s", request.method, request.path, exc)
        description = f"mockidp cannot do what this test set it up to do: {exc}"
        return json_response(oauth_error_body("server_error", description), status=500)
    except Exception as exc:
        request.app[STATE].server_errors.add(exc)
        log.exception("mockidp bug while handling %s %s", request.method, request.path)
        return json_response(
            oauth_error_body("server_error", "mockidp hit an internal error; this is a bug"),
            status=500,
        )
