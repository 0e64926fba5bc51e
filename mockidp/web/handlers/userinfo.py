"""UserInfo endpoint (OIDC Core section 5.3): the signed-in user's claims, GET or POST."""

from __future__ import annotations

from aiohttp import web

from ...claims import user_claims
from ...errors import InvalidToken, OAuthError
from ...validation import validate_access_token
from ..bearer import bearer_token, challenge, invalid_token, missing_token
from ..keys import CLIENT_ID, STATE
from ..responses import json_response


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    token = await bearer_token(request)
    if token is None:
        return missing_token()
    try:
        claims = validate_access_token(state, token)
    except InvalidToken as exc:
        raise invalid_token(exc) from None
    if isinstance(claims.get("client_id"), str):
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
    with state.store.lock:
        user = state.store.users.get(claims["sub"])
    if user is None:
        raise invalid_token(InvalidToken("the access token's subject is not a user"))
    return json_response({**user_claims(user, scopes), "sub": user.sub}, no_store=True)
