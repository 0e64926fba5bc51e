"""The one small interface every grant implements: parse the request, apply policy
(``mockidp.targets``), and have ``mockidp.issuance`` issue the tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..config import ClientConfig
from ..dpop import same_jkt
from ..errors import InvalidDPoPProof, InvalidGrant
from ..params import Params
from ..state import IdPState


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A token request whose client has already been authenticated."""

    state: IdPState
    client: ClientConfig
    params: Params
    #: RFC 9449: the thumbprint of the request's DPoP proof key (None: no proof, bearer tokens)
    dpop_jkt: str | None = None


class GrantHandler(Protocol):
    def __call__(self, request: TokenRequest) -> dict[str, Any]: ...


def require_dpop_key(bound: str | None, jkt: str | None, *, missing: str, other: str) -> None:
    """A grant bound to a DPoP key (``bound``, a thumbprint) needs a proof of that very key.

    No proof: ``invalid_dpop_proof`` saying ``missing``; a proof of another key:
    ``invalid_grant`` saying ``other`` (RFC 9449 §5 refresh tokens, §10 ``dpop_jkt`` codes).
    """
    if bound is None:
        return
    if jkt is None:
        raise InvalidDPoPProof(missing)
    if not same_jkt(jkt, bound):
        raise InvalidGrant(other)
