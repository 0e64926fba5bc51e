"""One module per grant type, each exposing ``GRANT_TYPE`` and ``exchange(request)``.

The token endpoint looks the grant up in :data:`GRANTS`; adding a grant means adding a
module and one line here.
"""

from __future__ import annotations

from . import authorization_code, ciba, client_credentials, device_code, refresh_token
from .base import GrantHandler, TokenRequest

GRANTS: dict[str, GrantHandler] = {
    client_credentials.GRANT_TYPE: client_credentials.exchange,
    authorization_code.GRANT_TYPE: authorization_code.exchange,
    refresh_token.GRANT_TYPE: refresh_token.exchange,
    device_code.GRANT_TYPE: device_code.exchange,
    ciba.GRANT_TYPE: ciba.exchange,
}

__all__ = ["GRANTS", "GrantHandler", "TokenRequest"]
