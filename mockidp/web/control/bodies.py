"""The control API's own request and response bodies for keys and the clock, as dataclasses.

The OpenAPI document generates their schemas from these (``openapi.py``, descriptions from the
``#:`` comments), as it does for the config models, the faults and the journal records. The
handlers check the same keys by hand, so each error names its key; the OpenAPI test sends a
body to every path and validates each answer against these schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class RotateKeys:
    """The body of ``POST /rotate-keys`` (optional)."""

    #: how many previous keys stay published, so tokens already out keep verifying
    keep: int = 1
    #: publish the new key but keep signing with the current one until ``/activate-key``
    publish_first: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyId:
    """A published key (``/activate-key``, ``/retire-key``)."""

    #: the key's ``kid``, as the JWKS lists it
    kid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RotatedKeys:
    """The signing keys after a key operation."""

    #: the key the operation made (``/rotate-keys``, ``/add-key``); absent for the others
    kid: str | None = None
    #: the ``kid`` of the key tokens are signed with from now on
    current: str
    #: a published key that signs nothing yet (``publish_first``, ``/add-key``)
    pending: str | None = None
    #: the JWK Set the IdP publishes now
    jwks: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockReading:
    """The IdP's clock."""

    #: epoch seconds on the IdP's clock
    now: float
    #: whether the clock stands still
    frozen: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockUpdate:
    """The body of ``POST /clock``: applied as freeze or unfreeze, then set, then advance."""

    #: true: stand still (at ``set``, if given); false: follow real time again from here
    freeze: bool | None = None
    #: jump to these epoch seconds
    set: float | None = None
    #: move on by this many seconds
    advance: float | None = None
