"""Authorization endpoint (OAuth 2.1 section 4.1.1; OIDC Core 3.1.2): GET or POST form.

Validates the request, then either answers at once (``login: auto``) or hands over to the
login and consent pages (``login: form``, see ``pages.py``). Every response that goes back
to the client passes through ``state.misbehaviour.tamper_authorization_response``.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from ...acr import choose_level, satisfies
from ...client_documents import document_host
from ...config import UserConfig
from ...errors import OAuthError
from ...flows.authorization_code import issue_code
from ...flows.authorization_request import (
    AuthorizationPageError,
    AuthorizationRedirect,
    parse_authorization_request,
)
from ...grants import TRANSACTION_TTL, AuthorizationRequest, LoginSession, PendingAuthorization
from ...state import IdPState
from .. import browser, pages
from ..client_documents import resolve_document_client
from ..keys import CLIENT_ID, STATE
from ..request_params import form_params, query_params
from ..responses import oauth_error_body


def session_cookie(state: IdPState) -> str:
    """The login-session cookie's name; cookies ignore ports, so it names the issuer."""
    return "mockidp_session_" + hashlib.sha256(state.issuer.encode()).hexdigest()[:10]


def current_session(request: web.Request, state: IdPState) -> LoginSession | None:
    return state.store.grants.session(request.cookies.get(session_cookie(state)))


