"""Broken ID-JAGs (draft-ietf-oauth-identity-assertion-authz-grant): grants an enterprise IdP
leg hands out, for testing the resource authorization server that redeems them.

Each must be refused at the token endpoint with ``400 invalid_grant`` (RFC 7523 §3.1): the
resource AS checks ``typ``, that ``iss`` is an IdP it trusts, that ``aud`` is its own issuer,
that ``client_id`` is the authenticated client, the lifetime, and that the requested resource
is the one the ID-JAG grants (draft §5.1; MCP ext-auth enterprise-managed authorization).
"""

from __future__ import annotations

from typing import Any

from .edits import attacker_signature, set_claim, set_header
from .model import ID_JAG, Defect, MintContext

SPEC = "draft-ietf-oauth-identity-assertion-authz-grant §5.1; RFC 7523 §3"
#: where the wrong values point: no real party, so nothing is ever contacted
OTHER_AS = "https://other-authorization-server.mockidp.test"
OTHER_RESOURCE = "https://other-resource.mockidp.test/mcp"
UNTRUSTED_ISSUER = "https://untrusted-idp.mockidp.test"


def _expired(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**claims, "iat": ctx.now - 3900, "exp": ctx.now - 3600}


def _jag(name: str, description: str, check: str, consequence: str, **stages: Any) -> Defect:
    return Defect(
        name=name,
        group="id-jag",
        description=description,
        spec=stages.pop("spec", SPEC),
        expected_status=400,
        expected_error="invalid_grant",
        applies_to=ID_JAG,
        check=check,
        consequence=consequence,
        **stages,
    )


DEFECTS: tuple[Defect, ...] = (
    _jag(
        "id-jag-typ-jwt",
        '`typ: "JWT"` instead of `oauth-id-jag+jwt`',
        "jag-typ",
        "any other JWT the IdP signs for the AS (an ID token with the AS as audience) is redeemed as a grant",
        spec=f"{SPEC}; RFC 8725 §3.11",
        header=set_header(typ="JWT"),
        touches=frozenset({"header:typ"}),
    ),
    _jag(
        "id-jag-aud-wrong",
        "`aud` names another authorization server",
        "jag-aud",
        "an ID-JAG the IdP issued for another resource AS is replayed here (RFC 7523 §3 item 3)",
        claims=set_claim("aud", lambda c, x: OTHER_AS),
        touches=frozenset({"claim:aud"}),
    ),
    _jag(
        "id-jag-client-id-mismatch",
        "`client_id` names another client than the one redeeming it",
        "jag-client-id",
        "one client redeems an ID-JAG the IdP issued to another (a stolen grant works)",
        claims=set_claim("client_id", lambda c, x: f"{c.get('client_id', 'client')}-other"),
        touches=frozenset({"claim:client_id"}),
    ),
    _jag(
        "id-jag-expired",
        "`exp` an hour ago",
        "jag-exp",
        "an old, leaked ID-JAG is still good for fresh access tokens (RFC 7523 §3 item 4)",
        claims=_expired,
        touches=frozenset({"claim:exp", "claim:iat"}),
    ),
    _jag(
        "id-jag-resource-wrong",
        "`resource` names another resource than the one requested",
        "jag-resource",
        "the client gets a token for a resource the IdP's policy did not approve for this user",
        spec=f"{SPEC}; MCP ext-auth enterprise-managed authorization",
        claims=set_claim("resource", lambda c, x: OTHER_RESOURCE),
        touches=frozenset({"claim:resource"}),
    ),
    _jag(
        "id-jag-untrusted-issuer",
        "issued and signed by an IdP the authorization server does not trust",
        "jag-iss",
        "anyone running their own IdP mints grants for any user",
        spec=f"{SPEC}; RFC 7523 §3 item 1",
        claims=set_claim("iss", lambda c, x: UNTRUSTED_ISSUER),
        sign=attacker_signature(),
        touches=frozenset({"claim:iss"}),
    ),
)
