"""What a token may be for: the requested resources and scopes, checked against the client
and the registered APIs (RFC 8707 resource indicators; OAuth 2.1 scope).

Policy only: the grants (``mockidp.flows``), the no-HTTP ``issue_token`` and the authorization
endpoint decide a token's audiences and scopes here, and ``mockidp.issuance`` issues it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import ClientConfig
from .errors import InvalidScope, InvalidTarget
from .params import Params
from .state import IdPState

#: scopes that belong to OpenID Connect rather than to an API
OIDC_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})


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
