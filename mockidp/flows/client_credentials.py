"""The client credentials grant (RFC 6749 section 4.4): a machine acting for itself."""

from __future__ import annotations

from typing import Any

from ..issuance import bearer_response, issue_access_token
from ..targets import requested_targets, select_audiences, select_scopes
from .base import TokenRequest

GRANT_TYPE = "client_credentials"


def exchange(request: TokenRequest) -> dict[str, Any]:
    client, state, params = request.client, request.state, request.params
    audiences = select_audiences(state, client, requested_targets(params))
    scope = select_scopes(state, client, params.get("scope"), audiences)
    token, record = issue_access_token(
        state,
        client_id=client.client_id,
        subject=client.client_id,
        audiences=audiences,
        scope=scope,
        jkt=request.dpop_jkt,
    )
    return bearer_response(token, record)
