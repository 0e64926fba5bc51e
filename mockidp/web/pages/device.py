"""The device verification pages (RFC 8628 section 3.3): enter the code, then (after the shared
sign-in page) approve or deny, then go back to the device. Same style and headers as the
other pages; every request value passes through :func:`esc`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from ...claims import SCOPE_DESCRIPTIONS
from ...config import UserConfig
from . import decision_form, display_name, esc, page


def code_page(action: str, *, user_code: str = "", error: str | None = None, issuer: str) -> web.Response:
    """Where the person types the code their device shows."""
    alert = f'<p class="error" role="alert" id="code-error">{esc(error)}</p>' if error else ""
    invalid = ' aria-invalid="true" aria-describedby="code-error"' if error else ""
    body = f"""<h1 id="title">Connect a device</h1>
<p class="lead">Enter the code shown on your device.</p>
{alert}
<form method="post" action="{esc(action)}">
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" autocomplete="one-time-code" required autofocus
 autocapitalize="characters" spellcheck="false" value="{esc(user_code)}"{invalid}>
<button type="submit" class="primary wide">Continue</button>
</form>"""
    return page(
        "Connect a device" if not error else "Connect a device (error)",
        body,
        footer=f"Issuer <code>{esc(issuer)}</code>",
    )


@dataclass(frozen=True, slots=True)
class DeviceConsentView:
    action: str
    transaction: str
    client_name: str
    user: UserConfig
    user_code: str
    scopes: Sequence[str]


def consent_page(view: DeviceConsentView, *, issuer: str) -> web.Response:
    describe = SCOPE_DESCRIPTIONS
    items = "".join(
        f"<li><strong>{esc(describe.get(s, 'Use this permission'))}</strong><code>{esc(s)}</code></li>"
        for s in view.scopes
    )
    scopes = f'<ul class="scopes" aria-labelledby="scopes-title">{items}</ul>' if items else ""
    body = f"""<h1 id="title">Authorize {esc(view.client_name)}</h1>
<p class="lead">A device showing the code <strong><code id="shown-code">{esc(view.user_code)}</code></strong>
asks to act for <strong>{esc(display_name(view.user))}</strong> ({esc(view.user.login_name)}).
Approve only if your device shows this code.</p>
<h2 id="scopes-title">It asks for</h2>
{scopes}
{decision_form(view.action, view.transaction)}"""
    return page("Authorize a device", body, footer=f"Issuer <code>{esc(issuer)}</code>")


def done_page(approved: bool) -> web.Response:
    if approved:
        title, text = (
            "Device connected",
            "You approved the request. Return to your device; it continues on its own.",
        )
    else:
        title, text = "Request denied", "You denied the request. The device gets no access."
    body = f"""<h1 id="title">{esc(title)}</h1>
<p class="lead">{esc(text)}</p>
<p class="muted">You can close this window.</p>"""
    return page(title, body)
