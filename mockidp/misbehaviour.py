"""Protocol misbehaviour switches: the IdP lies on purpose, so agents' checks can be tested.

Unlike endpoint faults (wrong status, latency, dropped connection), these keep the HTTP
exchange healthy and make its *content* wrong: a metadata ``issuer`` that is not the real
one, an authorization response with a wrong or missing ``iss``/``state``, a JWKS without the
key in use, or a JWKS that cannot be reached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

Tamper = Literal["ok", "wrong", "missing"]


@dataclass(slots=True)
class Misbehaviour:
    #: the ``issuer`` the metadata documents claim (None: the real one)
    metadata_issuer: str | None = None
    #: ``iss`` in authorization responses (RFC 9207)
    authorization_iss: Tamper = "ok"
    #: ``state`` in authorization responses
    authorization_state: Tamper = "ok"
    #: the JWKS leaves out the key currently signing (rotation without grace)
    jwks_drop_current: bool = False
    #: the JWKS endpoint refuses every request (connection dropped)
    jwks_unreachable: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def tamper_authorization_response(self, params: dict[str, str]) -> dict[str, str]:
        """Apply the ``iss``/``state`` switches to an authorization response's parameters."""
        out = dict(params)
        for name, mode in (("iss", self.authorization_iss), ("state", self.authorization_state)):
            if mode == "missing":
                out.pop(name, None)
            elif mode == "wrong" and (name in out or name == "iss"):
                out[name] = (
                    (out.get(name) or "") + "-tampered" if name == "state" else "https://wrong-issuer.invalid"
                )
        return out

    def reset(self) -> None:
        self.metadata_issuer = None
        self.authorization_iss = "ok"
        self.authorization_state = "ok"
        self.jwks_drop_current = False
        self.jwks_unreachable = False
