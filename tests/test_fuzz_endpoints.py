"""Bounded random-request fuzzing of every route: no 5xx, no stack trace, well-formed errors.

Bounded in count and in time, 127.0.0.1 only. Reproduce or scale up with
``MOCKIDP_FUZZ_SEED=<n> MOCKIDP_FUZZ_REQUESTS=<n> MOCKIDP_FUZZ_SECONDS=<s>``.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from urllib.parse import quote

import pytest
from fuzzing import Target, problems, send, targets

from mockidp import MockIdP
from mockidp.demo import demo_config

SEED = int(os.environ.get("MOCKIDP_FUZZ_SEED", "20261129"))
MAX_REQUESTS = int(os.environ.get("MOCKIDP_FUZZ_REQUESTS", "5000"))
MAX_SECONDS = float(os.environ.get("MOCKIDP_FUZZ_SECONDS", "30"))

PARAMS = [
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "resource",
    "audience",
    "code",
    "redirect_uri",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "refresh_token",
    "token",
    "token_type_hint",
    "response_type",
    "state",
    "nonce",
    "prompt",
    "id_token_hint",
    "post_logout_redirect_uri",
    "username",
    "password",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "device_code",
    "client_assertion",
    "client_assertion_type",
    "request",
    "request_uri",
    "login_hint",
    "max_age",
    "response_mode",
    "access_token",
    "keep",
    "freeze",
    "advance",
]
GOOD_VALUES = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "password",
    "implicit",
    "demo-agent",
    "demo-agent-secret",
    "demo-app",
    "demo-api",
    "demo-api:read",
    "openid",
    "code",
    "token",
    "S256",
    "plain",
    "http://127.0.0.1/callback",
    "https://evil.example",
    "alice",
    "alice-pw",
    "none",
    "query",
    "fragment",
    "form_post",
]
CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "application/json",
    "application/json; charset=utf-16",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/jwt",
    "a/b/c",
    "",
    ";;;",
)
#: methods the HTTP parser accepts (an unknown one is refused by aiohttp before any handler runs)
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE")


def header_safe(text: str) -> str:
    """Visible ASCII only: control bytes in a header are refused by the HTTP parser, not the app."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def junk(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(GOOD_VALUES)
    if kind == 1:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return "A" * rng.choice((1000, 20_000, 100_000))
    if kind == 3:
        return "a\x00b"
    if kind == 4:
        return " ".join(rng.choice(GOOD_VALUES) for _ in range(rng.randrange(1, 6)))
    if kind == 5:
        return rng.choice(("../../etc/passwd", "' OR 1=1 --", "${jndi:x}", "%s%n", "<script>", "\r\n\t"))
    if kind == 6:
        return str(rng.choice((-1, 0, 2**64, 1e309)))
    if kind == 7:
        return "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    return "".join(rng.choice("abc:/._-~%+=&?#") for _ in range(rng.randrange(1, 30)))


def form(rng: random.Random, limit: int) -> str:
    pairs = []
    for _ in range(rng.randrange(0, 8)):
        name = rng.choice(PARAMS) if rng.random() < 0.8 else junk(rng)[:50]
        for _ in range(1 if rng.random() < 0.8 else rng.randrange(2, 4)):  # sometimes repeated
            pairs.append(f"{quote(name)}={quote(junk(rng), safe='')}")
    if rng.random() < 0.15:
        pairs.append(rng.choice(("%ff%fe=%c3%28", "a=%00", "%=", "==", "&&&", "a", "%zz=1")))
    return "&".join(pairs)[:limit]


def body(rng: random.Random) -> bytes | None:
    kind = rng.randrange(10)
    if kind == 0:
        return None
    if kind == 1:
        return rng.randbytes(rng.randrange(0, 3000))
    if kind == 2:
        return b"\xff\xfe\xc3\x28" * rng.randrange(1, 50)
    if kind == 3:
        return b"[" * rng.choice((10, 5000, 100_000))
    if kind == 4:
        return b"A" * (300 * 1024)  # above the body limit
    if kind == 5:
        value: dict[str, object] = {
            rng.choice(PARAMS): rng.choice((junk(rng), [junk(rng)], None, True, 1.5, {"a": []}))
        }
        return json.dumps(value).encode()
    if kind == 6:
        return rng.choice((b"null", b"[]", b'"x"', b"{}", b'{"a":1,"a":2}', b"NaN", b"1e999999"))
    return form(rng, 200_000).encode()


