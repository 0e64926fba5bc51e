"""Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery).

Both documents are the same and advertise only what this server implements.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ... import id_jag
from ...claims import supported_claims
from ...client_keys import ASSERTION_ALGS
from ...flows import enabled_grants, jwt_bearer, token_exchange
from ...state import IdPState
from ...targets import OIDC_SCOPES
from ...verify import DPOP_ALGS
from ..keys import STATE
from ..responses import json_response

#: how confidential clients authenticate, at the token, introspection and revocation endpoints
CLIENT_AUTH = ("client_secret_basic", "client_secret_post", "private_key_jwt")


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
        "grant_types_supported": enabled_grants(state),
        "token_endpoint_auth_methods_supported": [*CLIENT_AUTH, "none"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [state.keys.alg],
        "claims_supported": supported_claims(with_levels=bool(state.config.acr_levels)),
        # DPoP (RFC 9449 §5.1) is always on: a token request with a proof gets a bound token
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),
        **user_flow_metadata(state),
        **_assertion_metadata(state),
    }
    if state.config.dynamic_registration:
        document["registration_endpoint"] = state.endpoint("register")
    if state.config.cimd.enabled:
        # https client_id URLs naming their metadata documents (mockidp.client_documents)
        document["client_id_metadata_document_supported"] = True
    document.update(polled_grant_metadata(state))
    return state.misbehaviour.metadata(document)


def polled_grant_metadata(state: IdPState) -> dict[str, Any]:
    """RFC 8628 section 4 and CIBA Core section 4, only for what is enabled."""
    document: dict[str, Any] = {}
    if state.config.device.enabled:
        document["device_authorization_endpoint"] = state.endpoint("device_authorization")
    if state.config.ciba.enabled:
        document["backchannel_authentication_endpoint"] = state.endpoint("bc-authorize")
        document["backchannel_token_delivery_modes_supported"] = ["poll"]
        document["backchannel_user_code_parameter_supported"] = False
    return document


def user_flow_metadata(state: IdPState) -> dict[str, Any]:
    """The endpoints and capabilities of the user flows (authorization code, OIDC, logout)."""
    client_auth = list(CLIENT_AUTH)
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
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": [*client_auth, "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": True,
        **_acr_metadata(state),
    }


def _assertion_metadata(state: IdPState) -> dict[str, Any]:
    """ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant): the IdP leg issues them by token
    exchange (draft-ietf-oauth-identity-chaining), the resource AS redeems them (jwt-bearer)."""
    document: dict[str, Any] = {}
    if token_exchange.is_enabled(state):
        document["identity_chaining_requested_token_types_supported"] = [id_jag.TOKEN_TYPE]
    if jwt_bearer.is_enabled(state):
        document["authorization_grant_profiles_supported"] = [id_jag.GRANT_PROFILE]
    return document


def _acr_metadata(state: IdPState) -> dict[str, Any]:
    """``acr_values_supported`` (OIDC Discovery 3), only when sign-in levels are configured."""
    levels = list(state.config.acr_levels)
    return {"acr_values_supported": levels} if levels else {}


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not state.misbehaviour.serves_metadata_at(request.path, state.issuer_path):
        raise web.HTTPNotFound()
    return json_response(metadata(state))
