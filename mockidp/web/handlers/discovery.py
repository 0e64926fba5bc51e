"""Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery).

Both documents are the same and advertise only what this server implements.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...flows import GRANTS
from ...flows.base import OIDC_SCOPES
from ...state import IdPState
from ..keys import STATE
from ..responses import json_response


def metadata(state: IdPState) -> dict[str, Any]:
    with state.store.lock:
        api_scopes = {s for api in state.store.apis.values() for s in api.scopes}
        client_scopes = {s for c in state.store.clients.values() for s in c.scopes}
    scopes = sorted(api_scopes | client_scopes | OIDC_SCOPES)
    return {
        "issuer": state.issuer,
        "token_endpoint": state.endpoint("token"),
        "jwks_uri": state.endpoint("jwks"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "grant_types_supported": sorted(GRANTS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [state.keys.alg],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash"],
    }


async def handle(request: web.Request) -> web.StreamResponse:
    return json_response(metadata(request.app[STATE]))
