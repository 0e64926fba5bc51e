"""The jwt-bearer grant (RFC 7523 §2.1): a JWT from a trusted issuer, redeemed for an access token.

Two kinds of assertion, told apart by their ``typ``:
- a workload JWT (workload identity federation, MCP SEP-1933): a platform (CI, Kubernetes,
  a cloud) vouches for a workload; the token is for the requested ``resource``, within what
  the issuer's ``trusted_issuers`` entry and the client may have;
- an ID-JAG (``typ: oauth-id-jag+jwt``; MCP enterprise-managed authorization): an enterprise
  IdP vouches for a user and names this server (``aud``), the client (``client_id``) and the
  resource; the token is restricted to that resource.

Every refusal is ``invalid_grant`` (RFC 7523 §3.1) naming the failed check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import id_jag
from ..errors import InvalidGrant, InvalidTarget, InvalidToken
from ..issuance import bearer_response, issue_access_token
from ..state import IdPState
from ..targets import requested_targets, select_audiences, select_scopes
from ..trusted_issuers import TrustedJwt, subject_allowed
from ..verify import audiences_of, check_times, scopes_of
from .base import TokenRequest

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: ``typ`` values of a workload JWT: plain JWTs (RFC 7519 §5.1), or none
WORKLOAD_TYPES = frozenset({"", "jwt", "application/jwt"})
#: an assertion may live at most this long from now (RFC 7523 §3 item 4: "unreasonably far")
MAX_LIFETIME = 3600
#: clock skew tolerated on ``iat``/``nbf`` of another issuer's clock
FUTURE_LEEWAY = 30


def exchange(request: TokenRequest) -> dict[str, Any]:
    state, client, params = request.state, request.client, request.params
    assertion = params.require("assertion")
    try:
        verified = state.trusted.verify(
            assertion, state.config.trusted_issuers, types=WORKLOAD_TYPES | {id_jag.TYP}
        )
    except InvalidToken as exc:
        raise InvalidGrant(f"assertion refused: {exc.description}") from None
    check_assertion(state, verified, audiences=accepted_audiences(state))
    kind = verified.issuer.kind
    if verified.typ == id_jag.TYP:
        if kind == "workload":
            raise InvalidGrant("assertion refused: this issuer is trusted for workload JWTs, not ID-JAGs")
        return _redeem_id_jag(request, verified)
    if kind == "enterprise-idp":
        raise InvalidGrant(f"assertion refused: an enterprise IdP's grant must be typed {id_jag.TYP}")
    if kind is None and "client_id" in verified.claims:
        # explicit typing (RFC 8725 §3.11): a grant naming a client is an ID-JAG, never a workload JWT
        raise InvalidGrant(f"assertion refused: a JWT with a client_id claim must be typed {id_jag.TYP}")
    issuer, claims = verified.issuer, verified.claims
    audiences = _audiences(request, issuer.issuer, issuer.audiences, requested_targets(params))
    scope = _scopes(request, issuer.scopes, audiences, None)
    use_assertion(state, verified)
    token, record = issue_access_token(
        state, client_id=client.client_id, subject=claims["sub"], audiences=audiences, scope=scope
    )
    return bearer_response(token, record)


def accepted_audiences(state: IdPState) -> tuple[str, ...]:
    """What an assertion's ``aud`` may name: this server's issuer or its token endpoint."""
    return (state.issuer, state.endpoint("token"))


def check_assertion(state: IdPState, verified: TrustedJwt, *, audiences: Sequence[str]) -> None:
    """RFC 7523 §3: ``sub``, ``aud``, ``exp`` (near), ``iat``/``nbf``, a single-use ``jti``."""
    claims, issuer = verified.claims, verified.issuer
    for name in ("sub", "aud", "exp", "jti"):
        if name not in claims:
            raise InvalidGrant(f"assertion refused: missing claim {name!r}")
    for name in ("sub", "jti"):
        if not isinstance(claims[name], str) or not claims[name]:
            raise InvalidGrant(f"assertion refused: claim {name!r} must be a non-empty string")
    if not any(a in audiences for a in audiences_of(claims)):
        raise InvalidGrant(f"assertion refused: aud must name this server ({audiences[0]})")
    now = state.clock.now()
    try:
        check_times(claims, now, future_leeway=FUTURE_LEEWAY)
    except InvalidToken as exc:
        raise InvalidGrant(f"assertion refused: {exc.description}") from None
    if claims["exp"] > now + MAX_LIFETIME:
        raise InvalidGrant(f"assertion refused: exp is more than {MAX_LIFETIME} s away")
    if not subject_allowed(issuer, claims["sub"]):
        raise InvalidGrant(f"assertion refused: subject {claims['sub']!r} is not allowed for this issuer")
    if state.store.jti_seen(issuer.issuer, claims["jti"], now):
        raise InvalidGrant("assertion refused: jti already used (assertions are single-use)")


def use_assertion(state: IdPState, verified: TrustedJwt) -> None:
    """Spend the assertion's ``jti``: only when a token is about to be issued, so a request
    refused for its scope or resource can be corrected and sent again with the same assertion.
    Atomic, so of two concurrent redemptions only one gets past here."""
    claims = verified.claims
    if not state.store.remember_jti(
        verified.issuer.issuer, claims["jti"], float(claims["exp"]), state.clock.now()
    ):
        raise InvalidGrant("assertion refused: jti already used (assertions are single-use)")


def _redeem_id_jag(request: TokenRequest, verified: TrustedJwt) -> dict[str, Any]:
    """The resource authorization server's checks of an ID-JAG (draft §5.1, MCP ext-auth §4.3)."""
    state, client, params = request.state, request.client, request.params
    claims = verified.claims
    if client.is_public:
        raise InvalidGrant("ID-JAG refused: it is redeemed by an authenticated (confidential) client")
    if claims.get("aud") != state.issuer and audiences_of(claims) != [state.issuer]:
        raise InvalidGrant(f"ID-JAG refused: aud must be this server's issuer ({state.issuer})")
    if claims.get("client_id") != client.client_id:
        raise InvalidGrant("ID-JAG refused: its client_id is not the authenticated client")
    if "iat" not in claims:
        raise InvalidGrant("ID-JAG refused: missing claim 'iat'")
    if not isinstance(claims["iat"], int | float) or claims["exp"] - claims["iat"] > MAX_LIFETIME:
        raise InvalidGrant("ID-JAG refused: its lifetime is too long for a one-time grant")
    granted = id_jag.resources_of(claims)
    if granted is None:
        raise InvalidGrant("ID-JAG refused: it names no resource (a string or array of strings)")
    requested = requested_targets(params)
    outside = [r for r in requested if r not in granted]
    if outside:
        raise InvalidGrant(f"ID-JAG refused: resource {outside[0]!r} is not the one it grants")
    audiences = _audiences(
        request, verified.issuer.issuer, verified.issuer.audiences, requested or granted[:1]
    )
    scope = _scopes(
        request, verified.issuer.scopes, audiences, scopes_of(claims) if "scope" in claims else None
    )
    use_assertion(state, verified)
    token, record = issue_access_token(
        state, client_id=client.client_id, subject=claims["sub"], audiences=audiences, scope=scope
    )
    return bearer_response(token, record)


