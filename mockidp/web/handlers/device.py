"""The device verification pages of ``{issuer}/device`` (RFC 8628 section 3.3).

The person enters the user code, signs in (or keeps their session), and approves or denies;
the decision goes to the polling engine, and the device's next poll sees it. The pages keep
the sign-in pages' defences: form POSTs from another origin are refused
(``browser.same_site_posts``), and each transaction is bound to the browser that entered the
code (a key cookie below ``/device``), so a code or transaction id posted from elsewhere does
nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from ...grants import TRANSACTION_TTL
from ...params import Params
from ...polling import Decision, PolledRequest, SignIn, VerificationPage
from ...state import IdPState
from .. import browser, pages
from ..keys import STATE
from ..pages import device as device_pages
from ..request_params import form_params, query_params
from .authorize import client_name, current_session, redirect
from .pages import EXPIRED, WRONG_PASSWORD, signing_in, to_consent

UNKNOWN_CODE = "That code is unknown, expired or already used. Check the code on your device."
PAGES = "device"


def _enabled(state: IdPState) -> None:
    if not state.config.device.enabled:
        raise web.HTTPNotFound()


def _code_page(state: IdPState, user_code: str = "", error: str | None = None) -> web.Response:
    return device_pages.code_page(
        state.endpoint("device"), user_code=user_code, error=error, issuer=state.issuer
    )


@browser.same_site_posts
async def handle(request: web.Request) -> web.StreamResponse:
    """GET: the code form (``verification_uri_complete`` fills it in); POST: look the code up."""
    state = request.app[STATE]
    _enabled(state)
    key = browser.browser_key(request, state)
    if request.method == "GET":
        typed = query_params(request).get("user_code") or ""
        return browser.remember_browser(_code_page(state, typed[:32]), state, key, pages=PAGES)
    params = await form_params(request)
    params.check_single()
    refused = browser.wrong_binding(request, state, browser.binding(key))
    if refused is not None:
        return refused  # no key cookie: the code form was not loaded in this browser
    typed = params.get("user_code") or ""
    now = state.clock.now()
    polled = state.store.polls.find(user_code=typed)
    if polled is None or polled.kind != "device" or polled.status != "pending" or now >= polled.expires_at:
        return _code_page(state, typed[:32], UNKNOWN_CODE)
    page = VerificationPage(
        request_id=polled.id,
        browser=browser.binding(key),
        expires_at=min(polled.expires_at, now + TRANSACTION_TTL),
    )
    txn = state.store.polls.open_page(page)
    session = current_session(request, state)
    hinted = state.store.user_by_login(polled.login_hint) if polled.login_hint else None
    if session is not None and (hinted is None or hinted.sub == session.subject):
        state.store.polls.sign_in_page(page, session.subject, session.auth_time, session.acr)
        return redirect(_consent_url(state, txn), status=303)
    return _login_view(state, txn, polled, username=hinted.login_name if hinted else "")


def _login_view(
    state: IdPState, txn: str, polled: PolledRequest, *, username: str = "", error: str | None = None
) -> web.Response:
    view = pages.LoginView(
        action=state.endpoint("device/login"),
        transaction=txn,
        client_name=client_name(state, polled.client_id),
        users=list(state.store.users().values()),
        username=username,
        error=error,
        levels=tuple(state.config.acr_levels),
        level=polled.acr or "",
    )
    return pages.login_page(view, issuer=state.issuer)


def _consent_url(state: IdPState, txn: str) -> str:
    return f"{state.endpoint('device/consent')}?{urlencode({'transaction': txn})}"


def _transaction(
    request: web.Request, state: IdPState, params: Params
) -> tuple[str, VerificationPage, PolledRequest] | web.Response:
    """The page transaction and its request, or the page that refuses to go on."""
    txn = params.get("transaction") or ""
    page = state.store.polls.page(txn, state.clock.now())
    polled = state.store.polls.find(request_id=page.request_id) if page is not None else None
    if page is None or polled is None:
        return pages.error_page(EXPIRED)
    refused = browser.wrong_binding(request, state, page.browser)
    return refused if refused is not None else (txn, page, polled)


@browser.same_site_posts
async def login(request: web.Request) -> web.StreamResponse:
    """POST: username and password, or a one-click ``user``; then on to the consent page."""
    state = request.app[STATE]
    _enabled(state)
    params = await form_params(request)
    params.check_single()
    found = _transaction(request, state, params)
    if isinstance(found, web.Response):
        return found
    txn, page, polled = found
    user = signing_in(state, params)
    if user is None:
        return _login_view(state, txn, polled, username=params.get("username") or "", error=WRONG_PASSWORD)
    now = state.clock.now()
    chosen = params.get("acr")
    acr = chosen if chosen in state.config.acr_levels else polled.acr
    sid = state.store.grants.sign_in(user.sub, now, acr)
    state.store.polls.sign_in_page(page, user.sub, now, acr)
    return to_consent(state, sid, _consent_url(state, txn))


@browser.same_site_posts
async def consent(request: web.Request) -> web.StreamResponse:
    """GET shows what the device asks for; POST records Approve or Deny."""
    state = request.app[STATE]
    _enabled(state)
    params = query_params(request) if request.method == "GET" else await form_params(request)
    params.check_single()
    found = _transaction(request, state, params)
    if isinstance(found, web.Response):
        return found
    txn, page, polled = found
    user = state.store.user(page.subject or "")
    if user is None or page.auth_time is None:
        return pages.error_page(EXPIRED)
    sent = params.get("decision") if request.method == "POST" else None
    decision: Decision | None = "approve" if sent == "approve" else "deny" if sent == "deny" else None
    if decision is None:
        view = device_pages.DeviceConsentView(
            action=state.endpoint("device/consent"),
            transaction=txn,
            client_name=client_name(state, polled.client_id),
            user=user,
            user_code=polled.user_code or "",
            scopes=polled.scopes,
        )
        return device_pages.consent_page(view, issuer=state.issuer)
    state.store.polls.close_page(txn)
    by = SignIn(user.sub, page.auth_time, page.acr)
    if not state.store.polls.decide(polled, decision, state.clock.now(), by=by):
        return pages.error_page(EXPIRED)
    return device_pages.done_page(decision == "approve")
