"""The one small interface every grant implements, and what grants share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..access_claims import custom_claims
from ..acr import sign_in_claims
from ..claims import user_claims
from ..config import ClientConfig, UserConfig
from ..defects import mint_token
from ..errors import InvalidScope, InvalidTarget
from ..params import Params
from ..state import IdPState
from ..store import IssuedToken
from ..tokens import ACCESS_TOKEN_TYP, access_token_claims, id_token_claims, sign

#: scopes that belong to OpenID Connect rather than to an API
OIDC_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})


@dataclass(frozen=True, slots=True)
class SignIn:
    """When and how strongly the user signed in: ``auth_time`` and the ``acr`` level."""

    auth_time: float
    acr: str | None = None

    def claims(self, levels: Sequence[str]) -> dict[str, Any]:
        return sign_in_claims(levels, self.auth_time, self.acr)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A token request whose client has already been authenticated."""

    state: IdPState
    client: ClientConfig
    params: Params


class GrantHandler(Protocol):
    def __call__(self, request: TokenRequest) -> dict[str, Any]: ...


def requested_targets(params: Params) -> list[str]:
    """RFC 8707 ``resource`` values plus the common ``audience`` parameter, in order."""
    targets: list[str] = []
    for value in params.getall("resource") + params.getall("audience"):
        if value not in targets:
            targets.append(value)
    return targets


def select_audiences(
    state: IdPState, client: ClientConfig, targets: Sequence[str], *, allowed: Sequence[str] | None = None
) -> list[str]:
    """The token's audiences: the requested targets, each a registered API the client may use.

    Without targets: the client's first allowed audience, else the issuer (a token only
    good for userinfo). ``allowed`` narrows further (a refresh may not widen its grant).
    """
    permitted = list(client.audiences if allowed is None else allowed)
    if not targets:
        return permitted[:1] or [state.issuer]
    registered = set(state.store.apis())
    for target in targets:
        if "#" in target:
            raise InvalidTarget(f"resource {target!r} must not contain a fragment (RFC 8707 section 2)")
        if target not in registered:
            raise InvalidTarget(f"resource {target!r} is not a registered API")
        if target not in permitted:
            raise InvalidTarget(f"client may not get tokens for {target!r}")
    return list(targets)


def user_token_audiences(state: IdPState, audiences: Sequence[str], scopes: Sequence[str]) -> list[str]:
    """The ``aud`` of an access token issued for a user: the resources, plus the issuer when
    the scope includes ``openid``, so the same token is good at userinfo (OIDC Core 5.3),
    which accepts only tokens that name the issuer (RFC 9068 section 4)."""
    out = list(audiences)
    if "openid" in scopes and state.issuer not in out:
        out.append(state.issuer)
    return out


def unlisted_oidc_scope(client: ClientConfig, scope: str) -> bool:
    """Whether a user flow may grant OIDC ``scope`` to a client whose list does not name it.

    A client's ``scopes`` list holds OIDC scopes like any other. Only a client that lists no
    scopes at all (the config's default) keeps what such a client could always have: every
    OIDC scope in the user flows, so configurations that never listed scopes keep working.
    """
    return not client.scopes and scope in OIDC_SCOPES


def narrow_to_resources(state: IdPState, scopes: Sequence[str], audiences: Sequence[str]) -> list[str]:
    """The granted scopes that the chosen resources define, plus the OIDC scopes (RFC 8707 §2.2).

    A token for ``resource=api1`` does not keep scopes only api2 defines. Resources that
    define no scopes narrow nothing, as at the authorization endpoint.
    """
    apis = state.store.apis_for(audiences)
    if not any(api.scopes for api in apis):
        return list(scopes)
    defined = {s for api in apis for s in api.scopes}
    return [s for s in scopes if s in OIDC_SCOPES or s in defined]


