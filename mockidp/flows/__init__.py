"""One module per grant type, each exposing ``GRANT_TYPE`` and ``exchange(request)``.

The token endpoint looks the grant up in :data:`GRANTS`; adding a grant means adding a
module and one line here.
"""

from __future__ import annotations

from ..state import IdPState
from . import (
    authorization_code,
    ciba,
    client_credentials,
    device_code,
    jwt_bearer,
    polled,
    refresh_token,
    token_exchange,
)
from .base import GrantHandler, TokenRequest

GRANTS: dict[str, GrantHandler] = {
    client_credentials.GRANT_TYPE: client_credentials.exchange,
    authorization_code.GRANT_TYPE: authorization_code.exchange,
    refresh_token.GRANT_TYPE: refresh_token.exchange,
    device_code.GRANT_TYPE: device_code.exchange,
    ciba.GRANT_TYPE: ciba.exchange,
    jwt_bearer.GRANT_TYPE: jwt_bearer.exchange,
    token_exchange.GRANT_TYPE: token_exchange.exchange,
}

#: grants that may fetch another issuer's keys (``mockidp.trusted_issuers``): a fetch blocks,
#: so these never run on the event loop (``mockidp.web.signers``)
FETCHING_GRANTS = frozenset({jwt_bearer.GRANT_TYPE, token_exchange.GRANT_TYPE})

#: grants advertised only when the config enables them (metadata lists only what works)
_OPTIONAL = {
    device_code.GRANT_TYPE: lambda state: polled.enabled(state, "device"),
    ciba.GRANT_TYPE: lambda state: polled.enabled(state, "ciba"),
    jwt_bearer.GRANT_TYPE: jwt_bearer.is_enabled,
    token_exchange.GRANT_TYPE: token_exchange.is_enabled,
}


def enabled_grants(state: IdPState) -> list[str]:
    """The grant types this IdP advertises (``grant_types_supported``), sorted."""
    return sorted(g for g in GRANTS if g not in _OPTIONAL or _OPTIONAL[g](state))


__all__ = ["FETCHING_GRANTS", "GRANTS", "GrantHandler", "TokenRequest", "enabled_grants"]
