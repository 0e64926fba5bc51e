"""The authorization code grant with PKCE (OAuth 2.1 section 4.1) and OpenID Connect.

A code is single use: a second valid redemption is refused and revokes every token issued
from it (section 4.1.3); a redemption refused for its parameters neither uses the code up nor
revokes anything. It lives ``config.code_ttl`` seconds by ``state.clock`` and is bound to
the client, the redirect URI and the PKCE challenge. The verifier is required exactly when
a challenge was sent.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .. import base64url
from ..errors import InvalidGrant, InvalidRequest
from ..grants import AuthorizationCode, AuthorizationRequest, new_id
from ..issuance import user_token_response
from ..state import IdPState
from ..targets import narrow_to_resources, requested_targets, select_audiences
from ..tokens import opaque_token
from .authorization_request import PKCE_VALUE
from .base import TokenRequest, require_dpop_key

GRANT_TYPE = "authorization_code"


def issue_code(
    state: IdPState, request: AuthorizationRequest, *, subject: str, auth_time: float, acr: str | None = None
) -> str:
    """A fresh code for an approved request, bound to everything the request carried."""
    code = opaque_token("code")
    record = AuthorizationCode(
        request=request,
        subject=subject,
        auth_time=auth_time,
        expires_at=state.clock.now() + state.config.code_ttl,
        grant_id=new_id("grant"),
        acr=acr,
    )
    state.store.grants.add_code(code, record)
    return code


def pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64url.encode(digest)


def _check_pkce(request: AuthorizationRequest, verifier: str | None) -> None:
    challenge = request.code_challenge
    if challenge is None:
        if verifier is not None:
            raise InvalidGrant("code_verifier sent, but the authorization request had no code_challenge")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required: the authorization request sent a code_challenge")
    if not PKCE_VALUE.fullmatch(verifier):
        raise InvalidGrant("code_verifier is malformed (RFC 7636 section 4.1)")
    computed = pkce_s256(verifier) if request.code_challenge_method == "S256" else verifier
    if not hmac.compare_digest(computed.encode("ascii"), challenge.encode("ascii")):
        raise InvalidGrant("code_verifier does not match the code_challenge")


def _check_dpop_jkt(request: AuthorizationRequest, jkt: str | None) -> None:
    """RFC 9449 §10: a code requested with ``dpop_jkt`` is redeemed only with a proof of that key."""
    require_dpop_key(
        request.dpop_jkt,
        jkt,
        missing="the authorization request sent dpop_jkt: send a DPoP proof of that key",
        other="the DPoP proof's key is not the one dpop_jkt named at /authorize",
    )


def _check_redirect(request: AuthorizationRequest, redirect_uri: str | None) -> None:
    if redirect_uri is None:
        if request.redirect_uri_sent:
            raise InvalidRequest("redirect_uri is required: the authorization request sent one")
        return
    if redirect_uri != request.redirect_uri:
        raise InvalidGrant("redirect_uri differs from the one in the authorization request")


def _find(state: IdPState, client_id: str, code: str) -> AuthorizationCode:
    record = state.store.grants.code(code)
    if record is None or record.request.client_id != client_id:
        raise InvalidGrant("unknown authorization code, or one issued to another client")
    return record


def _consume(state: IdPState, record: AuthorizationCode) -> None:
    """Mark the code used; a second *valid* redemption revokes what the first one issued.

    Called only once the request has proven it holds the code's bindings (redirect URI,
    PKCE verifier), so a party holding a leaked code without the verifier can neither burn
    it nor revoke the user's tokens (RFC 9700 section 4.1.1; OAuth 2.1 section 4.1.3).
    """
    if state.store.grants.consume_code(record):
        state.store.revoke_grant(record.grant_id)
        raise InvalidGrant("the authorization code was already used; tokens issued from it are revoked")
    if record.expires_at <= state.clock.now():
        raise InvalidGrant("the authorization code has expired")


def exchange(request: TokenRequest) -> dict[str, Any]:
    state, client, params = request.state, request.client, request.params
    record = _find(state, client.client_id, params.require("code"))
    authorization = record.request
    _check_redirect(authorization, params.get("redirect_uri"))
    _check_pkce(authorization, params.get("code_verifier"))
    _check_dpop_jkt(authorization, request.dpop_jkt)
    audiences, scopes = list(authorization.audiences), list(authorization.scopes)
    targets = requested_targets(params)
    if targets:  # RFC 8707 section 2.2: the token request may pick among the granted resources
        audiences = select_audiences(state, client, targets, allowed=authorization.audiences)
        scopes = narrow_to_resources(state, scopes, audiences)
    _consume(state, record)
    user = state.store.user(record.subject)
    if user is None:
        raise InvalidGrant("the user of this code no longer exists")
    if authorization.userinfo_claims:
        state.store.grants.remember_userinfo_claims(record.grant_id, authorization.userinfo_claims)
    return user_token_response(
        state,
        client=client,
        user=user,
        scopes=scopes,
        audiences=audiences,
        grant_id=record.grant_id,
        auth_time=record.auth_time,
        nonce=authorization.nonce,
        ceiling=(authorization.scopes, authorization.audiences),
        acr=record.acr,
        id_token_claims=authorization.id_token_claims,
        jkt=request.dpop_jkt,
    )
