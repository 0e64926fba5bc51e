"""The refresh token grant (OAuth 2.1 section 4.3), with rotation on every use.

A refresh token is bound to its client. Each use rotates it; presenting a rotated one again
means it leaked, so the whole family (refresh and access tokens) is revoked (section 4.3.1).
``scope`` and ``resource`` may narrow the original grant, never widen it.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import InvalidGrant, InvalidScope
from ..grants import RefreshRecord
from ..issuance import user_token_response
from ..state import IdPState
from ..targets import narrow_to_resources, requested_targets, select_audiences
from .base import TokenRequest, require_dpop_key

GRANT_TYPE = "refresh_token"


def _find(state: IdPState, client_id: str, token: str) -> RefreshRecord:
    """The token's live record; presenting an already rotated token revokes its family."""
    record = state.store.grants.refresh_record(token)
    if record is None or record.client_id != client_id:
        raise InvalidGrant("unknown refresh token, or one issued to another client")
    if record.rotated:
        _reused(state, record)
    if state.store.is_revoked(record.jti):
        raise InvalidGrant("the refresh token has been revoked")
    if record.expires_at <= state.clock.now():
        raise InvalidGrant("the refresh token has expired")
    return record


def _check_binding(record: RefreshRecord, jkt: str | None) -> None:
    """RFC 9449 §5: a bound refresh token (a public client's) needs a proof of the same key."""
    require_dpop_key(
        record.jkt,
        jkt,
        missing="this refresh token is DPoP-bound: send a DPoP proof of its key",
        other="the refresh token is bound to another DPoP key",
    )


def _reused(state: IdPState, record: RefreshRecord) -> NoReturn:
    state.store.revoke_grant(record.family)
    raise InvalidGrant("the refresh token was already used; its whole family is revoked")


def _rotate(state: IdPState, record: RefreshRecord) -> None:
    """Mark the token used, once the request is known to be good: a refused request (a wider
    scope, another resource) issues nothing, so the token stays usable."""
    if state.store.grants.rotate_refresh(record):  # a concurrent request got there first
        _reused(state, record)


def _narrowed_scopes(record: RefreshRecord, requested: str | None) -> list[str]:
    if requested is None:
        return list(record.scopes)
    scopes: list[str] = []
    for scope in requested.split(" "):
        if not scope or scope in scopes:
            continue
        if scope not in record.scopes:
            raise InvalidScope(f"scope {scope!r} was not granted; a refresh may only narrow the scope")
        scopes.append(scope)
    return scopes


def exchange(request: TokenRequest) -> dict[str, Any]:
    state, client, params = request.state, request.client, request.params
    record = _find(state, client.client_id, params.require("refresh_token"))
    _check_binding(record, request.dpop_jkt)
    scopes = _narrowed_scopes(record, params.get("scope"))
    targets = requested_targets(params)
    audiences = list(record.audiences)
    if targets:  # RFC 8707 section 2.2: narrower audiences narrow the scopes too
        audiences = select_audiences(state, client, targets, allowed=record.audiences)
        scopes = narrow_to_resources(state, scopes, audiences)
    _rotate(state, record)
    user = state.store.user(record.subject)
    if user is None:
        state.store.revoke_grant(record.family)
        raise InvalidGrant("the user of this refresh token no longer exists")
    return user_token_response(
        state,
        client=client,
        user=user,
        scopes=scopes,
        audiences=audiences,
        grant_id=record.family,
        auth_time=record.auth_time,
        nonce=None,
        ceiling=(record.scopes, record.audiences),
        acr=record.acr,
        id_token_claims=record.id_token_claims,
        jkt=request.dpop_jkt,
    )
