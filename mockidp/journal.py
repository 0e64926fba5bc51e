"""The journal: every request the IdP received, for assertions after the fact.

Credentials are redacted before they are stored, so a journal can be printed in a failing
test's output or returned by the control API without leaking secrets.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

REDACTED = "***"
SECRET_FIELDS = frozenset({"client_secret", "password", "client_assertion"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One received request, as the IdP saw it, with its response status."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    form: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    client_id: str | None = None
    status: int = 0
    time: float = 0.0
    #: the endpoint name (token, authorize, jwks, ...) or "" for unknown paths
    endpoint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "query": {k: list(v) for k, v in self.query.items()},
            "form": {k: list(v) for k, v in self.form.items()},
            "headers": dict(self.headers),
            "client_id": self.client_id,
            "status": self.status,
            "time": self.time,
        }


def redact_params(params: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {k: [REDACTED] * len(v) if k in SECRET_FIELDS else list(v) for k, v in params.items()}


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization", "dpop"):
            scheme, _, rest = value.partition(" ")
            out[name] = f"{scheme} {REDACTED}" if rest else REDACTED
        elif lowered == "cookie":
            out[name] = REDACTED
        else:
            out[name] = value
    return out


class Journal:
    """Thread-safe, bounded list of :class:`RequestRecord`; the server appends, tests read.

    Only the newest ``limit`` records are kept, so a server under load for hours stays bounded.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=limit)

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
