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
import requests
from fuzzing import Target, problems, send, targets
from userflow import CALLBACK, Authorized, authorize_params, pkce, query_of, redeem

from mockidp import MockIdP
from mockidp.demo import demo_config
from mockidp.web.browser import binding_cookie
from mockidp.web.handlers.authorize import session_cookie

# Hypothesis runs with many examples each: CI runs them, the fast loop leaves them out
pytestmark = pytest.mark.slow

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
    "actor_token_type",
    "requested_token_type",
    "assertion",
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
    "acr_values",
    "claims",
    "times",
    "acr",
    "user",
    "transaction",
    "user_code",
    "auth_req_id",
    "binding_message",
    "authorization_details",
    "login_hint_token",
    "requested_expiry",
    "decision",
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
    "phone offline_access",
    "openid profile email address phone offline_access demo-api:read",
    "select_account",
    'grün"\\',
    "mfa",
    "pwd mfa hwk",
    '{"id_token": {"acr": {"essential": true, "values": ["mfa"]}}, "userinfo": {"email": null}}',
    '{"userinfo": {"name": {"value": 1}}}',
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:openid:params:grant-type:ciba",
    '[{"type": "payment_initiation", "actions": ["initiate"]}]',
    '[{"type": 1}]',
    "BCDF-GHJK",
]
#: real tokens of the running IdP (a user's access and ID tokens, a machine token), filled in by
#: the test: userinfo and id_token_hint then see tokens that verify, not only junk
LIVE_TOKENS: list[str] = []
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
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice(GOOD_VALUES)
    if kind == 9:
        return rng.choice(LIVE_TOKENS or GOOD_VALUES)
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
        choices: tuple[object, ...] = (junk(rng), [junk(rng)], None, True, 1.5, {"a": []})
        value: dict[str, object] = {rng.choice(PARAMS): rng.choice(choices)}
        return json.dumps(value).encode()
    if kind == 6:
        return rng.choice((b"null", b"[]", b'"x"', b"{}", b'{"a":1,"a":2}', b"NaN", b"1e999999"))
    if kind == 8 and rng.random() < 0.5:  # a claims plan: registered names, placeholders, junk
        name = rng.choice(("roles", "iss", "sub", "cnf", "", junk(rng)[:20]))
        values: tuple[object, ...] = (["admin"], "${client_id}", "${nope}", "$${x}", junk(rng), {"a": [1]})
        counts: tuple[object, ...] = (1, 0, -1, None, "x", 2**70)
        plan = {
            "claims": {name: rng.choice(values)},
            "times": rng.choice(counts),
            "client_id": junk(rng)[:20],
        }
        return json.dumps(plan).encode()
    if kind == 7:  # the clock's range: non-finite, past 9999, before 1970, beyond float range
        key = rng.choice(("advance", "set"))
        number = rng.choice(("1e308", "-1e308", "1e400", "253402300800", "-1", "1" + "0" * 400, "0"))
        return f'{{"freeze": {rng.choice(("true", "false"))}, "{key}": {number}}}'.encode()
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


#: Host values: DNS-rebound names (refused by the control API), loopback spellings, junk
HOSTS = (
    "rebind.attacker.example:{port}",
    "127.0.0.1.attacker.example",
    "localhost:{port}",
    "LOCALHOST.",
    "[::1]:{port}",
    "127.0.0.2",
    "[::1",
    "::1",
    ":",
    "a:b:c",
    "[]:{port}",
    "x" * 300,
)
#: what browsers say about where a request comes from (the sign-in forms and control API check it)
BROWSER_HEADERS = (
    ("Origin", "null"),
    ("Origin", "http://evil.example"),
    ("Origin", "http://127.0.0.1:1"),
    ("Origin", "not a url"),
    ("Origin", "http://[::1"),
    ("Sec-Fetch-Site", "cross-site"),
    ("Sec-Fetch-Site", "same-site"),
    ("Sec-Fetch-Site", "same-origin"),
    ("Sec-Fetch-Site", "?"),
)


