"""The journal: every request the IdP received, for assertions after the fact.

Credentials are redacted before they are stored, so a journal can be printed in a failing
test's output or returned by the control API without leaking secrets.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: form and query parameters that carry a credential (RFC 6749, 7523, 7636, 7662, 8693, 8628, OIDC, CIBA)
SECRET_FIELDS = frozenset(
    {
        "code",
        "code_verifier",
        "refresh_token",
        "access_token",
        "token",
        "client_secret",
        "client_assertion",
        "password",
        "id_token_hint",
        "assertion",
        "subject_token",
        "actor_token",
        "device_code",
        "user_code",
        "auth_req_id",
        "login_hint_token",
    }
)
#: headers whose whole value (after an auth scheme) is a credential
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "dpop"})


def redacted(value: str) -> str:
    """The journal's stand-in for a secret: its length and a short SHA-256, never the value.

    A test that knows the value computes the same marker and matches on it
    (``record.form["code"] == [redacted(code)]``); the 32-bit fingerprint cannot be turned
    back into a token, code or verifier.
    """
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"[redacted len={len(value)} sha256:{digest}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One received request, as the IdP saw it, with its response status."""

    #: the HTTP method
    method: str
    #: the request path, without the query
    path: str
    #: query parameters, each with every value sent; credentials as ``redacted`` markers
    query: Mapping[str, list[str]] = field(default_factory=dict)
    #: form parameters of the body, as ``query``
    form: Mapping[str, list[str]] = field(default_factory=dict)
    #: request headers; credentials and cookie values as ``redacted`` markers
    headers: Mapping[str, str] = field(default_factory=dict)
    #: the client that authenticated or was named, when there is one
    client_id: str | None = None
    #: the response status (599: the connection was dropped)
    status: int = 0
    #: epoch seconds on the IdP's clock when the answer was sent
    time: float = 0.0
    #: the endpoint name (token, authorize, jwks, ...) or "" for unknown paths
    endpoint: str = ""
    #: the planned claims (``MockIdP.plan_claims``) the issued access token carries
    token_claims: Mapping[str, Any] | None = None
    #: a ``private_key_jwt`` request's assertion as ``{"header": ..., "claims": ...}``, unverified:
    #: what the client signed, without the signature (so it cannot be replayed from here)
    client_assertion: Mapping[str, Any] | None = None

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
            "token_claims": dict(self.token_claims) if self.token_claims is not None else None,
            "client_assertion": dict(self.client_assertion) if self.client_assertion is not None else None,
        }


def redact_params(params: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Form or query parameters with every credential replaced by its :func:`redacted` marker."""
    return {
        k: [redacted(v) for v in values] if k in SECRET_FIELDS else list(values)
        for k, values in params.items()
    }


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials replaced: ``Bearer <marker>``, ``DPoP <marker>``, cookie values."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in SECRET_HEADERS:
            scheme, space, rest = value.partition(" ")
            out[name] = f"{scheme} {redacted(rest)}" if space and lowered != "dpop" else redacted(value)
        elif lowered == "cookie":
            out[name] = "; ".join(_redact_cookie(part) for part in value.split(";"))
        else:
            out[name] = value
    return out


def _redact_cookie(pair: str) -> str:
    """``name=<marker>``: the cookie's name stays readable, its value does not."""
    name, equals, value = pair.strip().partition("=")
    return f"{name}={redacted(value)}" if equals else redacted(name)


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
