"""Planned claims: the token endpoint adds claims to its next N access tokens.

How a test gives one request a ``roles`` claim without a new config: ``MockIdP.plan_claims``,
the ``token_claims`` config key (and so the pytest marker and YAML) and the control API's
``POST /_mockidp/token-claims`` all add a :class:`PlannedClaims`. Every matching plan applies
(first planned first, later ones winning per claim) and counts one use; ``state.reset()`` goes
back to the configured plans. The claims a token request received are written to its journal
record (``token_claims``), so a test can see which request got what.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .claim_templates import check_claims
from .errors import ConfigError, MockIdPError

_applied: ContextVar[dict[str, Any] | None] = ContextVar("mockidp_applied_claims", default=None)


@dataclass(slots=True)
class PlannedClaims:
    """Add ``claims`` to access tokens (for ``client_id``, or any client) ``times`` more times."""

    claims: Mapping[str, Any] = field(default_factory=dict)
    client_id: str | None = None
    #: how many more tokens get them; ``None``: every one
    times: int | None = 1

    def matches(self, client_id: str) -> bool:
        return self.client_id in (None, client_id) and self.times != 0

    def to_dict(self) -> dict[str, Any]:
        return {"claims": dict(self.claims), "client_id": self.client_id, "times": self.times}


class ClaimsPlan:
    """The planned claims of one IdP, used up as the token endpoint issues access tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[PlannedClaims] = []
        self._configured: tuple[PlannedClaims, ...] = ()

    def add(
        self, claims: Mapping[str, Any], *, times: int | None = 1, client_id: str | None = None
    ) -> PlannedClaims:
        """Plan ``claims`` for the next ``times`` tokens; registered claims are refused."""
        if not isinstance(claims, Mapping) or not claims:
            raise MockIdPError("claims must be a non-empty mapping of claim names to values")
        if times is not None and (isinstance(times, bool) or times < 1):
            raise MockIdPError("times must be a positive number, or None for every token")
        try:
            check_claims(claims, "claims")
        except ConfigError as exc:
            raise MockIdPError(f"{exc.message} (at '{exc.key_path}')") from None
        entry = PlannedClaims(dict(claims), client_id, times)
        with self._lock:
            self._entries.append(entry)
        return entry

    def take(self, client_id: str) -> dict[str, Any]:
        """The planned claims for the access token about to be issued (one use of each plan)."""
        merged: dict[str, Any] = {}
        with self._lock:
            for entry in self._entries:
                if entry.matches(client_id):
                    if entry.times is not None:
                        entry.times -= 1
                    merged.update(entry.claims)
        applied = _applied.get()
        if applied is not None:
            applied.update(merged)
        return merged

    @property
    def pending(self) -> list[PlannedClaims]:
        with self._lock:
            return [e for e in self._entries if e.times != 0]

    def configure(self, entries: Iterable[PlannedClaims]) -> None:
        """The plans from the config: restored by every :meth:`reset`."""
        self._configured = tuple(entries)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._entries = [PlannedClaims(dict(e.claims), e.client_id, e.times) for e in self._configured]

    def clear(self) -> None:
        """Drop every plan, configured ones included, until the next reset."""
        with self._lock:
            self._entries = []


@contextmanager
def recording() -> Iterator[dict[str, Any]]:
    """Collect the planned claims used while handling one request (for its journal record)."""
    applied: dict[str, Any] = {}
    token = _applied.set(applied)
    try:
        yield applied
    finally:
        _applied.reset(token)
