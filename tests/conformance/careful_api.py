"""A resource server written the common way: Starlette + PyJWT's ``PyJWKClient``.

The check-api verdict tests run mockidp against it (not against mockidp's own validator), in
the variants a real team ships: careful (pinned algorithm, ``typ``, ``iss``, ``aud``, ``exp``,
``nbf``, scope), hardened on top (every RFC 9068 claim, strict JSON, a size limit), or missing
one thing. Run as a script (``python careful_api.py --port N [--variant V]``, reading
MOCKIDP_ISSUER / MOCKIDP_JWKS_URI / MOCKIDP_AUDIENCE like any API under ``--start``) or in a
thread with :func:`serve`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

#: careful: what the issue calls a careful API; hardened: careful plus every form rule;
#: no-typ, no-challenge, fetch-jku, crash-on-garbage: hardened but for that one thing;
#: at-jwt-only: hardened but too strict, refusing the full media type `application/at+jwt`
VARIANTS = ("careful", "hardened", "no-typ", "no-challenge", "fetch-jku", "crash-on-garbage", "at-jwt-only")
#: the clock skew allowed on exp/nbf/iat (PyJWT's default is 0; teams set a few tens of seconds)
LEEWAY = 30
MAX_TOKEN = 4096


@dataclass(frozen=True)
class Settings:
    issuer: str
    jwks_uri: str
    audience: str
    scope: str = "items:read"
    variant: str = "hardened"
    leeway: int = LEEWAY
    #: its delegation policy (RFC 8693 act): "" act not looked at, "none", "max-depth=N", and
    #: "max-depth=N,no-may-act" (limits the chain but never compares act with may_act)
    delegation: str = ""


class Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


def _strict_json(segment: str) -> dict[str, Any]:
    """UTF-8 JSON object, no duplicate names (what PyJWT's own parsing lets through)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            raise ValueError("duplicate name")
        return dict(items)

    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    value = json.loads(raw.decode("utf-8"), object_pairs_hook=pairs)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


class Validator:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.jwks = jwt.PyJWKClient(settings.jwks_uri, cache_keys=True)

    def claims(self, authorization: str | None) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "")
        variant = self.s.variant
        if variant == "crash-on-garbage":
            _head, _body, _sig = token.split(".")  # raises on anything but three parts: a 500
        try:
            header = jwt.get_unverified_header(token)
            if variant == "fetch-jku" and "jku" in header:
                urllib.request.urlopen(str(header["jku"]), timeout=2).read()  # the flaw under test
            allowed = ("at+jwt",) if variant == "at-jwt-only" else ("at+jwt", "application/at+jwt")
            if variant != "no-typ" and str(header.get("typ", "")).lower() not in allowed:
                raise Refused(401, "invalid_token")
            if variant != "careful":
                if len(token) > MAX_TOKEN:
                    raise Refused(401, "invalid_token")
                head, body, _ = token.split(".")
                _strict_json(head), _strict_json(body)
            key = self.jwks.get_signing_key_from_jwt(token)
            required = ["exp", "iss", "aud"]
            if variant != "careful":
                required += ["sub", "iat", "jti", "client_id"]
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.s.audience,
                issuer=self.s.issuer,
                leeway=self.s.leeway,
                options={"require": required},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Refused(401, "invalid_token") from exc
        granted = claims.get("scope")
        if not isinstance(granted, str):
            if variant != "careful":
                raise Refused(401, "invalid_token")
            granted = ""
        if not set(self.s.scope.split()) <= set(granted.split(" ")):
            raise Refused(403, "insufficient_scope")
        if "act" in claims and self.s.delegation:
            self._delegation(claims)
        return claims

    def _delegation(self, claims: dict[str, Any]) -> None:
        """A delegation policy the way an API that declares one writes it."""
        policy, _, extra = self.s.delegation.partition(",")
        if policy == "none":
            raise Refused(401, "invalid_token")
        depth, node = 0, claims["act"]
        while isinstance(node, dict):
            depth, node = depth + 1, node.get("act")
        if depth > int(policy.partition("=")[2]):
            raise Refused(401, "invalid_token")
        may_act = claims.get("may_act")
        if (
            extra != "no-may-act"
            and isinstance(may_act, dict)
            and may_act.get("sub") != claims["act"].get("sub")
        ):
            raise Refused(401, "invalid_token")


def make_app(settings: Settings) -> Starlette:
    validator = Validator(settings)

    async def items(request: Request) -> JSONResponse:
        try:
            claims = validator.claims(request.headers.get("authorization"))
        except Refused as exc:
            headers = {}
            if settings.variant != "no-challenge":
                headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"' if exc.error else "Bearer"
            return JSONResponse({"error": exc.error or "unauthorized"}, exc.status, headers=headers)
        return JSONResponse({"items": [], "sub": claims.get("sub")})

    return Starlette(routes=[Route("/items", items, methods=["GET", "POST"])])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Serve with uvicorn in a thread; yields the URL of the protected endpoint."""
    with serve_app(make_app(settings)) as url:
        yield url


@contextmanager
def serve_app(app: Starlette) -> Iterator[str]:
    """Any of these test APIs under uvicorn on 127.0.0.1 in a thread; yields its ``/items`` URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/items"
    finally:
        server.should_exit = True
        thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--variant", choices=VARIANTS, default="hardened")
    parser.add_argument("--issuer", help="trust this issuer instead of MOCKIDP_ISSUER (a misconfigured API)")
    args = parser.parse_args()
    env = os.environ
    issuer = args.issuer or env["MOCKIDP_ISSUER"]
    settings = Settings(issuer, env["MOCKIDP_JWKS_URI"], env["MOCKIDP_AUDIENCE"], variant=args.variant)
    print(f"items API on port {args.port}, trusting {issuer}", flush=True)
    uvicorn.run(make_app(settings), host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
