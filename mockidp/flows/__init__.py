"""One module per grant type, each exposing ``GRANT_TYPE`` and ``exchange(request)``.

The token endpoint looks the grant up in :data:`GRANTS`; adding a grant means adding a
module and one line here.
"""

from __future__ import annotations

from . import authorization_code, client_credentials, refresh_token
from .base import GrantHandler, TokenRequest

GRANTS: dict[str, GrantHandler] = {
    client_credentials.GRANT_TYPE: client_credentials.exchange,
    authorization_code.GRANT_TYPE: authorization_code.exchange,
    refresh_token.GRANT_TYPE: refresh_token.exchange,
}

__all__ = ["GRANTS", "GrantHandler", "TokenRequest"]
