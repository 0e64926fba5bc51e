"""``mockidp.outbound``: the one place mockidp fetches from, with its SSRF guard and cache.

Served by a real aiohttp server on 127.0.0.1 (plain http, which the policy must opt into).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiohttp import web
from apphost import AppHost

from mockidp.errors import FetchError
from mockidp.outbound import DocumentCache, FetchPolicy, check_url, fetch_json

LOOPBACK = FetchPolicy(allow_http_loopback=True, max_bytes=5 * 1024)


class Documents:
    """A tiny document host that counts its hits."""

    def __init__(self) -> None:
        self.hits = 0
        self.app = web.Application()
        self.app.router.add_get("/doc", self.doc)
        self.app.router.add_get("/cached", self.cached)
        self.app.router.add_get("/nostore", self.nostore)
        self.app.router.add_get("/big", self.fixed(web.json_response({"x": "a" * 6000})))
        self.app.router.add_get("/list", self.fixed(web.json_response([1, 2])))
        self.app.router.add_get("/text", self.fixed(web.Response(text="not json")))
        self.app.router.add_get("/missing", self.fixed(web.json_response({}, status=404)))
        self.app.router.add_get("/moved", self.moved)

    @staticmethod
    def fixed(response: web.Response) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return response

        return handler

    async def doc(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response({"hello": "world"})

    async def cached(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response({"n": self.hits}, headers={"Cache-Control": "public, max-age=60"})

    async def nostore(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response({"n": self.hits}, headers={"Cache-Control": "no-store"})

    async def moved(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/doc")


@pytest.fixture(scope="module")
def host() -> Iterator[tuple[str, Documents]]:
    docs = Documents()
    with AppHost(docs.app) as served:
        yield served.base_url, docs


def test_fetches_a_json_object_over_loopback_http_when_allowed(host: tuple[str, Documents]) -> None:
    base, _ = host
    fetched = fetch_json(f"{base}/doc", LOOPBACK)
    assert fetched.body == {"hello": "world"}


def test_http_is_refused_by_default(host: tuple[str, Documents]) -> None:
    base, _ = host
    with pytest.raises(FetchError, match="http is refused"):
        fetch_json(f"{base}/doc", FetchPolicy())


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big", "larger than 5120 bytes"),
        ("/list", "not a JSON object"),
        ("/text", "not JSON"),
        ("/missing", "HTTP 404"),
        ("/moved", "HTTP 302"),
    ],
)
def test_bad_answers_are_refused_with_the_reason(host: tuple[str, Documents], path: str, reason: str) -> None:
    base, _ = host
    with pytest.raises(FetchError, match=reason):
        fetch_json(f"{base}{path}", LOOPBACK)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/jwks",
        "https://192.168.1.1/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/jwks",
        "http://10.0.0.1/jwks",
        "ftp://example.com/jwks",
        "https://user:pw@127.0.0.1/jwks",
    ],
)
def test_private_addresses_and_odd_urls_are_refused_before_connecting(url: str) -> None:
    with pytest.raises(FetchError):
        check_url(url, LOOPBACK)


def test_loopback_over_https_can_be_refused() -> None:
    with pytest.raises(FetchError, match="loopback"):
        check_url("https://127.0.0.1:1/doc", FetchPolicy(allow_loopback=False))


def test_cache_keeps_a_document_for_its_max_age(host: tuple[str, Documents]) -> None:
    base, _ = host
    cache = DocumentCache()
    first = cache.get(f"{base}/cached", LOOPBACK)
    again = cache.get(f"{base}/cached", LOOPBACK)
    assert again is first
    assert 55 < first.expires_at - time.monotonic() <= 60
    fresh = cache.get(f"{base}/cached", LOOPBACK, refresh=True)
    assert fresh.body["n"] == first.body["n"] + 1


def test_no_store_is_fetched_every_time(host: tuple[str, Documents]) -> None:
    base, _ = host
    cache = DocumentCache()
    one = cache.get(f"{base}/nostore", LOOPBACK)
    two = cache.get(f"{base}/nostore", LOOPBACK)
    assert json.dumps(one.body) != json.dumps(two.body)
