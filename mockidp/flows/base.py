"""The one small interface every grant implements: parse the request, apply policy
(``mockidp.targets``), and have ``mockidp.issuance`` issue the tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..config import ClientConfig
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
