"""Binding an aiohttp app to a loopback port, and the URL it is reached at: shared by the IdP
and the mock APIs."""

from __future__ import annotations

import asyncio

from aiohttp import web


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start ``app`` on ``host:port`` (0 picks a free port); returns the runner and the bound port.

    A short shutdown timeout keeps teardown fast when clients hold keep-alive connections;
    a bind failure cleans the runner up before the ``OSError`` reaches the caller.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    bound: int = server.sockets[0].getsockname()[1]
    return runner, bound


def http_origin(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 address in brackets (RFC 3986 section 3.2.2): ``http://[::1]:80``.

    Every URL derived from a listening address (issuer, metadata, mock APIs) is built here.
    """
    if ":" in host and not host.startswith("["):
        host = "[" + host.replace("%", "%25") + "]"  # a zone ID's % is percent-encoded (RFC 6874)
    return f"http://{host}:{port}"
