"""The HTML pages a person sees: sign in, consent, errors, signed out.

Plain Python strings; every value that could come from a request or a config passes through
:func:`esc`. No JavaScript: each action is a form POST, so the pages work in any browser and
in a headless test.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ...claims import SCOPE_DESCRIPTIONS
from ...config import UserConfig

STYLE = Path(__file__).with_name("style.css").read_text(encoding="utf-8")
#: at most this many one-click user buttons (a generated config may hold many people)
MAX_USER_BUTTONS = 12
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer browsers send ``Origin: null`` on the
    # pages' own form POSTs, and those are refused as cross-site (web/origin.py)
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, status: int = 200, footer: str = "") -> web.Response:
    """A complete HTML document with the shared style and safe headers."""
    text = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · mockidp</title>
<style>{STYLE}</style>
</head>
<body>
<main aria-labelledby="title">
<div class="brand"><span class="logo" aria-hidden="true">&#9670;</span>mockidp
<span class="badge">Test identity provider</span></div>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def display_name(user: UserConfig) -> str:
    name = user.claims.get("name")
    return str(name) if name else user.login_name


def _initials(user: UserConfig) -> str:
    parts = [p for p in display_name(user).replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _account(user: UserConfig) -> str:
    """The signed-in person, as the consent and sign-out pages show them."""
    return f"""<div class="account"><span class="avatar" aria-hidden="true">{esc(_initials(user))}</span>
<span class="who"><strong>{esc(display_name(user))}</strong>
<span>Signed in as {esc(user.login_name)}</span></span>
</div>"""


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def decision_form(action: str, transaction: str) -> str:
    """The consent pages' Deny / Approve form, posting ``decision`` with the transaction."""
    return f"""<form method="post" action="{esc(action)}">
{_hidden("transaction", transaction)}
<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
</div>
</form>"""


@dataclass(frozen=True, slots=True)
class LoginView:
    action: str
    transaction: str
    client_name: str
    users: Sequence[UserConfig]
    username: str = ""
    error: str | None = None
    #: the sign-in levels to offer (``acr_levels``) and the one preselected
    levels: Sequence[str] = ()
    level: str = ""


def _checked(value: str, chosen: str) -> str:
    return " checked" if value == chosen else ""


def _level_choice(view: LoginView) -> str:
    """A radio group of the sign-in levels (the person picks how strongly to sign in)."""
    if not view.levels:
        return ""
    options = "".join(
        f"""<label class="level"><input type="radio" name="acr" value="{esc(lv)}"{_checked(lv, view.level)}>
{esc(lv)}</label>"""
        for lv in view.levels
    )
    return f"""<fieldset class="levels"><legend>Sign-in level (acr)</legend>{options}</fieldset>"""


def login_page(view: LoginView, *, issuer: str) -> web.Response:
    error = ""
    invalid = ""
    if view.error:
        error = f'<p class="error" role="alert" id="login-error">{esc(view.error)}</p>'
        invalid = ' aria-invalid="true" aria-describedby="login-error"'
    level = _hidden("acr", view.level) if view.level else ""
    buttons = "".join(
        f"""<li><form method="post" action="{esc(view.action)}">{_hidden("transaction", view.transaction)}
{_hidden("user", user.sub)}{level}<button type="submit" class="user">
<span class="avatar" aria-hidden="true">{esc(_initials(user))}</span>
<span class="who"><strong>{esc(display_name(user))}</strong><span>{esc(_user_detail(user))}</span></span>
</button></form></li>"""
        for user in view.users[:MAX_USER_BUTTONS]
    )
    quick = ""
    if buttons:
        quick = f"""<section aria-labelledby="quick-title">
<h2 id="quick-title">Or sign in with one click</h2>
<ul class="users">{buttons}</ul>
</section>"""
    focus_user, focus_pw = ("", " autofocus") if view.username else (" autofocus", "")
    body = f"""<h1 id="title">Sign in</h1>
<p class="lead">to continue to <strong>{esc(view.client_name)}</strong></p>
{error}
<form method="post" action="{esc(view.action)}">
{_hidden("transaction", view.transaction)}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required{focus_user}
 value="{esc(view.username)}"{invalid}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password"
 required{focus_pw}{invalid}>
{_level_choice(view)}
<button type="submit" class="primary wide">Sign in</button>
</form>
{quick}"""
    title = "Sign in" if not view.error else "Sign in (error)"
    return page(title, body, footer=f"Issuer <code>{esc(issuer)}</code>")