def _audiences(request: TokenRequest, issuer: str, trusted: Sequence[str], targets: list[str]) -> list[str]:
    """The targets, each a registered API both the issuer's entry and the client allow."""
    allowed = [a for a in request.client.audiences if a in trusted]
    # name the trusted issuer entry when it is what refuses (the client alone would allow it)
    for target in targets or request.client.audiences[:1]:
        if target in request.client.audiences and target not in trusted:
            raise InvalidTarget(
                f"the trusted issuer {issuer} may not grant tokens for {target!r} "
                f"(its trusted_issuers entry allows {list(trusted) or 'no audience'})"
            )
    audiences = select_audiences(request.state, request.client, targets, allowed=allowed)
    if audiences == [request.state.issuer]:
        raise InvalidGrant("no resource both this trusted issuer and the client may have a token for")
    return audiences


def _scopes(
    request: TokenRequest, trusted: Sequence[str], audiences: Sequence[str], ceiling: Sequence[str] | None
) -> list[str]:
    """The requested scopes (default: all), within the issuer's entry, the client and ``ceiling``."""
    allowed = [s for s in request.client.scopes if s in trusted and (ceiling is None or s in ceiling)]
    return select_scopes(
        request.state, request.client, request.params.get("scope"), audiences, allowed=allowed
    )


def is_enabled(state: IdPState) -> bool:
    """Whether the grant can succeed: a trusted issuer, and a client allowed to use it."""
    clients = state.store.clients().values()
    return bool(state.config.trusted_issuers) and any(GRANT_TYPE in c.allowed_grant_types for c in clients)
