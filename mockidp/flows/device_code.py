"""The device authorization grant (RFC 8628): a device without a browser, a person with one.

``start`` answers the device authorization request (section 3.1-3.2): a ``device_code`` for the
client to poll with, a ``user_code`` for the person to enter at ``verification_uri``. In
``login: auto`` the person is simulated: the user named by ``login_hint`` (a mockidp extension
of the device authorization request, like ``login_hint`` at /authorize), else the first user,
approves after ``device.approve_after_polls`` polls. In ``login: form`` the person approves on
the verification pages. ``exchange`` is the token request (section 3.4-3.5).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..acr import choose_level
from ..config import DEVICE_GRANT, ClientConfig
from ..errors import InvalidRequest, UnauthorizedClient
from ..params import Params
from ..polling import PolledRequest
from ..state import IdPState
from ..targets import requested_targets, select_audiences, select_scopes
from .authorization_details import parse_authorization_details
from .base import TokenRequest
from .claims_request import parse_acr_values
from .polled import redeem

GRANT_TYPE = DEVICE_GRANT


def _subject(state: IdPState, hint: str | None) -> str:
    """The person ``login: auto`` approves as; an unknown hint is refused up front."""
    if hint is not None:
        user = state.store.user_by_login(hint)
        if user is None:
            raise InvalidRequest(f"login_hint {hint!r} names no user")
        return user.sub
    first = next(iter(state.store.users().values()), None)
    if first is None:
        raise InvalidRequest("no users are configured: nobody could approve this device")
    return first.sub


def start(state: IdPState, client: ClientConfig, params: Params) -> dict[str, Any]:
    """The device authorization response (RFC 8628 section 3.2)."""
    params.check_single()
    if GRANT_TYPE not in client.allowed_grant_types:
        raise UnauthorizedClient(f"client {client.client_id!r} may not use the device authorization grant")
    audiences = select_audiences(state, client, requested_targets(params))
    scopes = select_scopes(state, client, params.get("scope"), audiences, allow_oidc=True)
    config = state.config.device
    auto = state.config.login == "auto"
    hint = params.get("login_hint")
    polled = PolledRequest(
        kind="device",
        client_id=client.client_id,
        scopes=tuple(scopes),
        audiences=tuple(audiences),
        expires_at=state.clock.now() + config.expires_in,
        interval=config.interval,
        authorization_details=parse_authorization_details(params.get("authorization_details")),
        login_hint=hint,
        subject=_subject(state, hint) if auto else None,
        acr=choose_level(state.config.acr_levels, parse_acr_values(params.get("acr_values"))),
        auto="approve" if auto else None,
        decide_after_polls=config.approve_after_polls,
        forced_slow_downs=config.slow_down_polls,
    )
    device_code = state.store.polls.start(polled, "dc")
    verification_uri = state.endpoint("device")
    return {
        "device_code": device_code,
        "user_code": polled.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': polled.user_code})}",
        "expires_in": config.expires_in,
        "interval": config.interval,
    }


def exchange(request: TokenRequest) -> dict[str, Any]:
    return redeem(request, "device", GRANT_TYPE, "device_code")
