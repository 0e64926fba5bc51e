"""UserInfo endpoint (OIDC Core section 5.3): the signed-in user's claims, GET or POST.

Userinfo is a protected resource of the IdP, so it accepts only access tokens meant for it
(RFC 9068 section 4; RFC 9700 section 2.3): ``aud`` names the issuer or the userinfo URL,
the token passes the same strict checks as the mock APIs (``mockidp.verify``, with no clock
leeway: the IdP's own clock is the reference), and the IdP issued it from a user's grant,
never from client credentials. A DPoP-bound token must come with the ``DPoP`` scheme and a
proof (RFC 9449 §7), so a stolen bound token reads nobody's claims.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...claims import user_claims
from ...dpop import ResourceRequest, resource_refusal
from ...errors import InvalidToken, OAuthError, safe_description
from ...state import IdPState
from ...verify import DPOP_ALGS, AccessTokenPolicy, verify
from ..bearer import bearer_token, challenge, invalid_token, missing_token, scheme_and_token
from ..keys import CLIENT_ID, STATE
from ..responses import json_response


def userinfo_audiences(state: IdPState) -> tuple[str, str]:
    """What ``aud`` must name for userinfo: the issuer, or the endpoint's own URL."""
    return state.issuer, state.endpoint("userinfo")


def _user_token_claims(state: IdPState, token: str) -> dict[str, Any]:
    policy = AccessTokenPolicy(issuer=state.issuer, audiences=userinfo_audiences(state), leeway=0)
    try:
        claims = verify(token, state.keys.find, policy, state.clock.now(), revoked=state.store.is_revoked)
    except InvalidToken as exc:
        reason = f"the access token is not valid for userinfo: {exc.description}"
        raise invalid_token(InvalidToken(reason)) from None
    record = state.store.token(claims["jti"])
    # user flows (code, refresh, minting for a subject) record their grant; client credentials do not
    if (
        record is None
        or record.grant_id is None
        or (record.kind, record.subject) != ("access", claims["sub"])
    ):
        reason = "the access token's subject is not a user: it was not issued from a user's grant"
        raise invalid_token(InvalidToken(reason))
    return claims


def _check_binding(
    state: IdPState, request: web.Request, scheme: str, token: str, claims: dict[str, Any]
) -> None:
    """RFC 9449 §7: a DPoP-bound token only with the DPoP scheme and a proof for this request."""
    now = state.clock.now()
    call = ResourceRequest(
        method=request.method,
        url=state.endpoint("userinfo"),
        scheme=scheme,
        token=token,
        claims=claims,
        now=now,
    )
    refusal = resource_refusal(
        request.headers,
        call,
        remember=lambda jti, until: state.store.remember_jti("dpop:userinfo", jti, until, now),
    )
    if refusal is not None:
        params = f'error="{refusal.error}", error_description="{safe_description(refusal.description)}"'
        challenge = f'DPoP {params}, algs="{" ".join(DPOP_ALGS)}"'
        raise OAuthError(
            refusal.description,
            error=refusal.error,
            status=401,
            headers={"WWW-Authenticate": challenge, **refusal.headers},
        )


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    sent = scheme_and_token(request.headers)
    token: str | None
    if sent is not None and sent[0] == "dpop" and sent[1]:
        scheme, token = sent
    else:
        scheme, token = "bearer", await bearer_token(request)
    if token is None:
        return missing_token()
    claims = _user_token_claims(state, token)
    _check_binding(state, request, scheme, token, claims)
    request[CLIENT_ID] = claims["client_id"]
    scopes = str(claims.get("scope", "")).split()
    if "openid" not in scopes:
        description = "the access token was not granted the openid scope"
        raise OAuthError(
            description,
            error="insufficient_scope",
            status=403,
            headers=challenge("insufficient_scope", description, scope="openid"),
        )
    user = state.store.user(claims["sub"])
    if user is None:
        raise invalid_token(InvalidToken("the access token's subject is not a user"))
    # OIDC Core 5.5: claims the authorization request's ``claims`` parameter asked for here
    record = state.store.token(claims["jti"])
    requested = state.store.grants.requested_userinfo_claims(record.grant_id if record else None)
    return json_response({**user_claims(user, scopes, requested), "sub": user.sub}, no_store=True)
