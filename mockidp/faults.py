"""Endpoint faults: the IdP fails on purpose, so a client's error handling can be tested.

A :class:`Fault` names an endpoint (``token``, ``jwks``, ... or ``*`` for every endpoint) and
a kind of failure; it applies to the next request there, the next ``times`` requests, or every
request (``times=None`` / ``"always"``). Faults are queued on ``state.faults``; the first
queued fault matching a request is the one applied. The HTTP side is in
``mockidp.web.fault_middleware``; this module holds only the model, so the config can use it.

Kinds:
    status              answer ``status`` (default 500) with ``body`` (default an OAuth error)
    unavailable         503 with ``Retry-After``
    rate_limited        429 with ``Retry-After``
    latency             wait ``delay`` seconds, then the normal response
    malformed_json      the normal response's body cut in half (or ``body``), as application/json
    wrong_content_type  the normal response's body labelled ``text/html``
    drop                close the connection without any response
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, get_args

from .errors import ConfigError
from .loading import build

FaultKind = Literal[
    "status", "unavailable", "rate_limited", "latency", "malformed_json", "wrong_content_type", "drop"
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

#: matches every named endpoint (never the control API)
ANY_ENDPOINT = "*"
#: the control API's endpoint name: it is never faulted, or a test could not clear its faults
CONTROL_ENDPOINT = "control"
#: the names ``mockidp.web.app`` gives its routes (``RequestRecord.endpoint``). A fault for any
#: other name would never fire, and a test relying on it would pass without its fault: refused.
ENDPOINTS: tuple[str, ...] = (
    "discovery",
    "jwks",
    "token",
    "authorize",
    "userinfo",
    "introspect",
    "revoke",
    "end_session",
    "register",
    "attacker",
    "device_authorization",
    "device",
    "bc_authorize",
)
#: an upper bound on ``delay`` so a typo cannot hang a test suite
MAX_DELAY = 60.0

_DEFAULT_STATUS = {"status": 500, "unavailable": 503, "rate_limited": 429}


@dataclass(frozen=True, slots=True)
class Fault:
    """One queued failure of one endpoint; also the item type of the ``faults:`` config key."""

    #: The endpoint name (``token``, ``jwks``, ``authorize``, ...) or ``*`` for every named
    #: endpoint; never the control API.
    endpoint: str
    #: ``status``, ``unavailable``, ``rate_limited``, ``latency``, ``malformed_json``,
    #: ``wrong_content_type`` or ``drop`` (docs/faults.md).
    kind: FaultKind
    _: KW_ONLY
    #: the HTTP status (``status``, ``unavailable``, ``rate_limited``, ``malformed_json``)
    status: int | None = None
    #: the response body: a string sent as is, or JSON data
    body: str | Mapping[str, Any] | list[Any] | None = None
    #: ``Retry-After`` seconds (default 1 for ``unavailable`` and ``rate_limited``)
    retry_after: int | None = None
    #: seconds to wait (``latency``; default 1)
    delay: int | float | None = None
    #: how many requests it applies to; ``None`` or ``"always"``: every request
    times: int | Literal["always"] | None = 1

    def __post_init__(self) -> None:
        if self.times == "always":
            object.__setattr__(self, "times", None)
        _check(self)

    @property
    def uses(self) -> int | None:
        """How many requests it applies to (None: every one)."""
        return None if self.times is None or self.times == "always" else self.times

    @property
    def effective_status(self) -> int | None:
        """The status this fault answers with, or None when the handler's status is kept."""
        return self.status if self.status is not None else _DEFAULT_STATUS.get(self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "status": self.status,
            "body": self.body,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "times": self.times,
        }


def _check(fault: Fault) -> None:
    """Refuse values that cannot work; raised as ConfigError so every surface reports a key path."""
    if not isinstance(fault.endpoint, str) or not fault.endpoint:
        raise ConfigError("endpoint must be an endpoint name such as 'token', or '*'", key_path="endpoint")
    if fault.endpoint == CONTROL_ENDPOINT:
        raise ConfigError("the control API cannot be faulted", key_path="endpoint")
    if fault.endpoint not in (*ENDPOINTS, ANY_ENDPOINT):
        known = " | ".join((*ENDPOINTS, ANY_ENDPOINT))
        raise ConfigError(f"unknown endpoint {fault.endpoint!r} (known: {known})", key_path="endpoint")
    if fault.kind not in FAULT_KINDS:
        raise ConfigError(f"expected one of {' | '.join(FAULT_KINDS)}, got {fault.kind!r}", key_path="kind")
    if fault.status is not None and (not _is_int(fault.status) or not 100 <= fault.status <= 599):
        raise ConfigError("status must be an HTTP status code (100-599)", key_path="status")
    if fault.retry_after is not None and (not _is_int(fault.retry_after) or fault.retry_after < 0):
        raise ConfigError("retry_after must be a non-negative integer", key_path="retry_after")
    delay = fault.delay
    if delay is not None and (
        isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY
    ):
        raise ConfigError(f"delay must be a number of seconds from 0 to {MAX_DELAY:g}", key_path="delay")
    times: object = fault.times
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ConfigError("times must be a positive integer, null or 'always'", key_path="times")
    body = fault.body
    if body is not None and not isinstance(body, str | Mapping | list):
        raise ConfigError("body must be a string or JSON data", key_path="body")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def make_fault(endpoint: str, kind: str, **params: Any) -> Fault:
    """Build a fault from loose values (library keywords, the control API's JSON)."""
    return build(Fault, {"endpoint": endpoint, "kind": kind, **params})


@dataclass(slots=True)
class _Entry:
    fault: Fault
    remaining: int | None


class FaultQueue:
    """The faults of one IdP, in order, each with the number of uses left (None: unlimited)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._entries.append(_Entry(fault, fault.uses))
        return fault

    def load(self, faults: Iterable[Fault]) -> None:
        """Replace every queued fault (the config's list, at start and after a reset)."""
        with self._lock:
            self._entries = [_Entry(f, f.uses) for f in faults]

    def clear(self) -> None:
        with self._lock:
            self._entries = []

    def pending(self) -> list[tuple[Fault, int | None]]:
        """The queued faults and how many uses each has left."""
        with self._lock:
            return [(e.fault, e.remaining) for e in self._entries]

    def take(self, endpoint: str) -> Fault | None:
        """The fault to apply to one request at ``endpoint``, using it up once."""
        if endpoint == CONTROL_ENDPOINT or not self._entries:
            return None  # the usual case, without the lock: nothing is queued
        with self._lock:
            for entry in self._entries:
                if entry.fault.endpoint not in (endpoint, ANY_ENDPOINT):
                    continue
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._entries.remove(entry)
                return entry.fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