def redirect(location: str, *, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


def respond(state: IdPState, redirect_uri: str, params: dict[str, str], *, status: int = 302) -> web.Response:
    """Send an authorization response (RFC 9207 ``iss`` included) to the redirect URI."""
    params = {**params, "iss": state.issuer}
    params = state.misbehaviour.tamper_authorization_response(params)
    parts = urlsplit(redirect_uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return redirect(urlunsplit(parts._replace(query=query)), status=status)


def error_response(
    state: IdPState, redirect_uri: str, error: OAuthError, state_value: str | None, *, status: int = 302
) -> web.Response:
    params = oauth_error_body(error.error, error.description)
    if state_value is not None:
        params["state"] = state_value
    return respond(state, redirect_uri, params, status=status)


def requested_level(state: IdPState, auth: AuthorizationRequest) -> str | None:
    """The sign-in level this request asks for (``acr_values``), else the weakest; None without levels."""
    return choose_level(state.config.acr_levels, auth.acr_values)


def approve(
    state: IdPState,
    auth: AuthorizationRequest,
    subject: str,
    auth_time: float,
    *,
    acr: str | None = None,
    status: int = 302,
) -> web.Response:
    """Issue the code and send it back with ``state`` and ``iss``."""
    code = issue_code(state, auth, subject=subject, auth_time=auth_time, acr=acr)
    params = {"code": code}
    if auth.state is not None:
        params["state"] = auth.state
    return respond(state, auth.redirect_uri, params, status=status)


def refuse(
    state: IdPState, auth: AuthorizationRequest, error: str, description: str, *, status: int = 302
) -> web.Response:
    """Send an error (``access_denied``, ``login_required``...) back to the client."""
    failure = OAuthError(description, error=error)
    return error_response(state, auth.redirect_uri, failure, auth.state, status=status)


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    params = query_params(request) if request.method == "GET" else await form_params(request)
    client_ids = params.getall("client_id")
    if len(client_ids) == 1:
        request[CLIENT_ID] = client_ids[0]  # for the journal
    try:
        # a client ID metadata document is fetched first; a bad one is never redirected to
        await resolve_document_client(state, client_ids[0] if len(client_ids) == 1 else None)
    except OAuthError as exc:
        return pages.error_page(f"{exc.error}: {exc.description}")
    try:
        auth = parse_authorization_request(state, params)
    except AuthorizationPageError as exc:
        return pages.error_page(str(exc))
    except AuthorizationRedirect as exc:
        return error_response(state, exc.redirect_uri, exc.error, exc.state)
    if state.config.login == "auto":
        return _auto(state, auth)
    return _form(request, state, auth)


def _auto(state: IdPState, auth: AuthorizationRequest) -> web.Response:
    """``login: auto``: the user named by ``login_hint`` (sub or username) or by
    ``id_token_hint``, else the first."""
    user: UserConfig | None
    if auth.login_hint is not None:
        user = state.store.user_by_login(auth.login_hint)
        if user is None:
            return refuse(state, auth, "login_required", f"login_hint {auth.login_hint!r} names no user")
        if auth.hinted_subject not in (None, user.sub):
            return refuse(state, auth, "login_required", "login_hint and id_token_hint name different users")
    elif auth.hinted_subject is not None:
        user = state.store.user(auth.hinted_subject)
        if user is None:
            return refuse(state, auth, "login_required", "the user of id_token_hint does not exist")
    else:
        user = next(iter(state.store.users().values()), None)
        if user is None:
            return refuse(state, auth, "login_required", "no users are configured")
    return approve(state, auth, user.sub, state.clock.now(), acr=requested_level(state, auth))


def _usable_session(request: web.Request, state: IdPState, auth: AuthorizationRequest) -> LoginSession | None:
    """The signed-in session, unless the request wants another user, a fresher or a new sign-in."""
    session = current_session(request, state)
    if session is None or "login" in auth.prompt or "select_account" in auth.prompt:
        return None  # select_account: the login page is the account chooser (one click per user)
    if auth.login_hint is not None:
        hinted = state.store.user_by_login(auth.login_hint)
        if hinted is None or hinted.sub != session.subject:
            return None
    if auth.hinted_subject not in (None, session.subject):
        return None  # OIDC Core 3.1.2.1: another user is signed in than the hint names
    if auth.max_age is not None and state.clock.now() - session.auth_time > auth.max_age:
        return None  # OIDC Core 3.1.2.1: the sign-in is too old, do it again
    wanted = requested_level(state, auth)
    if wanted is not None and not satisfies(state.config.acr_levels, session.acr, wanted):
        return None  # RFC 9470 step-up: a stronger sign-in than this session's is asked for
    return session


def _form(request: web.Request, state: IdPState, auth: AuthorizationRequest) -> web.Response:
    """``login: form``: reuse a signed-in session where allowed, else show the pages."""
    session = _usable_session(request, state, auth)
    key = browser.browser_key(request, state)  # the pages only finish what this browser started
    if session is None:
        if "none" in auth.prompt:
            return refuse(state, auth, "login_required", _why_login(request, state, auth))
        txn = _start(state, auth, None, None, key)
        return browser.remember_browser(login_view(state, txn, auth), state, key)
    if session.has_consented(auth.client_id, auth.scopes) and "consent" not in auth.prompt:
        return approve(state, auth, session.subject, session.auth_time, acr=session.acr)
    if "none" in auth.prompt:
        return refuse(state, auth, "consent_required", "prompt=none, and these scopes need consent")
    txn = _start(state, auth, session.subject, session.auth_time, key, session.acr)
    return browser.remember_browser(redirect(consent_url(state, txn), status=303), state, key)


def _why_login(request: web.Request, state: IdPState, auth: AuthorizationRequest) -> str:
    session = current_session(request, state)
    if session is None:
        return "prompt=none, and nobody is signed in"
    if auth.hinted_subject not in (None, session.subject):
        return "prompt=none, and the signed-in user is not the one id_token_hint names"
    return "prompt=none, and the sign-in must be repeated (another user, max_age or a stronger acr)"


def _start(
    state: IdPState,
    auth: AuthorizationRequest,
    subject: str | None,
    auth_time: float | None,
    key: str,
    acr: str | None = None,
) -> str:
    pending = PendingAuthorization(
        request=auth,
        expires_at=state.clock.now() + TRANSACTION_TTL,
        subject=subject,
        auth_time=auth_time,
        acr=acr,
        browser=browser.binding(key),
    )
    return state.store.grants.start(pending)


def client_name(state: IdPState, client_id: str) -> str:
    """How the login and consent pages name the client. A metadata-document client names
    itself, so the host its document came from is shown with that name (the draft asks for the
    host to be shown): ``Example Agent (agent.example.com)``."""
    client = state.store.client(client_id)
    name = (client.client_name if client else None) or client_id
    host = document_host(state, client_id)
    return f"{name} ({host})" if host and client and client.client_name else (host or name)


def login_view(
    state: IdPState,
    txn: str,
    auth: AuthorizationRequest,
    *,
    username: str = "",
    error: str | None = None,
) -> web.Response:
    users = list(state.store.users().values())
    hinted = auth.login_hint or auth.hinted_subject
    hint = state.store.user_by_login(hinted) if hinted else None
    view = pages.LoginView(
        action=state.endpoint("authorize/login"),
        transaction=txn,
        client_name=client_name(state, auth.client_id),
        users=users,
        username=username or (hint.login_name if hint else ""),
        error=error,
        levels=tuple(state.config.acr_levels),
        level=requested_level(state, auth) or "",
    )
    return pages.login_page(view, issuer=state.issuer)


def consent_url(state: IdPState, txn: str) -> str:
    return f"{state.endpoint('authorize/consent')}?{urlencode({'transaction': txn})}"
