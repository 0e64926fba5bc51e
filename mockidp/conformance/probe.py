"""One HTTP request to the API under test, with its status and ``WWW-Authenticate`` challenge.

``http.client`` rather than a client library: no redirects followed, no proxies, no retries,
so what is reported is exactly what the API answered.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode, urlsplit

from ..errors import Unreachable
from ..tls import trusted_client_context

TIMEOUT = 5.0
_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
#: an auth-scheme: a token at the start or after a comma, followed by a space and a parameter or
#: by the end (RFC 9110 §11.6.1), e.g. both schemes of ``Bearer error="x", DPoP algs="ES256"``
_SCHEME = re.compile(r"(?:^|,)\s*([A-Za-z][A-Za-z0-9._~+-]*)(?=\s+[A-Za-z0-9._~+/-]+\s*=|\s*(?:,|$))")


@dataclass(frozen=True, slots=True)
class Answer:
    #: 0 when there was no answer (timeout or connection closed)
    status: int
    challenge: str | None = None
    failure: str = ""
    #: the ``DPoP-Nonce`` response header (RFC 9449 §9), when the API sent one
    nonce: str | None = None

    @property
    def scheme(self) -> str:
        return (self.challenge or "").split(" ", 1)[0].lower()

    @property
    def schemes(self) -> frozenset[str]:
        """Every auth-scheme the challenge names, lower case (one header may carry several)."""
        found = {m.group(1).lower() for m in _SCHEME.finditer(self.challenge or "")}
        return frozenset(found - set(challenge_params(self.challenge or "")))

    @property
    def error(self) -> str | None:
        return challenge_params(self.challenge or "").get("error")

    def describe(self) -> str:
        if self.status == 0:
            return self.failure or "no answer"
        return f"{self.status} {self.error or ''}".rstrip()


def challenge_params(challenge: str) -> dict[str, str]:
    """The auth-params of a ``WWW-Authenticate: Bearer k="v", ...`` challenge."""
    _, _, rest = challenge.partition(" ")
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(rest)}


#: where a token travels: the ``Authorization`` header (RFC 6750 §2.1), the ``access_token``
#: query parameter (§2.3) or form field (§2.2); the last two only when an API documents them
Where = Literal["header", "query", "body"]


def _connection(scheme: str, host: str, port: int | None, timeout: float) -> http.client.HTTPConnection:
    """https trusts the system's CAs and mockidp's local CA (an API serving an ``issue_cert`` certificate)."""
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=trusted_client_context())
    return http.client.HTTPConnection(host, port, timeout=timeout)


def send(
    url: str,
    method: str,
    token: str | None,
    timeout: float = TIMEOUT,
    *,
    where: Where = "header",
    scheme: str = "Bearer",
    extra_headers: dict[str, str] | None = None,
) -> Answer:
    """One request with ``token`` (``Authorization: <scheme> <token>`` in the header), and
    ``extra_headers`` (a DPoP proof)."""
    parts = urlsplit(url)
    conn = _connection(parts.scheme, parts.hostname or "127.0.0.1", parts.port, timeout)
    query = parts.query
    if token is not None and where == "query":
        query = "&".join(q for q in (query, urlencode({"access_token": token})) if q)
    path = (parts.path or "/") + (f"?{query}" if query else "")
    headers = {"Accept": "application/json", "Connection": "close", **(extra_headers or {})}
    body: bytes | None = None
    if token is not None and where == "header":
        headers["Authorization"] = f"{scheme} {token}"
    if token is not None and where == "body":
        body = urlencode({"access_token": token}).encode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif method in ("POST", "PUT", "PATCH"):
        body = b"{}"
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return Answer(
            response.status, response.getheader("WWW-Authenticate"), nonce=response.getheader("DPoP-Nonce")
        )
    except ConnectionRefusedError as exc:
        raise Unreachable(f"cannot connect to {url}: {exc.strerror}") from None
    except TimeoutError:
        return Answer(0, failure=f"timeout after {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Answer(0, failure=f"no answer ({type(exc).__name__})")
    finally:
        conn.close()


def get_json(url: str, timeout: float = TIMEOUT) -> tuple[int, object]:
    """GET a JSON document; (status, parsed body or None). Raises Unreachable like :func:`send`."""
    import json

    parts = urlsplit(url)
    conn = _connection(parts.scheme, parts.hostname or "127.0.0.1", parts.port, timeout)
    try:
        conn.request("GET", parts.path or "/", headers={"Accept": "application/json", "Connection": "close"})
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None
    except ConnectionRefusedError as exc:
        raise Unreachable(f"cannot connect to {url}: {exc.strerror}") from None
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        conn.close()
