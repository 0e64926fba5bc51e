"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), GET or POST form.

``id_token_hint`` must be an ID token this IdP signed (expired is fine); the client comes from
its ``aud`` or from ``client_id``; ``post_logout_redirect_uri`` must exactly match one the
client registered, and ``state`` is echoed there. Without a valid redirect the user sees a
"signed out" page. A bad hint or redirect gets an error page, never a redirect.

Only this browser's session ends. When it has one and the request carries no hint for that
session's user (a forged link from any site could), the person confirms on a page whose form
holds a token bound to the session cookie (``browser.logout_token``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from ...config import ClientConfig
from ...errors import InvalidToken, LogoutRefused, OAuthError
from ...params import Params
from ...state import IdPState
from ...verify import audiences_of, verify_id_token_hint
from .. import browser, pages
from ..client_documents import resolve_document_client
from ..keys import CLIENT_ID, STATE
from ..request_params import form_params, query_params
from .authorize import redirect, session_cookie

NOT_CONFIRMED = (
    "This sign-out was not confirmed on mockidp's own page in this browser, so you stay signed in."
)


def _client(state: IdPState, params: Params, hint: dict[str, Any] | None) -> ClientConfig | None:
    client_id = params.get("client_id")
    if hint is not None:
        audiences = audiences_of(hint)
        if client_id is not None and client_id not in audiences:
            raise LogoutRefused("client_id is not an audience of id_token_hint")
        client_id = client_id or (audiences[0] if audiences else None)
    if client_id is None:
        return None
    client = state.store.client(client_id)
    if client is None:
        raise LogoutRefused(f"no client is registered as {client_id!r}")
    return client


def _target(state: IdPState, params: Params) -> tuple[ClientConfig | None, str | None, dict[str, Any] | None]:
    raw_hint = params.get("id_token_hint")
    hint = None
    if raw_hint is not None:
        try:
            hint = verify_id_token_hint(raw_hint, state.keys.find, state.issuer)
        except InvalidToken:
            raise LogoutRefused("id_token_hint is not an ID token issued by this provider") from None
    client = _client(state, params, hint)
    uri = params.get("post_logout_redirect_uri")
    if uri is not None:
        if client is None:
            raise LogoutRefused("post_logout_redirect_uri needs id_token_hint or client_id")
        if uri not in client.post_logout_redirect_uris:
            raise LogoutRefused(f"{uri!r} is not a registered post_logout_redirect_uri of this client")
    return client, uri, hint


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    params = query_params(request) if request.method == "GET" else await form_params(request)
    params.check_single()
    try:
        await resolve_document_client(state, params.get("client_id"))  # a metadata-document client
    except OAuthError as exc:
        return pages.error_page(f"{exc.error}: {exc.description}", title="Sign-out request refused")
    try:
        client, uri, hint = _target(state, params)
    except LogoutRefused as exc:
        return pages.error_page(str(exc), title="Sign-out request refused")
    if client is not None:
        request[CLIENT_ID] = client.client_id
    sid = request.cookies.get(session_cookie(state))
    session = state.store.grants.session(sid)
    if session is not None and (hint is None or hint.get("sub") != session.subject):
        # no proof that this browser's own client asks: let the person confirm (CSRF)
        return _confirmation(state, sid or "", session.subject, client, uri, params.get("state"))
    return _signed_out(state, sid if session else None, client, uri, params.get("state"))


@browser.same_site_posts
async def confirm(request: web.Request) -> web.StreamResponse:
    """POST from the confirmation page: ends this browser's session if the token is its own."""
    state = request.app[STATE]
    params = await form_params(request)
    params.check_single()
    try:
        client, uri, _ = _target(state, params)
    except LogoutRefused as exc:
        return pages.error_page(str(exc), title="Sign-out request refused")
    sid = request.cookies.get(session_cookie(state))
    session = state.store.grants.session(sid)
    if session is not None and not browser.logout_token_matches(sid or "", params.get("confirmation")):
        return pages.error_page(NOT_CONFIRMED, status=403, title="Sign-out request refused")
    return _signed_out(state, sid if session else None, client, uri, params.get("state"))


def _confirmation(
    state: IdPState,
    sid: str,
    subject: str,
    client: ClientConfig | None,
    uri: str | None,
    state_value: str | None,
) -> web.Response:
    user = state.store.user(subject)
    fields = {
        "confirmation": browser.logout_token(sid),
        "client_id": client.client_id if client else None,
        "post_logout_redirect_uri": uri,
        "state": state_value,
    }
    view = pages.LogoutView(
        action=state.endpoint("end_session/confirm"),
        fields={k: v for k, v in fields.items() if v is not None},
        client_name=(client.client_name or client.client_id) if client else None,
        user=user,
    )
    return pages.logout_page(view, issuer=state.issuer)


def _signed_out(
    state: IdPState, sid: str | None, client: ClientConfig | None, uri: str | None, state_value: str | None
) -> web.Response:
    """End this browser's session (never another browser's), then redirect or show a page."""
    if sid is not None:
        state.store.grants.sign_out(sid)
    response: web.Response
    if uri is not None:
        parts = urlsplit(uri)
        extra = urlencode({"state": state_value}) if state_value else ""
        query = "&".join(q for q in (parts.query, extra) if q)
        response = redirect(urlunsplit(parts._replace(query=query)))
    else:
        name = (client.client_name or client.client_id) if client else None
        response = pages.signed_out_page(name)
    browser.delete_cookie(response, state, session_cookie(state), path=state.issuer_path or "/")
    return response
