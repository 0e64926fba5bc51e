"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), GET or POST form.

``id_token_hint`` must be an ID token this IdP signed (expired is fine); the client comes from
its ``aud`` or from ``client_id``; ``post_logout_redirect_uri`` must exactly match one the
client registered, and ``state`` is echoed there. Without a valid redirect the user sees a
"signed out" page. A bad hint or redirect gets an error page, never a redirect.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from ...config import ClientConfig
from ...errors import InvalidToken
from ...params import Params
from ...state import IdPState
from ...validation import id_token_audience, validate_id_token_hint
from .. import pages
from ..keys import CLIENT_ID, STATE
from ..request_params import form_params, query_params
from .authorize import redirect, session_cookie


class _Refused(Exception):
    pass


def _client(state: IdPState, params: Params, hint: dict[str, Any] | None) -> ClientConfig | None:
    client_id = params.get("client_id")
    if hint is not None:
        audiences = id_token_audience(hint)
        if client_id is not None and client_id not in audiences:
            raise _Refused("client_id is not an audience of id_token_hint")
        client_id = client_id or (audiences[0] if audiences else None)
    if client_id is None:
        return None
    with state.store.lock:
        client = state.store.clients.get(client_id)
    if client is None:
        raise _Refused(f"no client is registered as {client_id!r}")
    return client


def _target(state: IdPState, params: Params) -> tuple[ClientConfig | None, str | None, dict[str, Any] | None]:
    raw_hint = params.get("id_token_hint")
    hint = None
    if raw_hint is not None:
        try:
            hint = validate_id_token_hint(state, raw_hint)
        except InvalidToken:
            raise _Refused("id_token_hint is not an ID token issued by this provider") from None
    client = _client(state, params, hint)
    uri = params.get("post_logout_redirect_uri")
    if uri is not None:
        if client is None:
            raise _Refused("post_logout_redirect_uri needs id_token_hint or client_id")
        if uri not in client.post_logout_redirect_uris:
            raise _Refused(f"{uri!r} is not a registered post_logout_redirect_uri of this client")
    return client, uri, hint


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    params = query_params(request) if request.method == "GET" else await form_params(request)
    params.check_single()
    try:
        client, uri, hint = _target(state, params)
    except _Refused as exc:
        return pages.error_page(str(exc), title="Sign-out request refused")
    if client is not None:
        request[CLIENT_ID] = client.client_id
    cookie = session_cookie(state)
    state.store.grants.sign_out(request.cookies.get(cookie), subject=hint["sub"] if hint else None)
    response: web.Response
    if uri is not None:
        parts = urlsplit(uri)
        extra = urlencode({"state": params.get("state")}) if params.get("state") else ""
        query = "&".join(q for q in (parts.query, extra) if q)
        response = redirect(urlunsplit(parts._replace(query=query)))
    else:
        name = (client.client_name or client.client_id) if client else None
        response = pages.signed_out_page(name)
    response.del_cookie(cookie, path=state.issuer_path or "/")
    return response