def browser_headers(rng: random.Random, port: int, cookies: tuple[str, ...]) -> list[tuple[str, str]]:
    """Host, Origin, Sec-Fetch-Site and mockidp's own cookie names with junk values."""
    headers: list[tuple[str, str]] = []
    if rng.random() < 0.25:
        headers.append(("Host", header_safe(rng.choice(HOSTS).format(port=port))))
    if rng.random() < 0.3:
        headers.append(rng.choice(BROWSER_HEADERS))
    if rng.random() < 0.3:
        value = rng.choice(("A" * 43, "x", "", header_safe(junk(rng)[:80])))
        headers.append(("Cookie", "; ".join(f"{name}={value}" for name in cookies)))
    return headers


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
    elif LIVE_TOKENS and rng.random() < 0.3:
        headers.append(("Authorization", f"Bearer {rng.choice(LIVE_TOKENS)}"))
    if rng.random() < 0.2:
        headers.append(("Authorization", auth_header(rng)))  # twice
    if rng.random() < 0.2:
        headers.append(("Cookie", f"mockidp_session={header_safe(junk(rng)[:100])}"))
    if rng.random() < 0.2:
        headers.append(rng.choice((("DPoP", "x.y.z"), ("Accept", "text/html"), ("Origin", "null"))))
    return method, path, headers, body(rng) if method not in ("GET", "HEAD") or rng.random() < 0.1 else None


def live_tokens(idp: MockIdP) -> list[str]:
    """A user's access and ID tokens (code flow), a machine token and a minted user token."""
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    with requests.Session() as http:
        http.trust_env = False
        location = http.get(idp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
        got = Authorized(query_of(location)["code"], verifier, CALLBACK, {})
        body = redeem(idp, http, got).json()
    machine = idp.issue_token(client_id="demo-agent")
    return [
        body["access_token"],
        body["id_token"],
        machine,
        idp.issue_token(client_id="demo-app", subject="alice"),
    ]


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
    with MockIdP(demo_config(), issuer=issuer, acr_levels=["pwd", "mfa", "hwk"]) as idp:
        LIVE_TOKENS[:] = live_tokens(idp)
        routes = targets(idp)
        cookies = (session_cookie(idp.state), binding_cookie(idp.state))
        deadline = time.monotonic() + seconds
        while sent < budget and time.monotonic() < deadline:
            target = routes[sent % len(routes)]
            method, path, headers, data = request_for(rng, target)
            headers += browser_headers(rng, idp.port, cookies)
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


@pytest.mark.parametrize("issuer", [None, "/tenant-a"])
def test_refusals_of_rebound_hosts_and_other_sites_are_clean(issuer: str | None) -> None:
    """Every route, with each refused Host, Origin and Sec-Fetch-Site: no 5xx, and the control API
    answers a JSON 403 to every rebound name."""
    failures: list[str] = []
    with MockIdP(demo_config(), issuer=issuer, login="form") as idp:
        cookies = (session_cookie(idp.state), binding_cookie(idp.state))
        for target in targets(idp):
            for extra in (
                [("Host", "rebind.attacker.example")],
                *([header] for header in BROWSER_HEADERS),
                [("Cookie", "; ".join(f"{name}={'A' * 43}" for name in cookies))],
            ):
                body = b"transaction=txn_x&user=alice&confirmation=x&decision=approve"
                headers = [("Content-Type", "application/x-www-form-urlencoded"), *extra]
                answer = send(idp.port, target.method, target.path, headers, body)
                failures += [f"{target.method} {target.path} {extra}: {p}" for p in problems(target, answer)]
                if target.name != "control":
                    continue
                rebound = extra[0][0] == "Host"
                if rebound and (answer.status, json.loads(answer.body)["error"]) != (403, "access_denied"):
                    failures.append(f"{target.method} {target.path}: rebound Host got {answer.status}")
                idp.reset()
        bugs = idp.state.server_errors.take()
    assert not bugs, bugs[:3]
    assert not failures, "\n".join(failures[:20])
