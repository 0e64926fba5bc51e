"""The catalog of deliberately broken tokens: one named, documented entry per way to be wrong.

``CATALOG`` maps each stable kebab-case name to its :class:`Defect`, grouped in a fixed order
(signature, header, time, audience, claims, type, structure, positive: tokens a
correct API must accept). Tokens are broken through
:func:`mint_token`, which ``MockIdP.issue_token(defects=...)`` and the token endpoint's defect
plans use; ``docs/defects.md`` is generated from this catalog by ``python -m mockidp.defects.docs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import MockIdPError, did_you_mean
from . import audience, claims, header, positive, signature, structure, time, typ
from .claims import POLICY_DEFECTS
from .mint import Minted, mint, resolve
from .model import GROUPS, Defect, MintContext, TokenKind

if TYPE_CHECKING:
    from ..state import IdPState

CATALOG: Mapping[str, Defect] = MappingProxyType(
    {
        d.name: d
        for module in (signature, header, time, audience, claims, typ, structure, positive)
        for d in module.DEFECTS
    }
)

#: entries ``mockidp check-api`` sends only when named, and why: a correct API has no way to
#: notice them unless it enforces a policy the run cannot know about
NOT_SENT_BY_DEFAULT: Mapping[str, str] = MappingProxyType(
    {
        "revoked": "a self-contained JWT cannot show revocation; the API would need introspection "
        "credentials",
        "acr-too-weak": "only an API that enforces step-up (RFC 9470) can notice it",
        "auth-time-too-old": "only an API that enforces step-up (RFC 9470) with max_age can notice it",
        "roles-not-array": "only an API that authorizes on a roles claim can notice it",
    }
)

#: the entries ``mockidp check-api`` sends by default, in catalog order: every one that applies
#: to access tokens, less :data:`NOT_SENT_BY_DEFAULT` (a run also skips the few that need
#: another signing algorithm than the IdP's: ``requires_alg``)
CHECK_API_DEFAULTS: tuple[str, ...] = tuple(
    name for name, d in CATALOG.items() if "access" in d.applies_to and name not in NOT_SENT_BY_DEFAULT
)


def get_defect(name: str) -> Defect:
    """The catalog entry called ``name`` (a :class:`MockIdPError` names the unknown one)."""
    try:
        return CATALOG[name]
    except KeyError:
        guess = did_you_mean(name, CATALOG)
        raise MockIdPError(f"unknown defect {name!r}{guess}; `mockidp defects` lists them") from None


def defect_names(kind: TokenKind | None = None) -> list[str]:
    """Every defect name in catalog order, or only those that apply to ``kind`` tokens."""
    return [n for n, d in CATALOG.items() if kind is None or kind in d.applies_to]


def resolve_defects(names: Sequence[str], kind: TokenKind) -> tuple[Defect, ...]:
    """Check that ``names`` exist, apply to ``kind`` tokens and can be combined."""
    return resolve(CATALOG, names, kind)


def mint_token(
    state: IdPState,
    claims: Mapping[str, Any],
    *,
    kind: TokenKind,
    typ: str | None,
    defects: Sequence[str] = (),
    audiences: Sequence[str] | None = None,
    scope: Sequence[str] | None = None,
    other_scopes: Sequence[str] | None = None,
) -> Minted:
    """Sign ``claims`` with the IdP's current key, broken in every named way.

    ``audiences``/``scope`` describe what the target requires (default: read from the claims);
    ``other_scopes`` what the client could have had instead (default: its registered scopes).
    Call :meth:`Minted.issued` once the IdP has remembered the token.
    """
    chosen = resolve_defects(defects, kind)
    client_id = str(claims.get("client_id") or claims.get("azp") or claims.get("aud") or "")
    if audiences is None:
        aud = claims.get("aud", ())
        audiences = [aud] if isinstance(aud, str) else list(aud)
    if scope is None:
        scope = str(claims.get("scope", "")).split()
    if other_scopes is None:
        with state.store.lock:
            client = state.store.clients.get(client_id)
        other_scopes = [s for s in client.scopes if s not in scope] if client else []
    ctx = MintContext(
        state=state,
        kind=kind,
        issuer=state.issuer,
        client_id=client_id,
        audiences=tuple(audiences),
        scope=tuple(scope),
        other_scopes=tuple(other_scopes),
        now=int(state.clock.now()),
    )
    return mint(ctx, claims, typ=typ, defects=chosen)


__all__ = [
    "CATALOG",
    "CHECK_API_DEFAULTS",
    "GROUPS",
    "NOT_SENT_BY_DEFAULT",
    "POLICY_DEFECTS",
    "Defect",
    "MintContext",
    "Minted",
    "TokenKind",
    "defect_names",
    "get_defect",
    "mint_token",
    "resolve_defects",
]
