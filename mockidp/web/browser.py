"""Binding sign-in, consent and logout to the browser that started them (CSRF defences).

``/authorize`` gives the browser a random key in an HttpOnly, SameSite=Lax cookie, and the
pending authorization remembers its hash. The login and consent forms then need that cookie,
so a transaction id posted from another browser (login CSRF: the victim ends up signed in as
the attacker's user) does nothing. POSTs from another origin are refused before that. One key
per browser, not per transaction, so two sign-ins in two tabs both work.

Logout without a hint for this browser's session needs a confirmation POST carrying a token
derived from the session id, which another site cannot read. Cookies get ``Secure`` when the
issuer is https.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from ..grants import TRANSACTION_TTL, PendingAuthorization, token_key
from ..state import IdPState
from . import pages
from .origin import from_another_site

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: process-wide key for logout confirmation tokens; a token is only good for one session id
_CSRF_KEY = secrets.token_bytes(32)
R = TypeVar("R", bound=web.StreamResponse)
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")

CROSS_SITE = (
    "This form was submitted from another web site. mockidp only accepts its sign-in, consent "
    "and sign-out forms from its own pages."
)
NO_COOKIE = (
    "Your browser did not send the cookie that mockidp set when this sign-in started (are "
    "cookies blocked?). Start again from the application."
)
OTHER_BROWSER = (
    "This sign-in was started in another browser, so it cannot be completed here. "
    "Start again from the application."
)


def binding_cookie(state: IdPState) -> str:
    """The browser-key cookie's name; cookies ignore ports, so it names the issuer."""
    return "mockidp_browser_" + hashlib.sha256(state.issuer.encode()).hexdigest()[:10]


def secure(state: IdPState) -> bool:
    """Cookies of an https issuer are ``Secure``: never sent over plain HTTP."""
    return state.issuer.startswith("https://")


def set_cookie(
    response: web.StreamResponse,
    state: IdPState,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int | None = None,
) -> None:
    """Every mockidp cookie: HttpOnly, SameSite=Lax, and Secure for an https issuer."""
    response.set_cookie(
        name, value, path=path, max_age=max_age, httponly=True, samesite="Lax", secure=secure(state) or None
    )


def delete_cookie(response: web.StreamResponse, state: IdPState, name: str, *, path: str) -> None:
    response.del_cookie(name, path=path, httponly=True, samesite="Lax", secure=secure(state) or None)


def browser_key(request: web.Request, state: IdPState) -> str:
    """This browser's key: the one its cookie holds, or a new random one."""
    key = request.cookies.get(binding_cookie(state), "")
    return key if _KEY_SHAPE.fullmatch(key) else secrets.token_urlsafe(32)


def binding(key: str) -> str:
    """What a pending authorization stores: a hash of the key, not the key itself."""
    return token_key(key)


def remember_browser(response: R, state: IdPState, key: str, *, pages: str = "authorize") -> R:
    """Set (or refresh) the browser-key cookie, sent only to the login and consent pages
    (``pages``: below ``/authorize``, or ``/device`` for the device verification pages)."""
    path = f"{state.issuer_path}/{pages}"
    set_cookie(response, state, binding_cookie(state), key, path=path, max_age=TRANSACTION_TTL)
    return response


def same_site_posts(handler: Handler) -> Handler:
    """Refuse, with a page, a form POST to ``handler`` from another origin (login CSRF)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and from_another_site(request):
            return pages.error_page(CROSS_SITE, status=403, title="Request refused")
        return await handler(request)

    return guarded


def wrong_browser(
    request: web.Request, state: IdPState, pending: PendingAuthorization
) -> web.Response | None:
    """The refusal page when this browser did not start ``pending``, or None."""
    return wrong_binding(request, state, pending.browser)


def wrong_binding(request: web.Request, state: IdPState, bound: str | None) -> web.Response | None:
    """The refusal page when this browser's key does not hash to ``bound``, or None."""
    key = request.cookies.get(binding_cookie(state))
    if not key:
        return pages.error_page(NO_COOKIE, status=400)
    if bound is None or not hmac.compare_digest(binding(key), bound):
        return pages.error_page(OTHER_BROWSER, status=403)
    return None


def logout_token(sid: str) -> str:
    """The confirmation token for ending session ``sid``: unguessable without the cookie."""
    return hmac.new(_CSRF_KEY, sid.encode(), hashlib.sha256).hexdigest()


def logout_token_matches(sid: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(
        logout_token(sid).encode(), sent.encode("utf-8", "surrogatepass")
    )
