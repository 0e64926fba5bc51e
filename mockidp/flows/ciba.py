"""Client-initiated backchannel authentication, poll mode (OpenID CIBA Core 1.0).

An agent asks, over the back channel, that a person named by a hint approve something
(``binding_message``, RFC 9396 ``authorization_details``); the person decides on another
device, simulated by ``ciba.auto`` or the control API; the agent polls the token endpoint.
``start`` answers the backchannel authentication request (sections 7.1-7.3, errors 13),
``exchange`` the token request (sections 10-11).
"""

from __future__ import annotations

import re
from typing import Any

from ..acr import choose_level
from ..config import CIBA_GRANT, ClientConfig
from ..errors import InvalidBindingMessage, InvalidRequest, InvalidToken, UnauthorizedClient, UnknownUserId
from ..params import Params
from ..polling import PolledRequest
from ..state import IdPState
from ..targets import requested_targets, select_audiences, select_scopes
from ..verify import verify_id_token_hint
from .authorization_details import parse_authorization_details
from .base import TokenRequest
from .claims_request import parse_acr_values
from .polled import redeem, require_enabled

GRANT_TYPE = CIBA_GRANT
HINTS = ("login_hint", "id_token_hint", "login_hint_token")
#: a binding message is shown on a small screen: short, printable, one line
MAX_BINDING_MESSAGE = 128
_PRINTABLE_LINE = re.compile(r"[^\x00-\x1f\x7f]*")
#: the longest ``requested_expiry`` honoured, in seconds
MAX_REQUESTED_EXPIRY = 86_400


def _subject(state: IdPState, params: Params) -> str:
    """The person the hint names (exactly one hint, section 7.1)."""
    sent = [name for name in HINTS if name in params]
    if len(sent) != 1:
        raise InvalidRequest("send exactly one of login_hint, id_token_hint and login_hint_token")
    if sent[0] == "login_hint_token":
        raise InvalidRequest("login_hint_token is not supported here; use login_hint or id_token_hint")
    if sent[0] == "id_token_hint":
        try:
            claims = verify_id_token_hint(params.require("id_token_hint"), state.keys.find, state.issuer)
        except InvalidToken:
            raise InvalidRequest("id_token_hint is not an ID token issued by this provider") from None
        user = state.store.user(str(claims["sub"]))
    else:
        user = state.store.user_by_login(params.require("login_hint"))
    if user is None:
        raise UnknownUserId("the hint names no user this provider knows")
    return user.sub


def _binding_message(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or len(value) > MAX_BINDING_MESSAGE or not _PRINTABLE_LINE.fullmatch(value):
        raise InvalidBindingMessage(
            f"binding_message must be one line of 1 to {MAX_BINDING_MESSAGE} printable characters"
        )
    return value


def _expires_in(state: IdPState, value: str | None) -> int:
    if value is None:
        return state.config.ciba.expires_in
    if not value.isdigit() or not 0 < int(value) <= MAX_REQUESTED_EXPIRY:
        raise InvalidRequest(
            f"requested_expiry must be a whole number of seconds, 1 to {MAX_REQUESTED_EXPIRY}"
        )
    return int(value)


def _check_request(client: ClientConfig, params: Params) -> None:
    params.check_single()
    if GRANT_TYPE not in client.allowed_grant_types:
        raise UnauthorizedClient(f"client {client.client_id!r} may not use CIBA")
    if "request" in params:
        raise InvalidRequest("signed authentication requests are not supported; send the parameters")
    if "user_code" in params:
        raise InvalidRequest("user_code is not supported (backchannel_user_code_parameter_supported: false)")
    if "openid" not in (params.get("scope") or "").split(" "):
        raise InvalidRequest("a CIBA request must ask for the openid scope (CIBA Core section 7.1)")


def start(state: IdPState, client: ClientConfig, params: Params) -> dict[str, Any]:
    """The authentication request acknowledgement (section 7.3)."""
    require_enabled(state, "ciba", GRANT_TYPE)
    _check_request(client, params)
    audiences = select_audiences(state, client, requested_targets(params))
    scopes = select_scopes(state, client, params.get("scope"), audiences, allow_oidc=True)
    config = state.config.ciba
    expires_in = _expires_in(state, params.get("requested_expiry"))
    polled = PolledRequest(
        kind="ciba",
        client_id=client.client_id,
        scopes=tuple(scopes),
        audiences=tuple(audiences),
        expires_at=state.clock.now() + expires_in,
        interval=config.interval,
        subject=_subject(state, params),
        login_hint=params.get("login_hint"),
        authorization_details=parse_authorization_details(params.get("authorization_details")),
        binding_message=_binding_message(params.get("binding_message")),
        acr=choose_level(state.config.acr_levels, parse_acr_values(params.get("acr_values"))),
        auto=None if config.auto == "none" else config.auto,
        decide_after_polls=config.after_polls,
    )
    auth_req_id = state.store.polls.start(polled, "ar")
    return {"auth_req_id": auth_req_id, "expires_in": expires_in, "interval": config.interval}


def exchange(request: TokenRequest) -> dict[str, Any]:
    return redeem(request, "ciba", GRANT_TYPE, "auth_req_id")
