"""Token exchange (RFC 8693): a token for a user becomes a token for another resource, with the
acting party recorded in ``act``; or, with ``requested_token_type`` = ID-JAG, an ID token becomes
an Identity Assertion JWT Authorization Grant for another authorization server.

Inputs: ``subject_token`` (an access or ID token of this IdP, or a JWT of a ``trusted_issuers``
entry) and optionally ``actor_token``. The actor is the actor token's subject, else the
authenticated client; the issued token has the user as ``sub`` and the actor in ``act``
(``act.sub`` and ``act.client_id``), with the subject token's own chain nested inside (§4.1).
The client's ``exchange`` policy caps the audiences, the scopes (which only ever narrow) and the
chain's depth. Errors are the RFC's (§2.2.2): a bad or unacceptable token is ``invalid_request``,
an unacceptable target ``invalid_target``, a scope outside the ceiling ``invalid_scope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .. import id_jag
from ..delegation import act_depth, may_act_allows, nest_act
from ..errors import InvalidRequest, InvalidScope, InvalidTarget, InvalidToken
from ..issuance import bearer_response, issue_access_token, issue_id_jag
from ..state import IdPState
from ..targets import requested_targets, select_audiences, select_scopes
from ..trusted_issuers import subject_allowed
from ..verify import (
    ACCESS_TOKEN_TYPES,
    ID_TOKEN_TYPES,
    MAX_ISSUED_TOKEN,
    AccessTokenPolicy,
    audiences_of,
    check_times,
    scopes_of,
    unverified_claims,
    verify,
    verify_jws,
)
from .base import TokenRequest

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
#: the ``typ`` values each input token type may carry
INPUT_TYPES: Mapping[str, frozenset[str]] = {
    ACCESS_TOKEN: ACCESS_TOKEN_TYPES,
    ID_TOKEN: ID_TOKEN_TYPES,
    JWT: ACCESS_TOKEN_TYPES | ID_TOKEN_TYPES | {"application/jwt"},
}
#: ``requested_token_type`` values this server issues (RFC 8693 §3)
ISSUED_TYPES = (ACCESS_TOKEN, id_jag.TOKEN_TYPE)


@dataclass(frozen=True, slots=True)
class InputToken:
    """A verified subject or actor token."""

    claims: dict[str, Any]
    #: issued by this IdP (else by a trusted issuer)
    local: bool

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


def exchange(request: TokenRequest) -> dict[str, Any]:
    params = request.params
    requested_type = params.get("requested_token_type") or ACCESS_TOKEN
    if requested_type not in ISSUED_TYPES:
        raise InvalidRequest(f"requested_token_type {requested_type!r} is not issued here")
    subject = _input(request, "subject_token")
    if subject is None:
        raise InvalidRequest("missing required parameter 'subject_token'")
    if requested_type == id_jag.TOKEN_TYPE:
        return _issue_id_jag(request, subject)
    return _issue_access_token(request, subject)


def _input(request: TokenRequest, name: str) -> InputToken | None:
    """The verified ``subject_token``/``actor_token`` (with its ``*_type``), or ``None`` if absent."""
    params = request.params
    token, token_type = params.get(name), params.get(f"{name}_type")
    if token is None:
        if token_type is not None:
            raise InvalidRequest(f"{name}_type is sent without {name}")
        return None
    if token_type is None:
        raise InvalidRequest(f"missing required parameter '{name}_type'")
    if token_type not in INPUT_TYPES:
        raise InvalidRequest(f"{name}_type {token_type!r} is not supported")
    try:
        return _verified(request, token, token_type)
    except InvalidToken as exc:
        raise InvalidRequest(f"{name} refused: {exc.description}") from None


def _verified(request: TokenRequest, token: str, token_type: str) -> InputToken:
    state = request.state
    now = state.clock.now()
    types = INPUT_TYPES[token_type]
    if unverified_claims(token).get("iss") == state.issuer:
        if token_type == ACCESS_TOKEN:
            policy = AccessTokenPolicy(issuer=state.issuer, audiences=None)
            return InputToken(
                verify(token, state.keys.find, policy, now, revoked=state.store.is_revoked), True
            )
        header, claims = verify_jws(token, state.keys.find, max_length=MAX_ISSUED_TOKEN, types=types)
        _check_claims(claims, now)
        is_id_token = str(header.get("typ", "")).lower() in ID_TOKEN_TYPES
        if is_id_token and request.client.client_id not in audiences_of(claims):
            raise InvalidToken("the ID token was not issued to this client")
        if claims.get("jti") is not None and state.store.is_revoked(str(claims["jti"])):
            raise InvalidToken("token revoked")
        return InputToken(claims, True)
    verified = state.trusted.verify(token, state.config.trusted_issuers, types=types)
    claims = verified.claims
    _check_claims(claims, now)
    accepted = (state.issuer, state.endpoint("token"), request.client.client_id)
    if not any(a in accepted for a in audiences_of(claims)):
        raise InvalidToken("its aud names neither this server nor the client")
    if not subject_allowed(verified.issuer, claims["sub"]):
        raise InvalidToken(f"subject {claims['sub']!r} is not allowed for this issuer")
    return InputToken(claims, False)


def _check_claims(claims: Mapping[str, Any], now: float) -> None:
    for name in ("iss", "sub", "exp"):
        if name not in claims:
            raise InvalidToken(f"missing claim {name!r}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise InvalidToken("claim 'sub' must be a non-empty string")
    check_times(claims, now, future_leeway=30)


def _actor(request: TokenRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the ``act`` claim's top entry, the actor's identity for ``may_act``)."""
    state, client = request.state, request.client
    actor = _input(request, "actor_token")
    if actor is None:
        identity = {"iss": state.issuer, "sub": client.client_id, "client_id": client.client_id}
        return {"sub": client.client_id, "client_id": client.client_id}, identity
    claims = actor.claims
    act: dict[str, Any] = {"sub": actor.subject}
    if isinstance(claims.get("client_id"), str):
        act["client_id"] = claims["client_id"]
    if not actor.local:
        act["iss"] = claims["iss"]
    return act, {"iss": claims["iss"], **act}


