"""The token response of the user flows: access token, ID token and refresh token together.

Shared by the code grant and the refresh grant so both answer in the same shape, and every
token of one authorization carries the same ``grant_id`` (revoked together on code replay or
refresh-token reuse).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import ClientConfig, UserConfig
from ..grants import RefreshRecord, token_key
from ..state import IdPState
from ..store import IssuedToken
from ..tokens import opaque_token
from .base import SignIn, bearer_response, issue_access_token, issue_id_token, user_token_audiences


def gets_refresh_token(client: ClientConfig, scopes: Sequence[str]) -> bool:
    """Refresh tokens need the grant, and for OIDC requests ``offline_access`` too."""
    if "refresh_token" not in client.allowed_grant_types:
        return False
    return "openid" not in scopes or "offline_access" in scopes


def issue_refresh_token(
    state: IdPState,
    *,
    client_id: str,
    subject: str,
    scopes: Sequence[str],
    audiences: Sequence[str],
    auth_time: float,
    family: str,
    acr: str | None = None,
) -> str:
    """A new opaque refresh token in ``family``, remembered for introspection and revocation."""
    token = opaque_token("rt")
    now = int(state.clock.now())
    expires = now + state.config.refresh_token_ttl
    jti = f"rt-{token_key(token)[:32]}"
    state.store.remember(
        IssuedToken(
            jti=jti,
            kind="refresh",
            client_id=client_id,
            subject=subject,
            scope=tuple(scopes),
            audiences=tuple(audiences),
            issued_at=now,
            expires_at=expires,
            grant_id=family,
        )
    )
    record = RefreshRecord(
        family=family,
        client_id=client_id,
        subject=subject,
        scopes=tuple(scopes),
        audiences=tuple(audiences),
        auth_time=auth_time,
        expires_at=expires,
        jti=jti,
        acr=acr,
    )
    state.store.grants.add_refresh(token, record)
    return token


def user_token_response(
    state: IdPState,
    *,
    client: ClientConfig,
    user: UserConfig,
    scopes: Sequence[str],
    audiences: Sequence[str],
    grant_id: str,
    auth_time: float,
    nonce: str | None,
    ceiling: tuple[Sequence[str], Sequence[str]] | None = None,
    acr: str | None = None,
    id_token_claims: Sequence[str] = (),
) -> dict[str, Any]:
    """The JSON token response for ``user``.

    ``ceiling`` is the (scopes, audiences) of the refresh family when refreshing: the new
    refresh token keeps the original grant (RFC 6749 section 6) even when this access token
    was narrowed.
    """
    access_token, record = issue_access_token(
        state,
        client_id=client.client_id,
        subject=user.sub,
        audiences=user_token_audiences(state, audiences, scopes),
        scope=scopes,
        grant_id=grant_id,
        user=user,
        sign_in=SignIn(auth_time, acr),
    )
    body = bearer_response(access_token, record)
    if "openid" in scopes:
        body["id_token"] = issue_id_token(
            state,
            client_id=client.client_id,
            user=user,
            nonce=nonce,
            auth_time=auth_time,
            access_token=access_token,
            scopes=scopes,
            acr=acr,
            requested=id_token_claims,
        )
    family_scopes, family_audiences = ceiling or (scopes, audiences)
    if gets_refresh_token(client, family_scopes):
        body["refresh_token"] = issue_refresh_token(
            state,
            client_id=client.client_id,
            subject=user.sub,
            scopes=family_scopes,
            audiences=family_audiences,
            auth_time=auth_time,
            family=grant_id,
            acr=acr,
        )
    return body