def auth_header(rng: random.Random) -> str:
    kind = rng.randrange(8)
    creds = f"{rng.choice(GOOD_VALUES)}:{junk(rng)[:200]}".encode("utf-8", "surrogatepass")
    if kind == 0:
        return "Basic " + base64.b64encode(creds).decode()
    if kind == 1:
        return "Basic " + base64.b64encode(b"demo-agent:demo-agent-secret").decode()
    if kind == 2:
        return "Basic " + base64.b64encode(rng.randbytes(20)).decode()
    if kind == 3:
        return rng.choice(("Basic", "Basic ", "Basic !!!", "Basic =", "basic ZGVtbw==", "Basic ZGVtbw"))
    if kind == 4:
        return "Bearer " + header_safe(junk(rng)[:500])
    if kind == 5:
        return "DPoP eyJ.eyJ.x"
    if kind == 6:
        return "Basic " + base64.b64encode(b"%ZZ:%00").decode()
    return rng.choice(("Negotiate abc", "Token x", "Bearer", " ", "Basic " + "A" * 6000))


def request_for(rng: random.Random, target: Target) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    method = target.method if rng.random() < 0.7 else rng.choice(METHODS)
    path = target.path
    if rng.random() < 0.6:
        path += "?" + form(rng, 6000)
    headers: list[tuple[str, str]] = []
    if rng.random() < 0.85:
        headers.append(("Content-Type", rng.choice(CONTENT_TYPES)))
    if rng.random() < 0.6:
        headers.append(("Authorization", auth_header(rng)))
    if rng.random() < 0.2:
        headers.append(("Authorization", auth_header(rng)))  # twice
    if rng.random() < 0.2:
        headers.append(("Cookie", f"mockidp_session={header_safe(junk(rng)[:100])}"))
    if rng.random() < 0.2:
        headers.append(rng.choice((("DPoP", "x.y.z"), ("Accept", "text/html"), ("Origin", "null"))))
    return method, path, headers, body(rng) if method not in ("GET", "HEAD") or rng.random() < 0.1 else None


def test_every_route_is_fuzzed() -> None:
    """The router-derived list holds the core endpoints (and whatever others add)."""
    with MockIdP(demo_config()) as idp:
        names = {t.name for t in targets(idp)}
    assert {"discovery", "jwks", "token", "register"} <= names


@pytest.mark.parametrize("issuer", [None, "/tenant-a"])
def test_random_malformed_requests_to_every_route(issuer: str | None) -> None:
    """Half of the budget on a root issuer, half on an issuer with a path."""
    rng = random.Random(f"{SEED}{issuer}")
    budget, seconds = MAX_REQUESTS // 2, MAX_SECONDS / 2
    failures: list[str] = []
    sent = 0
    with MockIdP(demo_config(), issuer=issuer) as idp:
        routes = targets(idp)
        deadline = time.monotonic() + seconds
        while sent < budget and time.monotonic() < deadline:
            target = routes[sent % len(routes)]
            method, path, headers, data = request_for(rng, target)
            answer = send(idp.port, method, path, headers, data)
            sent += 1
            for problem in problems(target, answer, method):
                failures.append(f"#{sent} {method} {path[:120]} {headers!r:.200}: {problem}")
            if target.name == "control" or sent % 200 == 0:
                idp.reset()  # a lucky control request must not queue faults for the next ones
        bugs = idp.state.server_errors.take()
    assert not bugs, bugs[:3]
    assert sent >= min(budget, 500), f"only {sent} requests in {seconds}s"
    assert not failures, f"seed {SEED}: {len(failures)} bad answers:\n" + "\n".join(failures[:20])
