"""``mockidp.outbound`` over https: it trusts mockidp's local CA (and the system's), and it
connects to the address it checked, not to a second DNS answer (DNS rebinding)."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest
from aiohttp import web

import mockidp
from mockidp.errors import FetchError
from mockidp.outbound import FetchPolicy, fetch_json
from mockidp.runtime import AppRuntime
from mockidp.web.listen import listen


class TlsHost(AppRuntime):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.context, self.port = context, 0
        self.app = web.Application()
        self.app.router.add_get("/doc", self.doc)

    async def doc(self, request: web.Request) -> web.Response:
        return web.json_response({"host": request.host})

    async def _listen(self) -> web.AppRunner:
        runner, self.port = await listen(self.app, "127.0.0.1", 0, self.context)
        return runner


def test_https_documents_signed_by_the_local_ca_are_trusted_by_default() -> None:
    with TlsHost(mockidp.issue_cert("127.0.0.1").server_context()) as host:
        fetched = fetch_json(f"https://127.0.0.1:{host.port}/doc", FetchPolicy())
    assert fetched.body == {"host": f"127.0.0.1:{host.port}"}


def test_a_certificate_for_another_name_is_refused() -> None:
    with (
        TlsHost(mockidp.issue_cert("elsewhere.test").server_context()) as host,
        pytest.raises(FetchError, match="cannot fetch"),
    ):
        fetch_json(f"https://127.0.0.1:{host.port}/doc", FetchPolicy())


def test_the_checked_address_is_the_one_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first answer (loopback, allowed) is checked; a rebinding second answer pointing at
    a private address is never asked for, and TLS still verifies the host name."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = "127.0.0.1" if not answers else "10.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with TlsHost(mockidp.issue_cert("rebind.test").server_context()) as host:
        fetched = fetch_json(f"https://rebind.test:{host.port}/doc", FetchPolicy(timeout=3))
    assert fetched.body == {"host": f"rebind.test:{host.port}"}
    assert answers == ["127.0.0.1"]


def test_trusted_hosts_restrict_the_host_names(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FetchError, match="not one of the trusted hosts"):
        fetch_json("https://127.0.0.1:1/doc", FetchPolicy(allowed_hosts=("docs.example",)))


@pytest.mark.parametrize(
    "address",
    ["::ffff:10.0.0.1", "2002:0a00:0001::1", "::ffff:192.168.1.1"],
)
def test_private_ipv4_wrapped_in_ipv6_is_refused(address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(FetchError, match="non-public address"):
        fetch_json("https://wrapped.test/doc", FetchPolicy())


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Cache-Control": "public, max-age=60"}, 60),
        ({"Cache-Control": "max-age=999999"}, 3600),
        ({"Cache-Control": "no-store"}, 0),
        ({"Cache-Control": "private, no-cache"}, 0),
        ({"Expires": "Mon, 30 Nov 2026 01:02:00 GMT", "Date": "Mon, 30 Nov 2026 01:00:00 GMT"}, 120),
        ({"Expires": "0", "Date": "Mon, 30 Nov 2026 01:00:00 GMT"}, 0),
        ({"Cache-Control": "max-age=10", "Expires": "Mon, 30 Nov 2026 02:00:00 GMT"}, 10),
        ({}, 300),
    ],
)
def test_cache_lifetime_follows_the_http_cache_headers(headers: dict[str, str], seconds: float) -> None:
    from mockidp.outbound import _lifetime

    lifetime = _lifetime(headers.get("Cache-Control"), headers.get("Expires"), headers.get("Date"))
    assert lifetime == seconds
