"""Time, injectable: every token time and expiry reads ``state.clock.now()``, nothing else."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from .errors import ClockError, ConfigError

#: the clock's range: the Unix epoch to the last second of year 9999 (RFC 3339's four-digit
#: years), so token times stay valid NumericDates that every date library can print
EARLIEST = 0.0
LATEST = 253_402_300_799.0


def check_time(value: float, what: str = "time") -> float:
    """``value`` as a float if it is a time the clock may show, else :class:`ClockError`."""
    try:
        at = float(value)
    except (OverflowError, TypeError, ValueError):
        raise ClockError(f"{what} must be a number of epoch seconds") from None
    if not math.isfinite(at) or not EARLIEST <= at <= LATEST:
        raise ClockError(
            f"{what} would put the clock at {at!r}: it must stay between {EARLIEST:.0f} (1970) "
            f"and {LATEST:.0f} (the end of year 9999)"
        )
    return at


class Clock(Protocol):
    def now(self) -> float: ...


def _seconds(value: float) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond float range: as far away as it gets
        return math.inf if value > 0 else -math.inf


class MockClock:
    """Follows real time until frozen; can be advanced or set either way.

    Tests freeze it to make token times exact, and advance it to expire tokens and codes
    without sleeping. The lock makes it safe to drive from the test thread while the server
    thread reads it. A move outside 1970..9999 (or to a non-finite time) raises
    :class:`~mockidp.errors.ClockError` and leaves the clock where it was.
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
            self._frozen = (time.time() + self._offset) if at is None else check_time(at, "freeze")
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
            step = _seconds(seconds)
            if self._frozen is not None:
                self._frozen = check_time(self._frozen + step, f"advance({seconds!r})")
                return self._frozen
            now = check_time(time.time() + self._offset + step, f"advance({seconds!r})")
            self._offset += step
            return now

    def set(self, at: float) -> None:
        """Jump to ``at``; keeps running unless frozen."""
        value = check_time(at, "set")
        with self._lock:
            if self._frozen is not None:
                self._frozen = value
            else:
                self._offset = value - time.time()

    def reset(self) -> None:
        with self._lock:
            self._frozen = None
            self._offset = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockConfig:
    """The ``clock:`` config key: where time starts, applied at start and on every reset."""

    #: freeze the clock at this epoch second (None: follow real time)
    frozen_at: int | None = None

    def __post_init__(self) -> None:
        if self.frozen_at is not None:
            try:
                check_time(self.frozen_at, "frozen_at")
            except ClockError as exc:
                raise ConfigError(str(exc), key_path="frozen_at") from None

    def apply(self, clock: MockClock) -> None:
        clock.reset()
        if self.frozen_at is not None:
            clock.freeze(self.frozen_at)


def wall_time() -> float:
    """The real time, as a process outside mockidp sees it (an API under test), never the IdP's clock."""
    return time.time()
