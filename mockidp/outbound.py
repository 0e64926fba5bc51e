"""Every request mockidp itself makes: JWKS of signed clients and trusted issuers, client ID
metadata documents. One owner, so one SSRF guard, one size limit and one cache.

Rules (a mock IdP must not become a way into the developer's network):
- ``https`` only; ``http`` only to a loopback address and only when the caller allows it;
- the host must not resolve to a private, link-local, multicast or reserved address, and to
  loopback only when the caller allows it (local tests serve their documents there);
- no redirects, a 200 only, at most ``max_bytes``, a JSON object, within ``timeout`` seconds;
- answers are cached by URL for their ``Cache-Control: max-age`` or ``Expires`` (``no-store``,
  ``no-cache``: not cached);
- https trusts the system's CAs and mockidp's own local CA (``mockidp.tls``), so a test's
  document host can use ``mockidp.issue_cert``;
- the connection goes to the addresses that were checked, not to a second DNS answer, so a
  name that resolves to a public address for the check and to a private one for the connect
  (DNS rebinding) gets nowhere; TLS still verifies the certificate against the host name.

The functions block: call them from a grant (already off the loop) or through
``mockidp.web.workers.off_loop``.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .clock import wall_time
from .errors import FetchError
from .tls import trusted_client_context

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: at most this long in the cache, whatever ``max-age`` says
MAX_CACHE_SECONDS = 3600
#: cached when the answer names no lifetime
DEFAULT_CACHE_SECONDS = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchPolicy:
    """What one kind of fetch may do."""

    max_bytes: int = 64 * 1024
    timeout: float = 5.0
    #: accept ``http://`` URLs whose host is a loopback address
    allow_http_loopback: bool = False
    #: accept hosts that resolve to loopback over https (local test servers)
    allow_loopback: bool = True
    #: trust for https; ``None``: the system's trust store plus mockidp's local CA
    ssl_context: ssl.SSLContext | None = None
    #: only these host names (exact, lower case); empty: any host the address rules allow
    allowed_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    body: dict[str, Any]
    #: ``time.monotonic()`` after which the cached answer is stale
    expires_at: float


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def check_url(url: str, policy: FetchPolicy) -> list[Address]:
    """Refuse a URL this policy does not allow, before any connection is made; returns the
    addresses that were checked (the only ones a fetch then connects to)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(f"{url}: not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError(f"{url}: not an https URL")
    if parts.username is not None or parts.password is not None:
        raise FetchError(f"{url}: must not carry credentials")
    if policy.allowed_hosts and parts.hostname not in policy.allowed_hosts:
        raise FetchError(f"{url}: host {parts.hostname!r} is not one of the trusted hosts")
    addresses = _resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    loopback = all(a.is_loopback for a in addresses)
    if parts.scheme == "http" and not (policy.allow_http_loopback and loopback):
        raise FetchError(f"{url}: http is refused (https only; http only to loopback when allowed)")
    for address in addresses:
        if address.is_loopback:
            if not (policy.allow_loopback or policy.allow_http_loopback):
                raise FetchError(f"{url}: loopback addresses are refused")
        elif not address.is_global or _mapped_private(address):
            raise FetchError(f"{url}: resolves to a non-public address ({address}); refused")
    return addresses


def _mapped_private(address: Address) -> bool:
    """An IPv4-mapped or 6to4/Teredo-wrapped IPv6 address hiding a non-public IPv4 one."""
    if not isinstance(address, ipaddress.IPv6Address):
        return False
    inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
    return inner is not None and not inner.is_global


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise FetchError(f"cannot resolve host {host!r}") from None
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"cannot resolve host {host!r}")
    return addresses


def _connect(addresses: list[Address], port: int, timeout: float | None) -> socket.socket:
    # ``timeout`` may be socket's "global default" sentinel, which create_connection understands
    """A TCP connection to the first of the checked ``addresses`` that answers."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, *, pinned: list[Address], **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self.pinned = pinned

    def connect(self) -> None:
        self.sock = _connect(self.pinned, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, *, pinned: list[Address], context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(host, context=context, **kwargs)
        self.pinned = pinned
        self.tls = context

    def connect(self) -> None:
        sock = _connect(self.pinned, self.port, self.timeout)
        # SNI and certificate checks use the URL's host name, whatever address was dialled
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


class _PinnedHandlers(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Open http and https URLs on the addresses ``check_url`` approved (no second lookup)."""

    def __init__(self, addresses: list[Address], context: ssl.SSLContext) -> None:
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self, context=context)
        self.addresses = addresses
        self.context = context

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_PinnedHTTPConnection, pinned=self.addresses), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_PinnedHTTPSConnection, pinned=self.addresses, context=self.context)
        return self.do_open(connection, req)


def fetch_json(url: str, policy: FetchPolicy) -> Fetched:
    """GET ``url`` under ``policy``; a JSON object, or :class:`FetchError` saying why not."""
    addresses = check_url(url, policy)
    opener = urllib.request.OpenerDirector()
    for handler in (
        _NoRedirect(),
        _PinnedHandlers(addresses, policy.ssl_context or trusted_client_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    # the scheme was checked above: https, or http to loopback
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with opener.open(request, timeout=policy.timeout) as response:
            status = response.status
            headers = response.headers
            raw = response.read(policy.max_bytes + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"{url}: answered HTTP {exc.code}, not 200") from None
    except (OSError, ValueError) as exc:
        raise FetchError(f"{url}: cannot fetch ({exc})") from None
    if status != 200:
        raise FetchError(f"{url}: answered HTTP {status}, not 200")
    if len(raw) > policy.max_bytes:
        raise FetchError(f"{url}: larger than {policy.max_bytes} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FetchError(f"{url}: not JSON") from None
    if not isinstance(body, dict):
        raise FetchError(f"{url}: not a JSON object")
    lifetime = _lifetime(headers.get("Cache-Control"), headers.get("Expires"), headers.get("Date"))
    return Fetched(url, body, time.monotonic() + lifetime)


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


def _lifetime(cache_control: str | None, expires: str | None = None, date: str | None = None) -> float:
    """Seconds to keep an answer (RFC 9111 section 4.2.1): ``no-store``/``no-cache``: none;
    ``max-age``; else ``Expires`` minus ``Date`` (or now); else the default; capped."""
    if cache_control is not None:
        directives = cache_control.lower()
        if "no-store" in directives or "no-cache" in directives:
            return 0
        match = _MAX_AGE.search(cache_control)
        if match is not None:
            return min(int(match.group(1)), MAX_CACHE_SECONDS)
    if expires is not None:
        until = _http_date(expires)
        if until is None:
            return 0  # RFC 9111 section 5.3: an invalid Expires means already expired
        now = _http_date(date) if date is not None else None
        return max(0.0, min((until - (now if now is not None else wall_time())), MAX_CACHE_SECONDS))
    return DEFAULT_CACHE_SECONDS


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass(slots=True)
class DocumentCache:
    """Fetched documents by URL, each kept for its own lifetime; thread-safe."""

    _entries: dict[str, Fetched] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, url: str, policy: FetchPolicy, *, refresh: bool = False) -> Fetched:
        """The cached document, or a fresh fetch when stale, missing or ``refresh`` is asked."""
        with self._lock:
            cached = self._entries.get(url)
        if cached is not None and not refresh and time.monotonic() < cached.expires_at:
            return cached
        fetched = fetch_json(url, policy)
        with self._lock:
            if fetched.expires_at > time.monotonic():
                self._entries[url] = fetched
            else:
                self._entries.pop(url, None)
        return fetched

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
