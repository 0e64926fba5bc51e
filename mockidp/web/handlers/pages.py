"""The login and consent pages of ``login: form`` (part of the authorization endpoint).

A pending authorization is keyed by a random transaction id carried in a hidden field, so
the pages need no JavaScript, and bound to the browser that started it (``browser.py``): a
POST from another site, or without that browser's cookie, is refused with an error page.
Signing in sets a login-session cookie; Approve issues the code, Deny answers ``access_denied``.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from ...config import UserConfig
from ...grants import PendingAuthorization
from ...params import Params
from ...state import IdPState
from .. import browser, pages
from ..keys import STATE
from ..request_params import form_params, query_params
from .authorize import (
    approve,
    client_name,
    consent_url,
    current_session,
    login_view,
    redirect,
    refuse,
    requested_level,
    session_cookie,
)

EXPIRED = "This sign-in request has expired or is unknown. Start again from the application."
WRONG_PASSWORD = "Wrong username or password."


def _pending(state: IdPState, params: Params) -> tuple[str, PendingAuthorization] | None:
    txn = params.get("transaction")
    pending = state.store.grants.transaction(txn, state.clock.now()) if txn else None
    return (txn, pending) if txn and pending else None


def _chosen_level(state: IdPState, chosen: str | None, pending: PendingAuthorization) -> str | None:
    """The level picked on the login page, or the one the request asked for (None without levels)."""
    levels = state.config.acr_levels
    if chosen is not None and chosen in levels:
        return chosen
    return requested_level(state, pending.request)


def check_password(state: IdPState, username: str | None, password: str | None) -> UserConfig | None:
    user = state.store.user_by_login(username) if username else None
    if user is None or user.password is None or password is None:
        return None
    if not hmac.compare_digest(user.password.encode(), password.encode()):
        return None
    return user


def signing_in(state: IdPState, params: Params) -> UserConfig | None:
    """Who the login form signs in: the one-click user button, else username and password
    (None: a wrong password or an unknown user)."""
    one_click = params.get("user")
    if one_click is not None:
        return state.store.user(one_click)
    return check_password(state, params.get("username"), params.get("password"))


def to_consent(state: IdPState, sid: str, consent: str) -> web.StreamResponse:
    """After a sign-in: on to the consent page, with the new session's cookie."""
    response = redirect(consent, status=303)
    browser.set_cookie(response, state, session_cookie(state), sid, path=state.issuer_path or "/")
    return response


@browser.same_site_posts
async def login(request: web.Request) -> web.StreamResponse:
    """POST: username and password, or a one-click ``user``; then on to the consent page."""
    state = request.app[STATE]
    params = await form_params(request)
    params.check_single()
    found = _pending(state, params)
    if found is None:
        return pages.error_page(EXPIRED)
    txn, pending = found
    refused = browser.wrong_browser(request, state, pending)
    if refused is not None:
        return refused
    user = signing_in(state, params)
    if user is None:
        username = params.get("username") or ""
        return login_view(state, txn, pending.request, username=username, error=WRONG_PASSWORD)
    now = state.clock.now()
    acr = _chosen_level(state, params.get("acr"), pending)
    sid = state.store.grants.sign_in(user.sub, now, acr)
    pending.subject, pending.auth_time, pending.acr = user.sub, now, acr
    return to_consent(state, sid, consent_url(state, txn))


@browser.same_site_posts
async def consent(request: web.Request) -> web.StreamResponse:
    """GET shows the requested scopes; POST records Approve or Deny."""
    state = request.app[STATE]
    params = query_params(request) if request.method == "GET" else await form_params(request)
    params.check_single()
    found = _pending(state, params)
    if found is None or found[1].subject is None:
        return pages.error_page(EXPIRED)
    txn, pending = found
    refused = browser.wrong_browser(request, state, pending)
    if refused is not None:
        return refused
    subject = pending.subject or ""
    if request.method == "GET":
        return _consent_page(state, txn, pending)
    decision = params.get("decision")
    if decision not in ("approve", "deny"):
        return _consent_page(state, txn, pending)
    state.store.grants.finish(txn)
    auth = pending.request
    if decision == "deny":
        return refuse(state, auth, "access_denied", "the user denied the request", status=303)
    session = current_session(request, state)
    if session is not None and session.subject == subject:
        state.store.grants.add_consent(session, auth.client_id, auth.scopes)
    auth_time = pending.auth_time or state.clock.now()
    return approve(state, auth, subject, auth_time, acr=pending.acr, status=303)


def _consent_page(state: IdPState, txn: str, pending: PendingAuthorization) -> web.Response:
    auth = pending.request
    user = state.store.user(pending.subject or "")
    apis = {a: state.store.api(a) for a in auth.audiences}
    if user is None:
        return pages.error_page(EXPIRED)
    api_scopes = {
        audience: [s for s in auth.scopes if api is not None and s in api.scopes]
        for audience, api in apis.items()
        if audience != state.issuer
    }
    view = pages.ConsentView(
        action=state.endpoint("authorize/consent"),
        transaction=txn,
        client_name=client_name(state, auth.client_id),
        user=user,
        scopes=auth.scopes,
        apis=api_scopes,
        redirect_uri=auth.redirect_uri,
    )
    return pages.consent_page(view, issuer=state.issuer)
