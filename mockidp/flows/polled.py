"""What the device flow and CIBA share at the token endpoint: poll, then issue the user's tokens.

The polling engine (``mockidp.polling``) answers pending, slow_down, denied and expired; an
approved request is issued here once, with its ``authorization_details`` (RFC 9396 sections 7
and 9.1) in the access token and the token response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidGrant, UnsupportedGrantType
from ..grants import new_id
from ..issuance import user_token_response
from ..polling import Kind, PolledRequest
from ..state import IdPState
from .base import TokenRequest


def redeem(request: TokenRequest, kind: Kind, grant_type: str, secret_param: str) -> dict[str, Any]:
    state, client = request.state, request.client
    require_enabled(state, kind, grant_type)
    secret = request.params.require(secret_param)
    polled = state.store.polls.poll(secret, kind, client.client_id, state.clock.now())
    user = state.store.user(polled.subject or "")
    if user is None:
        raise InvalidGrant("the person who approved this request no longer exists")
    body = user_token_response(
        state,
        client=client,
        user=user,
        scopes=polled.scopes,
        audiences=polled.audiences,
        grant_id=new_id("grant"),
        auth_time=polled.auth_time or state.clock.now(),
        nonce=None,
        acr=polled.acr,
        access_claims=_details_claim(polled),
    )
    if polled.authorization_details is not None:
        body["authorization_details"] = list(polled.authorization_details)
    return body


def _details_claim(polled: PolledRequest) -> Mapping[str, Any] | None:
    if polled.authorization_details is None:
        return None
    return {"authorization_details": list(polled.authorization_details)}


def enabled(state: IdPState, kind: Kind) -> bool:
    """Whether the grant is switched on (``device.enabled``, ``ciba.enabled``)."""
    return state.config.device.enabled if kind == "device" else state.config.ciba.enabled


def require_enabled(state: IdPState, kind: Kind, grant_type: str) -> None:
    if not enabled(state, kind):
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not enabled on this IdP")
