"""Minting a token without a token request: shared by ``MockIdP.issue_token`` and the control API.

The request is validated like a client credentials token request (client, audiences and
scopes must be registered), so a minted token is one the IdP could really have issued.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import MockIdPError
from .flows.base import issue_access_token, select_audiences, select_scopes, user_token_audiences
from .grants import new_id
from .state import IdPState


def issue_token(
    state: IdPState,
    *,
    client_id: str | None = None,
    subject: str | None = None,
    audience: str | Sequence[str] | None = None,
    scope: str | Sequence[str] | None = None,
    claims: Mapping[str, Any] | None = None,
    defects: Sequence[str] | None = None,
) -> str:
    """Mint a valid access token; ``client_id`` defaults to the first client, ``subject`` to it.

    ``defects`` names entries of the defect catalog (``mockidp.defects``); ``audience`` and
    ``scope`` then describe what the target API requires (``scope-insufficient`` leaves it out).
    The config's ``access_token_claims`` apply (``claims`` win over them); planned defects
    and planned claims of the token endpoint never apply here.
    """
    store = state.store
    if client_id is None:
        first = next(iter(store.clients()), None)
        if first is None:
            raise MockIdPError("no clients configured; pass client_id or add a client")
        client_id = first
    client = store.client(client_id)
    if client is None:
        raise MockIdPError(f"unknown client {client_id!r}")
    targets = [audience] if isinstance(audience, str) else list(audience or [])
    audiences = select_audiences(state, client, targets)
    requested = scope if isinstance(scope, str) or scope is None else " ".join(scope)
    scopes = select_scopes(state, client, requested, audiences, allow_oidc=True)
    # a token minted for a subject stands for that user's grant (userinfo accepts it), one
    # minted without a subject for the client itself, like client credentials
    for_user = subject is not None
    user = store.user(subject) if subject is not None else None
    token, _ = issue_access_token(
        state,
        client_id=client.client_id,
        subject=subject or client.client_id,
        audiences=user_token_audiences(state, audiences, scopes) if for_user else audiences,
        scope=scopes,
        grant_id=new_id("grant") if for_user else None,
        extra=dict(claims) if claims else None,
        defects=() if defects is None else defects,
        user=user,
        planned_claims=False,
    )
    return token
