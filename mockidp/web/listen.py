"""Binding an aiohttp app to a loopback port, and the URL it is reached at: shared by the IdP
and the mock APIs."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl

from aiohttp import web


async def listen(
    app: web.Application, host: str, port: int, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    """Start ``app`` on ``host:port`` (0 picks a free port); returns the runner and the bound port.

    With ``ssl_context`` it serves https (``mockidp.tls.server_context()``).

    A short shutdown timeout keeps teardown fast when clients hold keep-alive connections;
    a bind failure cleans the runner up before the ``OSError`` reaches the caller.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, ssl_context=ssl_context)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    bound: int = server.sockets[0].getsockname()[1]
    return runner, bound


def advertised_host(host: str) -> str:
    """How a URL names the listening address ``host``.

    A wildcard bind (``0.0.0.0``, ``::``) is no address a client can connect to, so an issuer
    ``http://0.0.0.0:PORT`` would be unusable: the machine's host name stands in. IPv6
    addresses go in brackets (RFC 3986 section 3.2.2), a zone ID's ``%`` percent-encoded
    (RFC 6874).
    """
    bare = host.strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return host or socket.gethostname()
    if address.is_unspecified:
        return socket.gethostname()
    return "[" + bare.replace("%", "%25") + "]" if address.version == 6 else bare


def http_origin(host: str, port: int, *, tls: bool = False) -> str:
    """``http://host:port`` for a listening address: ``http://[::1]:80``, a wildcard bind by the
    machine's host name; ``https://`` with ``tls``. Every URL derived from a listening address
    (issuer, metadata, mock APIs) is built here."""
    return f"{'https' if tls else 'http'}://{advertised_host(host)}:{port}"
