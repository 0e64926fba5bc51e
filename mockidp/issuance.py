"""Issuance: every token mockidp hands out, and the token responses that carry them.

Access tokens (RFC 9068), ID tokens (OIDC Core), refresh tokens, the bearer and user-flow token
responses, and ``issue_token`` (a token without a token request: ``MockIdP.issue_token`` and the
control API's ``POST /_mockidp/tokens``). The grants in ``mockidp.flows`` parse requests and
apply policy (``mockidp.targets``), then call in here; the deliberately broken tokens of the
defect pipeline (``mockidp.defects``, "minting") come in through ``issue_access_token``'s
``defects``. Every token of one authorization carries the same ``grant_id``, revoked together
on code replay or refresh-token reuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .access_claims import custom_claims
from .acr import sign_in_claims
from .claims import user_claims
from .config import ClientConfig, UserConfig
from .defects import MintingIdP, mint_token
from .defects.plan import PLANNED, DefectSource
from .errors import MockIdPError
from .grants import RefreshRecord, new_id, token_key
from .id_jag import TYP as ID_JAG_TYP
from .state import IdPState
from .store import IssuedToken
from .targets import select_audiences, select_scopes, user_token_audiences
from .tokens import (
    ACCESS_TOKEN_TYP,
    access_token_claims,
    id_token_claims,
    opaque_token,
    sign,
    sign_with_token_hash,
    token_hash,
)


def minting_idp(state: IdPState) -> MintingIdP:
    """The narrow view of the IdP the defect pipeline gets: keys, the attacker, a few lookups."""
    store = state.store

    def client_scopes(client_id: str) -> tuple[str, ...]:
        client = store.client(client_id)
        return client.scopes if client is not None else ()

    return MintingIdP(
        issuer=state.issuer,
        keys=state.keys,
        attacker=state.attacker,
        acr_levels=state.config.acr_levels,
        now=state.clock.now,
        api_audiences=lambda: tuple(store.apis()),
        client_scopes=client_scopes,
        remembers=lambda jti: store.token(jti) is not None,
        revoke=store.revoke_token,
    )


@dataclass(frozen=True, slots=True)
class SignIn:
    """When and how strongly the user signed in: ``auth_time`` and the ``acr`` level."""

    auth_time: float
    acr: str | None = None

    def claims(self, levels: Sequence[str]) -> dict[str, Any]:
        return sign_in_claims(levels, self.auth_time, self.acr)


def issue_access_token(
    state: IdPState,
    *,
    client_id: str,
    subject: str,
    audiences: Sequence[str],
    scope: Sequence[str],
    grant_id: str | None = None,
    extra: dict[str, Any] | None = None,
    defects: DefectSource = PLANNED,
    user: UserConfig | None = None,
    sign_in: SignIn | None = None,
    planned_claims: bool = True,
    jkt: str | None = None,
) -> tuple[str, IssuedToken]:
    """Mint, sign and remember an RFC 9068 access token.

    Custom claims come from the config and (``planned_claims``) the token endpoint's plans,
    then ``sign_in`` (``auth_time``, ``acr``, ``amr`` of the user's sign-in), then ``extra``.
    ``jkt`` binds it to a DPoP key: ``cnf: {jkt}`` (RFC 9449 §6.1).
    ``defects``: the token endpoint's plan (the default) or exactly the named catalog entries.
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
    if jkt is not None:
        added["cnf"] = {"jkt": jkt}
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
    names = defects.take(state.defect_plan, "access", client_id)
    minted = (
        mint_token(minting_idp(state), claims, kind="access", typ=ACCESS_TOKEN_TYP, defects=names)
        if names
        else None
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
    defects: DefectSource = PLANNED,
    acr: str | None = None,
    requested: Sequence[str] = (),
) -> str:
    """Mint and sign an OpenID Connect ID token: the one place every flow gets one from.

    ``requested`` names claims the ``claims`` request parameter asked for (OIDC Core 5.5);
    ``acr`` adds ``acr`` and ``amr`` when the IdP has sign-in levels.
    ``defects``: the token endpoint's plan (the default) or exactly the named catalog entries.
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
        access_token=None,  # at_hash last, below: it may wait for the access token's signature
        alg=key.alg,
        user_claims={
            **user_claims(user, scopes, requested),
            **sign_in_claims(state.config.acr_levels, auth_time, acr),
        },
    )
    names = defects.take(state.defect_plan, "id", client_id)
    if names:
        if access_token is not None:
            claims["at_hash"] = token_hash(access_token, key.alg)
        return mint_token(minting_idp(state), claims, kind="id", typ="JWT", defects=names).token
    if access_token is None:
        return sign(claims, key, typ="JWT")
    return sign_with_token_hash(claims, key, token=access_token, typ="JWT")


def issue_id_jag(state: IdPState, claims: dict[str, Any], *, defects: DefectSource = PLANNED) -> str:
    """Sign an ID-JAG (``typ: oauth-id-jag+jwt``; ``mockidp.id_jag``) for the enterprise IdP leg.

    ``defects``: the token endpoint's plan for ``id-jag`` tokens (the default) or exactly the
    named catalog entries: broken ID-JAGs for testing a resource authorization server.
    """
    names = defects.take(state.defect_plan, "id-jag", str(claims.get("client_id", "")))
    if names:
        minted = mint_token(minting_idp(state), claims, kind="id-jag", typ=ID_JAG_TYP, defects=names)
        minted.issued()
        return minted.token
    return sign(claims, state.keys.current, typ=ID_JAG_TYP)


def bearer_response(token: str, record: IssuedToken) -> dict[str, Any]:
    """The JSON token response (RFC 6749 section 5.1); ``DPoP`` for a bound token (RFC 9449 §5)."""
    cnf = record.claims.get("cnf")
    bound = isinstance(cnf, dict) and "jkt" in cnf
    return {
        "access_token": token,
        "token_type": "DPoP" if bound else "Bearer",
        "expires_in": record.expires_at - record.issued_at,
        "scope": " ".join(record.scope),
    }


def gets_refresh_token(client: ClientConfig, scopes: Sequence[str]) -> bool:
    """Refresh tokens need the grant, and for OIDC requests ``offline_access`` too."""
    if "refresh_token" not in client.allowed_grant_types:
        return False
    return "openid" not in scopes or "offline_access" in scopes


def issue_refresh_token(
    state: IdPState,
    *,
    client_id: str,
    subject: str,
    scopes: Sequence[str],
    audiences: Sequence[str],
    auth_time: float,
    family: str,
    acr: str | None = None,
    jkt: str | None = None,
    id_token_claims: Sequence[str] = (),
) -> str:
    """A new opaque refresh token in ``family``, remembered for introspection and revocation.

    ``jkt``: bound to that DPoP key (RFC 9449 §5: a public client's refresh token).
    ``id_token_claims``: what the ``claims`` parameter asked for, kept for refreshed ID tokens.
    """
    token = opaque_token("rt")
    now = int(state.clock.now())
    expires = now + state.config.refresh_token_ttl
    jti = f"rt-{token_key(token)[:32]}"
    state.store.remember(
        IssuedToken(
            jti=jti,
            kind="refresh",
            client_id=client_id,
            subject=subject,
            scope=tuple(scopes),
            audiences=tuple(audiences),
            issued_at=now,
            expires_at=expires,
            grant_id=family,
        )
    )
    record = RefreshRecord(
        family=family,
        client_id=client_id,
        subject=subject,
        scopes=tuple(scopes),
        audiences=tuple(audiences),
        auth_time=auth_time,
        expires_at=expires,
        jti=jti,
        acr=acr,
        jkt=jkt,
        id_token_claims=tuple(id_token_claims),
    )
    state.store.grants.add_refresh(token, record)
    return token


def user_token_response(
    state: IdPState,
    *,
    client: ClientConfig,
    user: UserConfig,
    scopes: Sequence[str],
    audiences: Sequence[str],
    grant_id: str,
    auth_time: float,
    nonce: str | None,
    ceiling: tuple[Sequence[str], Sequence[str]] | None = None,
    acr: str | None = None,
    id_token_claims: Sequence[str] = (),
    access_claims: Mapping[str, Any] | None = None,
    jkt: str | None = None,
) -> dict[str, Any]:
    """The JSON token response for ``user``.

    ``ceiling`` is the (scopes, audiences) of the refresh family when refreshing: the new
    refresh token keeps the original grant (RFC 6749 section 6) even when this access token
    was narrowed. ``access_claims`` go into the access token last (RFC 9396
    ``authorization_details`` of the polled grants). ``jkt`` (a DPoP proof's key) binds the
    access token, and for a public client the refresh token too; a confidential client's refresh
    token is bound to its credentials instead (RFC 9449 §5).
    """
    access_token, record = issue_access_token(
        state,
        client_id=client.client_id,
        subject=user.sub,
        audiences=user_token_audiences(state, audiences, scopes),
        scope=scopes,
        grant_id=grant_id,
        user=user,
        sign_in=SignIn(auth_time, acr),
        extra=dict(access_claims) if access_claims else None,
        jkt=jkt,
    )
    body = bearer_response(access_token, record)
    if "openid" in scopes:
        body["id_token"] = issue_id_token(
            state,
            client_id=client.client_id,
            user=user,
            nonce=nonce,
            auth_time=auth_time,
            access_token=access_token,
            scopes=scopes,
            acr=acr,
            requested=id_token_claims,
        )
    family_scopes, family_audiences = ceiling or (scopes, audiences)
    if gets_refresh_token(client, family_scopes):
        body["refresh_token"] = issue_refresh_token(
            state,
            client_id=client.client_id,
            subject=user.sub,
            scopes=family_scopes,
            audiences=family_audiences,
            auth_time=auth_time,
            family=grant_id,
            acr=acr,
            jkt=jkt if client.is_public else None,
            id_token_claims=id_token_claims,
        )
    return body


def issue_token(
    state: IdPState,
    *,
    client_id: str | None = None,
    subject: str | None = None,
    audience: str | Sequence[str] | None = None,
    scope: str | Sequence[str] | None = None,
    claims: Mapping[str, Any] | None = None,
    defects: Sequence[str] | None = None,
) -> str:
    """Mint a valid access token; ``client_id`` defaults to the first client, ``subject`` to it.

    ``defects`` names entries of the defect catalog (``mockidp.defects``); ``audience`` and
    ``scope`` then describe what the target API requires (``scope-insufficient`` leaves it out).
    The config's ``access_token_claims`` apply (``claims`` win over them); planned defects
    and planned claims of the token endpoint never apply here.
    """
    store = state.store
    if client_id is None:
        first = next(iter(store.clients()), None)
        if first is None:
            raise MockIdPError("no clients configured; pass client_id or add a client")
        client_id = first
    client = store.client(client_id)
    if client is None:
        raise MockIdPError(f"unknown client {client_id!r}")
    targets = [audience] if isinstance(audience, str) else list(audience or [])
    audiences = select_audiences(state, client, targets)
    requested = scope if isinstance(scope, str) or scope is None else " ".join(scope)
    scopes = select_scopes(state, client, requested, audiences, allow_oidc=True)
    # a token minted for a subject stands for that user's grant (userinfo accepts it), one
    # minted without a subject for the client itself, like client credentials
    for_user = subject is not None
    user = store.user(subject) if subject is not None else None
    token, _ = issue_access_token(
        state,
        client_id=client.client_id,
        subject=subject or client.client_id,
        audiences=user_token_audiences(state, audiences, scopes) if for_user else audiences,
        scope=scopes,
        grant_id=new_id("grant") if for_user else None,
        extra=dict(claims) if claims else None,
        defects=DefectSource.exactly(defects or ()),
        user=user,
        planned_claims=False,
    )
    return token
