"""The catalog of deliberately broken tokens: one named, documented entry per way to be wrong.

``CATALOG`` maps each stable kebab-case name to its :class:`Defect`, grouped in a fixed order
(signature, header, time, audience, claims, type, structure, positive: tokens a
correct API must accept). ``DPOP_CATALOG`` holds the DPoP request defects (a valid bound token
presented wrongly, ``mockidp.defects.dpop``). Tokens are broken through
:func:`mint_token`, which ``MockIdP.issue_token(defects=...)`` and the token endpoint's defect
plans use; ``docs/defects.md`` is generated from this catalog by ``python -m mockidp.defects.docs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .catalog import (
    CATALOG,
    CHECK_API_DEFAULTS,
    NOT_SENT_BY_DEFAULT,
    defect_names,
    get_defect,
    resolve_defects,
)
from .claims import POLICY_DEFECTS
from .dpop import DPOP_CATALOG, DPoPDefect
from .mint import Minted, mint
from .model import GROUPS, Defect, MintContext, MintingIdP, TokenKind


def mint_token(
    idp: MintingIdP,
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

    ``idp`` is all a defect may reach of the IdP (``mockidp.issuance.minting_idp`` builds it).

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
        other_scopes = [s for s in idp.client_scopes(client_id) if s not in scope]
    ctx = MintContext(
        idp=idp,
        kind=kind,
        issuer=idp.issuer,
        client_id=client_id,
        audiences=tuple(audiences),
        scope=tuple(scope),
        other_scopes=tuple(other_scopes),
        now=int(idp.now()),
    )
    return mint(ctx, claims, typ=typ, defects=chosen)


__all__ = [
    "CATALOG",
    "CHECK_API_DEFAULTS",
    "DPOP_CATALOG",
    "GROUPS",
    "NOT_SENT_BY_DEFAULT",
    "POLICY_DEFECTS",
    "DPoPDefect",
    "Defect",
    "MintContext",
    "Minted",
    "MintingIdP",
    "TokenKind",
    "defect_names",
    "get_defect",
    "mint_token",
    "resolve_defects",
]
