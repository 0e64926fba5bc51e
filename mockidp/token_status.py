"""Introspection (RFC 7662) and revocation (RFC 7009) of the tokens this IdP issued.

Library functions, so the HTTP handlers stay thin and tests or mock resource servers can
ask the same questions without HTTP. Access tokens are recognised by signature; refresh
tokens by their opaque value.
"""

from __future__ import annotations

from typing import Any

from .dpop import bound_jkt
from .errors import InvalidToken, UnauthorizedClient
from .grants import RefreshRecord
from .state import IdPState
from .tokens import audience_claim
from .verify import MAX_ISSUED_TOKEN, RESOURCE_SERVER_LEEWAY, AccessTokenPolicy, verify, verify_jws

INACTIVE: dict[str, Any] = {"active": False}
#: RFC 7662 section 2.2 members, and RFC 9396 section 9.2's ``authorization_details``
INTROSPECTED = (
    "scope",
    "client_id",
    "sub",
    "aud",
    "iss",
    "exp",
    "iat",
    "nbf",
    "jti",
    "authorization_details",
)


def _live_refresh(state: IdPState, token: str) -> RefreshRecord | None:
    record = state.store.grants.refresh_record(token)
    if record is None or record.rotated or state.store.is_revoked(record.jti):
        return None
    return record if record.expires_at > state.clock.now() else None


def introspection_policy(state: IdPState) -> AccessTokenPolicy:
    """The IdP's own strict access-token policy, for any audience, by the IdP's own clock.

    A token any strict resource server of this IdP would refuse is not active (RFC 7662 §2.2).
    Expiry is exact; a token dated up to a minute ahead (``nbf``/``iat``, clock skew: RFC 7519
    §4.1.5) is active, as the mock APIs accept it.
    """
    return AccessTokenPolicy(
        issuer=state.issuer, audiences=None, leeway=0, future_leeway=RESOURCE_SERVER_LEEWAY
    )


def introspect(state: IdPState, token: str) -> dict[str, Any]:
    """The RFC 7662 answer: the token's claims if active, else just ``{"active": false}``."""
    policy = introspection_policy(state)
    try:
        claims = verify(token, state.keys.find, policy, state.clock.now(), revoked=state.store.is_revoked)
    except InvalidToken:
        return _introspect_refresh(state, token)
    out: dict[str, Any] = {k: claims[k] for k in INTROSPECTED if k in claims}
    user = state.store.user_by_login(str(claims.get("sub")))
    if user is not None and user.sub == claims.get("sub"):
        out["username"] = user.login_name
    # RFC 9449 §6.2: a bound token says so, with its key's thumbprint
    jkt = bound_jkt(claims)
    if jkt is not None:
        out["cnf"] = {"jkt": jkt}
    return {"active": True, "token_type": "DPoP" if jkt else "Bearer", **out}


def _introspect_refresh(state: IdPState, token: str) -> dict[str, Any]:
    record = _live_refresh(state, token)
    if record is None:
        return dict(INACTIVE)
    issued = state.store.token(record.jti)
    out: dict[str, Any] = {
        "active": True,
        "token_type": "refresh_token",
        "scope": " ".join(record.scopes),
        "client_id": record.client_id,
        "sub": record.subject,
        "iss": state.issuer,
        "exp": int(record.expires_at),
    }
    if issued is not None:
        out["iat"] = issued.issued_at
    if record.audiences:
        out["aud"] = audience_claim(record.audiences)
    return out


def revoke(state: IdPState, client_id: str, token: str) -> bool:
    """Revoke ``token`` for ``client_id``; a refresh token takes its whole family with it.

    Unknown tokens are ignored (RFC 7009 section 2.2); another client's token is refused.
    Returns whether something was revoked.
    """
    record = state.store.grants.refresh_record(token)
    if record is not None:
        if record.client_id != client_id:
            raise UnauthorizedClient("the token was issued to another client")
        return state.store.revoke_grant(record.family) > 0
    try:
        # any token this IdP signed, expired or not, can be revoked
        _, claims = verify_jws(token, state.keys.find, max_length=MAX_ISSUED_TOKEN)
    except InvalidToken:
        return False
    if claims.get("iss") != state.issuer or not isinstance(claims.get("jti"), str):
        return False
    issued = state.store.token(claims["jti"])
    if issued is None or issued.kind != "access":
        return False
    if issued.client_id != client_id:
        raise UnauthorizedClient("the token was issued to another client")
    return state.store.revoke_token(issued.jti)
