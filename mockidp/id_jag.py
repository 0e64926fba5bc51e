"""The Identity Assertion JWT Authorization Grant (ID-JAG, draft-ietf-oauth-identity-assertion-
authz-grant; MCP's enterprise-managed authorization): its names and its claims.

Two legs, each an ordinary mockidp in its own role:
- the enterprise IdP issues an ID-JAG by token exchange (``mockidp.flows.token_exchange``,
  ``requested_token_type`` = :data:`TOKEN_TYPE`) from the user's ID token;
- the resource authorization server redeems it with the jwt-bearer grant
  (``mockidp.flows.jwt_bearer``) when the enterprise IdP is one of its ``trusted_issuers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .tokens import new_jti

#: the JWT ``typ`` of an ID-JAG (draft §3.1)
TYP = "oauth-id-jag+jwt"
#: the token type URI in token exchange (draft §4.3)
TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"
#: the value a resource authorization server lists in ``authorization_grant_profiles_supported``
GRANT_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"
#: an ID-JAG is a short-lived handoff: this many seconds at most
TTL = 300


def id_jag_claims(
    *,
    issuer: str,
    subject: str,
    audience: str,
    client_id: str,
    resources: Sequence[str],
    scope: Sequence[str],
    now: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of an ID-JAG (draft §3.1): ``aud`` is the resource authorization server's
    issuer, ``client_id`` the client there, ``resource`` what the token may be for."""
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "jti": new_jti(),
        "iat": issued,
        "exp": issued + TTL,
    }
    if resources:
        claims["resource"] = resources[0] if len(resources) == 1 else list(resources)
    if scope:
        claims["scope"] = " ".join(scope)
    claims.update(extra or {})
    return claims


def resources_of(claims: dict[str, Any]) -> list[str] | None:
    """The ``resource`` claim as a list; ``None`` when it is absent or not strings."""
    value = claims.get("resource")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None