def _issue_access_token(request: TokenRequest, subject: InputToken) -> dict[str, Any]:
    state, client, params = request.state, request.client, request.params
    policy = client.exchange_policy
    act, identity = _actor(request)
    if not may_act_allows(subject.claims, identity):
        raise InvalidRequest("the subject token's may_act does not name this actor (RFC 8693 section 4.4)")
    depth = act_depth(subject.claims) + 1
    if depth > policy.max_act_depth:
        raise InvalidRequest(
            f"the delegation chain would hold {depth} actors; this client's exchange policy allows "
            f"{policy.max_act_depth}"
        )
    audiences = select_audiences(state, client, requested_targets(params), allowed=policy.audiences)
    if audiences == [state.issuer]:
        raise InvalidTarget("name a resource or audience this client's exchange policy allows")
    ceiling = scopes_of(subject.claims) if "scope" in subject.claims else None
    allowed = [s for s in policy.scopes if ceiling is None or s in ceiling]
    if ceiling is not None:
        _narrowing_only(params.get("scope"), ceiling)
    scope = select_scopes(state, client, params.get("scope"), audiences, allowed=allowed)
    token, record = issue_access_token(
        state,
        client_id=client.client_id,
        subject=subject.subject,
        audiences=audiences,
        scope=scope,
        extra={"act": nest_act(act, subject.claims)},
        user=state.store.user(subject.subject) if subject.local else None,
    )
    return {**bearer_response(token, record), "issued_token_type": ACCESS_TOKEN}


def _narrowing_only(requested: str | None, ceiling: tuple[str, ...]) -> None:
    for scope in (requested or "").split(" "):
        if scope and scope not in ceiling:
            raise InvalidScope(f"scope {scope!r} is not in the subject token: scopes only narrow")


def _issue_id_jag(request: TokenRequest, subject: InputToken) -> dict[str, Any]:
    """The enterprise IdP's leg: an ID token of this IdP for the client becomes an ID-JAG."""
    state, client, params = request.state, request.client, request.params
    if params.get("subject_token_type") != ID_TOKEN or not subject.local:
        raise InvalidRequest(
            "an ID-JAG is issued for an ID token this IdP issued (subject_token_type id_token)"
        )
    if client.client_id not in audiences_of(subject.claims):
        raise InvalidRequest("the ID token was not issued to this client")
    if params.get("actor_token") is not None:
        raise InvalidRequest("an ID-JAG request takes no actor_token")
    audience = _id_jag_audience(request)
    resources = params.getall("resource")
    for resource in resources:
        parts = urlsplit(resource)
        if not parts.scheme or not parts.netloc or parts.fragment or "#" in resource:
            raise InvalidTarget(f"resource {resource!r} must be an absolute URI without a fragment")
    scope = [s for s in (params.get("scope") or "").split(" ") if s]
    policy = client.exchange_policy
    outside = [s for s in scope if policy.scopes and s not in policy.scopes]
    if outside:
        raise InvalidScope(f"client may not request scope {outside[0]!r} for an ID-JAG")
    extra: dict[str, Any] = {
        k: subject.claims[k] for k in ("auth_time", "acr", "amr", "email") if k in subject.claims
    }
    claims = id_jag.id_jag_claims(
        issuer=state.issuer,
        subject=subject.subject,
        audience=audience,
        client_id=client.client_id,
        resources=resources,
        scope=scope,
        now=state.clock.now(),
        extra=extra,
    )
    body: dict[str, Any] = {
        "access_token": issue_id_jag(state, claims),
        "issued_token_type": id_jag.TOKEN_TYPE,
        "token_type": "N_A",
        "expires_in": id_jag.TTL,
    }
    if scope:
        body["scope"] = " ".join(scope)
    return body


def _id_jag_audience(request: TokenRequest) -> str:
    """The one ``audience``: the resource authorization server's issuer, allowed by the policy."""
    audiences = request.params.getall("audience")
    if len(audiences) != 1:
        raise InvalidRequest(
            "an ID-JAG request names exactly one audience: the authorization server's issuer"
        )
    if audiences[0] not in request.client.exchange_policy.audiences:
        raise InvalidTarget(f"client may not get an ID-JAG for {audiences[0]!r}")
    return audiences[0]


def is_enabled(state: IdPState) -> bool:
    """Whether any client may use the grant (metadata advertises it only then)."""
    return any(GRANT_TYPE in c.allowed_grant_types for c in state.store.clients().values())
