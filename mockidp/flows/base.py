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


class GrantHandler(Protocol):
    def __call__(self, request: TokenRequest) -> dict[str, Any]: ...
