"""Where a request comes from, as far as browsers tell: ``Host``, ``Origin`` and ``Sec-Fetch-Site``.

Shared by the control API (no web page may drive it, and no DNS-rebound name may reach it)
and the sign-in, consent and logout forms (no other site may submit them).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from .keys import STATE

#: host names that always mean this machine (RFC 6761 section 6.3)
LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def host_name(host: str) -> str:
    """The name or address in a ``Host`` value, without port or IPv6 brackets, lower-cased."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() and ":" not in name else host


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (also IPv4-mapped); names, unknown or unparsable values are not."""
    if not address:
        return False
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback


def is_loopback_host(name: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ``::1``: names only this machine answers."""
    return name in LOOPBACK_NAMES or is_loopback(name)


def trusted_host(request: web.Request) -> bool:
    """The ``Host`` names this machine or the issuer's own host, so DNS rebinding cannot reach us.

    A page on ``rebind.attacker.example`` whose name later resolves to 127.0.0.1 still sends
    ``Host: rebind.attacker.example``; refusing that keeps the page out even though the
    connection itself comes from loopback. A request without ``Host`` is refused too.
    """
    host = request.headers.get("Host")
    if not host:
        return False
    name = host_name(host)
    if is_loopback_host(name):
        return True
    issuer_host = (urlsplit(request.app[STATE].issuer).hostname or "").lower()
    return bool(issuer_host) and name == issuer_host


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the default port filled in; None for ``null`` or junk."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def from_another_site(request: web.Request) -> bool:
    """A browser's cross-origin request (CSRF from another page, or another port on this machine).

    Browsers send ``Origin`` (and ``Sec-Fetch-Site``) on such requests; curl, test code and
    SDKs send neither, so they are unaffected. ``Origin: null`` (a sandboxed or opaque page)
    counts as another site.
    """
    if request.headers.get("Sec-Fetch-Site", "same-origin").lower() not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    found = _origin(origin)
    return found is None or found != _origin(request.app[STATE].issuer)