def select_scopes(
    state: IdPState,
    client: ClientConfig,
    requested: str | None,
    audiences: Sequence[str],
    *,
    allow_oidc: bool = False,
    allowed: Sequence[str] | None = None,
) -> list[str]:
    """Validate the requested scopes against the client and the target APIs.

    A scope must be one the client may have (OIDC scopes too, see
    :func:`unlisted_oidc_scope`; ``allow_oidc`` marks the user flows), and (for API scopes)
    one that a target API defines. Without a request: every API scope the client may have
    for those APIs.
    """
    permitted = list(client.scopes if allowed is None else allowed)
    apis = state.store.apis_for(audiences)
    defined = {s for api in apis for s in api.scopes}
    api_scopes_known = any(api.scopes for api in apis)
    if requested is None:
        scopes = [s for s in permitted if s not in OIDC_SCOPES]
        return [s for s in scopes if not api_scopes_known or s in defined]
    scopes = []
    for scope in requested.split(" "):
        if not scope or scope in scopes:
            continue
        if scope in OIDC_SCOPES:
            if scope in permitted:
                pass
            elif not allow_oidc:
                raise InvalidScope(f"scope {scope!r} is not available for this grant")
            elif allowed is not None or not unlisted_oidc_scope(client, scope):
                raise InvalidScope(f"client may not request scope {scope!r}: its scopes do not list it")
        elif scope not in permitted:
            raise InvalidScope(f"client may not request scope {scope!r}")
        elif api_scopes_known and scope not in defined:
            raise InvalidScope(f"scope {scope!r} is not defined by the requested resource")
        scopes.append(scope)
    return scopes


def issue_access_token(
    state: IdPState,
    *,
    client_id: str,
    subject: str,
    audiences: Sequence[str],
    scope: Sequence[str],
    grant_id: str | None = None,
    extra: dict[str, Any] | None = None,
    defects: Sequence[str] | None = None,
    user: UserConfig | None = None,
    sign_in: SignIn | None = None,
    planned_claims: bool = True,
) -> tuple[str, IssuedToken]:
    """Mint, sign and remember an RFC 9068 access token.

    Custom claims come from the config and (``planned_claims``) the token endpoint's plans,
    then ``sign_in`` (``auth_time``, ``acr``, ``amr`` of the user's sign-in), then ``extra``.
    ``defects`` names catalog entries to break it with; ``None`` takes the IdP's defect plan.
    """
    added = custom_claims(
        state,
        client_id=client_id,
        subject=subject,
        audiences=audiences,
        scope=scope,
        user=user,
        planned=planned_claims,
    )
    if sign_in is not None:
        added.update(sign_in.claims(state.config.acr_levels))
    added.update(extra or {})
    claims = access_token_claims(
        issuer=state.issuer,
        subject=subject,
        audiences=audiences,
        client_id=client_id,
        scope=scope,
        now=state.clock.now(),
        ttl=state.config.access_token_ttl,
        extra=added,
    )
    if defects is None:
        defects = state.defect_plan.take("access", client_id)
    minted = (
        mint_token(state, claims, kind="access", typ=ACCESS_TOKEN_TYP, defects=defects) if defects else None
    )
    record = IssuedToken(
        jti=claims["jti"],
        kind="access",
        client_id=client_id,
        subject=subject,
        scope=tuple(scope),
        audiences=tuple(audiences),
        issued_at=claims["iat"],
        expires_at=claims["exp"],
        claims=claims,
        grant_id=grant_id,
    )
    # remembered before it is signed: grants run on several threads (mockidp.web.workers), and a
    # concurrent code replay that revokes this grant must catch this token too
    state.store.remember(record)
    token = minted.token if minted else sign(claims, state.keys.current, typ=ACCESS_TOKEN_TYP)
    if minted:
        minted.issued()
    return token, record


def issue_id_token(
    state: IdPState,
    *,
    client_id: str,
    user: UserConfig,
    nonce: str | None,
    auth_time: float,
    access_token: str | None,
    scopes: Sequence[str],
    defects: Sequence[str] | None = None,
    acr: str | None = None,
    requested: Sequence[str] = (),
) -> str:
    """Mint and sign an OpenID Connect ID token: the one place every flow gets one from.

    ``requested`` names claims the ``claims`` request parameter asked for (OIDC Core 5.5);
    ``acr`` adds ``acr`` and ``amr`` when the IdP has sign-in levels.
    ``defects`` names catalog entries to break it with; ``None`` takes the IdP's defect plan.
    """
    key = state.keys.current
    claims = id_token_claims(
        issuer=state.issuer,
        subject=user.sub,
        client_id=client_id,
        now=state.clock.now(),
        ttl=state.config.id_token_ttl,
        auth_time=auth_time,
        nonce=nonce,
        access_token=access_token,
        alg=key.alg,
        user_claims={
            **user_claims(user, scopes, requested),
            **sign_in_claims(state.config.acr_levels, auth_time, acr),
        },
    )
    if defects is None:
        defects = state.defect_plan.take("id", client_id)
    if defects:
        return mint_token(state, claims, kind="id", typ="JWT", defects=defects).token
    return sign(claims, key, typ="JWT")


def bearer_response(token: str, record: IssuedToken) -> dict[str, Any]:
    """The JSON token response (RFC 6749 section 5.1)."""
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": record.expires_at - record.issued_at,
        "scope": " ".join(record.scope),
    }