def _user_detail(user: UserConfig) -> str:
    email = user.claims.get("email")
    return f"{user.login_name} · {email}" if email else user.login_name


@dataclass(frozen=True, slots=True)
class ConsentView:
    action: str
    transaction: str
    client_name: str
    user: UserConfig
    scopes: Sequence[str]
    #: audience -> the requested scopes that API defines
    apis: Mapping[str, Sequence[str]]
    redirect_uri: str


def _scope_items(scopes: Iterable[str], describe: Mapping[str, str]) -> str:
    return "".join(
        f"<li><strong>{esc(describe.get(s, 'Use this permission'))}</strong><code>{esc(s)}</code></li>"
        for s in scopes
    )


def consent_page(view: ConsentView, *, issuer: str) -> web.Response:
    identity = [s for s in view.scopes if s in SCOPE_DESCRIPTIONS]
    sections = ""
    if identity:
        sections += f"""<h2 id="identity-title">Your identity</h2>
<ul class="scopes" aria-labelledby="identity-title">{_scope_items(identity, SCOPE_DESCRIPTIONS)}</ul>"""
    for index, (audience, scopes) in enumerate(view.apis.items()):
        items = "".join(
            f'<li><code>{esc(s)}</code><span class="note">A permission defined by this API</span></li>'
            for s in scopes
        )
        items = items or "<li><strong>Call this API as you</strong></li>"
        sections += f"""<h2 id="api-{index}">Access to the API <code>{esc(audience)}</code></h2>
<ul class="scopes" aria-labelledby="api-{index}">{items}</ul>"""
    # every granted scope is shown, also those no target API defines (the person approves them)
    shown = set(identity).union(*view.apis.values())
    other = [s for s in view.scopes if s not in shown]
    if other:
        sections += f"""<h2 id="other-title">Other permissions</h2>
<ul class="scopes" aria-labelledby="other-title">{_scope_items(other, {})}</ul>"""
    user = view.user
    body = f"""<h1 id="title">Authorize {esc(view.client_name)}</h1>
<p class="lead"><strong>{esc(view.client_name)}</strong> is asking for permission to act for you.</p>
{_account(user)}
{sections}
{decision_form(view.action, view.transaction)}
<p class="muted after">You will return to <code>{esc(view.redirect_uri)}</code></p>"""
    return page("Authorize", body, footer=f"Issuer <code>{esc(issuer)}</code>")


def error_page(
    message: str, *, status: int = 400, title: str = "This sign-in cannot continue"
) -> web.Response:
    body = f"""<h1 id="title">{esc(title)}</h1>
<p class="error" role="alert">{esc(message)}</p>
<p class="muted after">You are not being sent back to the application, because its
identity or its return address could not be verified. Start again from the application.</p>"""
    return page(title, body, status=status)


@dataclass(frozen=True, slots=True)
class LogoutView:
    action: str
    #: hidden fields: the confirmation token and the request to finish
    fields: Mapping[str, str]
    client_name: str | None
    user: UserConfig | None


def logout_page(view: LogoutView, *, issuer: str) -> web.Response:
    """Ask before ending the session: the request did not prove it came from this browser's app."""
    whom = f"<strong>{esc(view.client_name)}</strong> asks" if view.client_name else "You are asked"
    who = _account(view.user) if view.user is not None else ""
    hidden = "".join(_hidden(name, value) for name, value in view.fields.items())
    body = f"""<h1 id="title">Sign out?</h1>
<p class="lead">{whom} to end your session at this identity provider.</p>
{who}
<form method="post" action="{esc(view.action)}">
{hidden}
<button type="submit" class="primary wide">Sign out</button>
</form>
<p class="muted after">If you did not ask to sign out, close this window: you stay signed in.</p>"""
    return page("Sign out", body, footer=f"Issuer <code>{esc(issuer)}</code>")


def signed_out_page(client_name: str | None = None) -> web.Response:
    whom = f" of <strong>{esc(client_name)}</strong>" if client_name else ""
    body = f"""<h1 id="title">You are signed out</h1>
<p class="lead">Your session{whom} at this identity provider has ended.</p>
<p class="muted">You can close this window.</p>"""
    return page("Signed out", body)
