"""Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery).

Both documents are the same and advertise only what this server implements.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...claims import supported_claims
from ...flows import GRANTS
from ...state import IdPState
from ...targets import OIDC_SCOPES
from ...verify import DPOP_ALGS
from ..keys import STATE
from ..responses import json_response


def metadata(state: IdPState) -> dict[str, Any]:
    api_scopes = state.store.api_scopes()
    client_scopes = {s for c in state.store.clients().values() for s in c.scopes}
    scopes = sorted(api_scopes | client_scopes | OIDC_SCOPES)
    document: dict[str, Any] = {
        "issuer": state.misbehaviour.metadata_issuer or state.issuer,
        "token_endpoint": state.endpoint("token"),
        "jwks_uri": state.endpoint("jwks"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "grant_types_supported": sorted(GRANTS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [state.keys.alg],
        "claims_supported": supported_claims(with_levels=bool(state.config.acr_levels)),
        # DPoP (RFC 9449 §5.1) is always on: a token request with a proof gets a bound token
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),
        **user_flow_metadata(state),
    }
    if state.config.dynamic_registration:
        document["registration_endpoint"] = state.endpoint("register")
    return document


def user_flow_metadata(state: IdPState) -> dict[str, Any]:
    """The endpoints and capabilities of the user flows (authorization code, OIDC, logout)."""
    client_auth = ["client_secret_basic", "client_secret_post"]
    return {
        "authorization_endpoint": state.endpoint("authorize"),
        "userinfo_endpoint": state.endpoint("userinfo"),
        "introspection_endpoint": state.endpoint("introspect"),
        "revocation_endpoint": state.endpoint("revoke"),
        "end_session_endpoint": state.endpoint("end_session"),
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": [*client_auth, "none"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": True,
        **_acr_metadata(state),
    }


def _acr_metadata(state: IdPState) -> dict[str, Any]:
    """``acr_values_supported`` (OIDC Discovery 3), only when sign-in levels are configured."""
    levels = list(state.config.acr_levels)
    return {"acr_values_supported": levels} if levels else {}


async def handle(request: web.Request) -> web.StreamResponse:
    return json_response(metadata(request.app[STATE]))
