"""Time, injectable: every token time and expiry reads ``state.clock.now()``, nothing else."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class MockClock:
    """Follows real time until frozen; can be advanced or set either way.

    Tests freeze it to make token times exact, and advance it to expire tokens and codes
    without sleeping. The lock makes it safe to drive from the test thread while the server
    thread reads it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: float | None = None
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: float | None = None) -> float:
        """Stop time at ``at`` (default: now) and return it."""
        with self._lock:
            self._frozen = (time.time() + self._offset) if at is None else float(at)
            return self._frozen

    def unfreeze(self) -> None:
        """Let time run again from where it stands."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
            self._frozen = None

    def advance(self, seconds: float) -> float:
        """Move time forward (or back, with a negative number) and return the new now."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
                return self._frozen
            self._offset += seconds
            return time.time() + self._offset

    def set(self, at: float) -> None:
        """Jump to ``at``; keeps running unless frozen."""
        with self._lock:
            if self._frozen is not None:
                self._frozen = float(at)
            else:
                self._offset = float(at) - time.time()

    def reset(self) -> None:
        with self._lock:
            self._frozen = None
            self._offset = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockConfig:
    """The ``clock:`` config key: where time starts, applied at start and on every reset."""

    #: freeze the clock at this epoch second (None: follow real time)
    frozen_at: int | None = None

    def apply(self, clock: MockClock) -> None:
        clock.reset()
        if self.frozen_at is not None:
            clock.freeze(self.frozen_at)


def wall_time() -> float:
    """The real time, as a process outside mockidp sees it (an API under test), never the IdP's clock."""
    return time.time()
