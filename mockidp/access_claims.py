"""The custom claims of one access token: config (per API, client, user), then planned claims.

Merged in this order, a later source winning per claim name: every target API's
``access_token_claims``, the client's, the signed-in user's, then the claims planned for the
token endpoint (``claims_plan``). Templates are filled in from the request (``claim_templates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .claim_templates import TemplateContext, render
from .config import UserConfig
from .state import IdPState


def custom_claims(
    state: IdPState,
    *,
    client_id: str,
    subject: str,
    audiences: Sequence[str],
    scope: Sequence[str],
    user: UserConfig | None,
    planned: bool,
) -> dict[str, Any]:
    """Every custom claim for this token; ``planned`` takes (uses up) the token endpoint's plans."""
    apis = state.store.apis_for(audiences)
    client = state.store.client(client_id)
    sources = [api.access_token_claims for api in apis]
    if client is not None:
        sources.append(client.access_token_claims)
    if user is not None:
        sources.append(user.access_token_claims)
    if planned:
        sources.append(state.claims_plan.take(client_id))
    if not any(sources):
        return {}
    context = TemplateContext(
        client_id=client_id,
        sub=subject,
        scope=" ".join(scope),
        resource=" ".join(a for a in audiences if a != state.issuer),
        now=int(state.clock.now()),
        user_claims=user.claims if user is not None else None,
    )
    merged: dict[str, Any] = {}
    for source in sources:
        merged.update(render(source, context))
    return merged
