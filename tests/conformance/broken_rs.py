"""A small resource server for the check-api corpus: correct, or skipping exactly one check.

Written with PyJWT and the standard library (not mockidp) so check-api is measured against an
independent validator. Run as a script (``python broken_rs.py --port N [--skip CHECK]``, reading
MOCKIDP_ISSUER / MOCKIDP_JWKS_URI / MOCKIDP_AUDIENCE like any API under ``--start``) or in-process
with :func:`serve`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization

SKIPS = (
    "signature",  # decodes without verifying
    "alg-none",  # accepts alg none unverified
    "hs-rs-confusion",  # HS256 keyed with the IdP's public key PEM
    "aud",
    "exp",
    "nbf",
    "iss",
    "scope",
    "jku",  # fetches keys from the token's jku
    "jwk",  # trusts a key embedded in the token
    "crash",  # malformed input raises: answers 500
    "scope-substring",  # checks the scope with `needed in granted` on the raw string
    "query",  # also takes the token from ?access_token=
    "cache",  # remembers a validated token for good, and has no leeway
    "iss-startswith",  # compares iss with `startswith` (PyJWT CVE-2024-53861's family)
    "jose-hmac",  # HS256 keyed with the public key in any encoding: PEM, DER, OpenSSH (python-jose)
    "jwks-all-keys",  # parses every key of the JWKS first, so one it cannot parse breaks it all
)
LEEWAY = 60


class Reject(Exception):
    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(description or error)
        self.status, self.error = status, error


@dataclass
class Settings:
    issuer: str
    jwks_uri: str
    audience: str
    scope: str
    skip: str | None = None
    #: fetch the JWKS once and keep it, like a validator with a long-lived key cache
    cache_keys: bool = False
    cached: list[dict[str, Any]] | None = None
    leeway: int = LEEWAY
    #: skip="cache": tokens validated once, never looked at again
    validated: dict[str, dict[str, Any]] = field(default_factory=dict)

    def keys(self) -> list[dict[str, Any]]:
        if not self.cache_keys:
            return _fetch_keys(self.jwks_uri)
        if self.cached is None:
            self.cached = _fetch_keys(self.jwks_uri)
        return self.cached


def _b64json(segment: str) -> dict[str, Any]:
    if not segment or any(c in segment for c in "+/= \n"):
        raise Reject(401, "invalid_token", "bad base64url")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    value = json.loads(raw.decode("utf-8"), object_pairs_hook=_pairs)
    if not isinstance(value, dict):
        raise Reject(401, "invalid_token", "not an object")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise Reject(401, "invalid_token", "duplicate member")
    return dict(pairs)


def _fetch_keys(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url, timeout=5) as response:  # loopback only: URLs come from the IdP
        return list(json.load(response)["keys"])


def _verified_claims(s: Settings, token: str) -> dict[str, Any]:
    if len(token) > 4096:
        raise Reject(401, "invalid_token", "too large")
    parts = token.split(".")
    if s.skip == "crash":
        _head, _, _ = parts  # unpacks without checking: malformed tokens raise
    if len(parts) != 3:
        raise Reject(401, "invalid_token", "not a JWS")
    header = _b64json(parts[0])
    _b64json(parts[1])
    alg = str(header.get("alg"))
    if s.skip == "signature" or (s.skip == "alg-none" and alg.lower() == "none"):
        return dict(jwt.decode(token, options={"verify_signature": False}))
    if s.skip == "jku" and "jku" in header:
        keys = _fetch_keys(str(header["jku"]))
        return _decode_with(token, keys, header, s)
    if s.skip == "jwk" and "jwk" in header:
        return _decode_with(token, [dict(header["jwk"], alg=alg)], header, s)
    for name in ("jku", "jwk", "x5u", "x5c", "crit", "cty"):
        if name in header:
            raise Reject(401, "invalid_token", f"header {name}")
    keys = s.keys()
    if s.skip == "jwks-all-keys":
        try:
            keys = [dict(k) for k in keys if jwt.PyJWK(k)]
        except jwt.PyJWTError:
            raise Reject(401, "invalid_token", "the JWKS holds a key that cannot be parsed") from None
    if s.skip == "hs-rs-confusion" and alg.startswith("HS"):
        return _hmac_with_public_key(token, keys, header)
    if s.skip == "jose-hmac" and alg.startswith("HS"):
        return _hmac_with_public_key(token, keys, header, every_encoding=True)
    return _decode_with(token, keys, header, s)


def _hmac_with_public_key(
    token: str, keys: list[dict[str, Any]], header: dict[str, Any], every_encoding: bool = False
) -> dict[str, Any]:
    jwk = next((k for k in keys if k.get("kid") == header.get("kid")), keys[0])
    public = jwt.PyJWK(jwk).key
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    secrets = [pem, pem.strip(), json.dumps(jwk).encode()]
    if every_encoding:  # python-jose CVE-2024-33663: only PEM was guarded
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        secrets = [der, ssh]
    signing_input, _, signature = token.rpartition(".")
    for secret in secrets:
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        if hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode(), signature):
            return _b64json(token.split(".")[1])
    raise Reject(401, "invalid_token", "bad hmac")


def _decode_with(
    token: str, keys: list[dict[str, Any]], header: dict[str, Any], s: Settings
) -> dict[str, Any]:
    jwk = next((k for k in keys if k.get("kid") == header.get("kid")), None)
    if jwk is None and s.skip in ("jku", "jwk") and keys:
        jwk = keys[0]
    if jwk is None:
        raise Reject(401, "invalid_token", "unknown kid")
    alg = str(jwk.get("alg") or header.get("alg"))
    if header.get("alg") != alg or str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
        raise Reject(401, "invalid_token", "alg or typ")
    try:
        return dict(
            jwt.decode(
                token,
                jwt.PyJWK(jwk, algorithm=alg).key,
                algorithms=[alg],
                audience=None if s.skip == "aud" else s.audience,
                issuer=None if s.skip in ("iss", "iss-startswith") else s.issuer,
                leeway=s.leeway,
                options={
                    "verify_aud": s.skip != "aud",
                    "verify_exp": s.skip != "exp",
                    "verify_nbf": s.skip != "nbf",
                    "verify_iat": True,
                    "require": ["exp", "iat", "sub", "jti", "client_id"] if s.skip != "exp" else ["sub"],
                },
            )
        )
    except jwt.PyJWTError as exc:
        raise Reject(401, "invalid_token", type(exc).__name__) from None


def check(s: Settings, authorization: str | None, method: str) -> dict[str, Any]:
    """The request's claims, or Reject. With skip='crash', malformed input raises instead."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Reject(401, "", "no token")
    if s.skip == "cache" and token in s.validated:
        return s.validated[token]
    try:
        claims = _verified_claims(s, token.strip())
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        if s.skip == "crash":
            raise RuntimeError("unhandled token parsing error") from exc
        raise Reject(401, "invalid_token", type(exc).__name__) from None
    for name in ("iss", "sub", "exp", "iat"):
        if s.skip not in ("iss", "exp", "nbf", "signature", "alg-none") and name not in claims:
            raise Reject(401, "invalid_token", f"missing {name}")
    if s.skip == "iss-startswith":
        if not str(claims.get("iss")).startswith(s.issuer):
            raise Reject(401, "invalid_token", "iss")
    elif s.skip != "iss" and claims.get("iss") != s.issuer:
        raise Reject(401, "invalid_token", "iss")
    if s.skip != "exp" and not isinstance(claims.get("exp"), int | float):
        raise Reject(401, "invalid_token", "exp")
    if s.skip != "exp" and float(claims["exp"]) < time.time() - s.leeway:
        raise Reject(401, "invalid_token", "expired")
    granted = claims.get("scope", "")
    if not isinstance(granted, str):
        raise Reject(401, "invalid_token", "scope type")
    if s.skip == "scope-substring":
        if s.scope not in granted:
            raise Reject(403, "insufficient_scope", "scope")
    elif s.skip != "scope" and not set(s.scope.split()) <= set(granted.split()):
        raise Reject(403, "insufficient_scope", "scope")
    if s.skip == "cache":
        s.validated[token] = claims
    return claims


class _Handler(BaseHTTPRequestHandler):
    settings: Settings

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        authorization = self.headers.get("Authorization")
        query = parse_qs(urlsplit(self.path).query).get("access_token")
        if self.settings.skip == "query" and query and not authorization:
            authorization = f"Bearer {query[0]}"
        try:
            claims = check(self.settings, authorization, self.command)
        except Reject as exc:
            challenge = f'Bearer error="{exc.error}"' if exc.error else 'Bearer realm="api"'
            self._send(exc.status, {"error": exc.error or "unauthorized"}, challenge)
            return
        except RuntimeError:
            self._send(500, {"error": "internal"})
            return
        self._send(200, {"sub": claims.get("sub")})

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def _send(self, status: int, body: dict[str, Any], challenge: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.end_headers()
        self.wfile.write(data)


def make_server(settings: Settings, port: int = 0) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"settings": settings})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run in a thread; yields the URL of its protected endpoint."""
    server = make_server(settings)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/items"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scope", default="items:read")
    parser.add_argument("--skip", choices=SKIPS)
    args = parser.parse_args()
    env = os.environ
    settings = Settings(
        env["MOCKIDP_ISSUER"], env["MOCKIDP_JWKS_URI"], env["MOCKIDP_AUDIENCE"], args.scope, args.skip
    )
    if args.skip == "cache":
        settings.leeway = 0
    make_server(settings, args.port).serve_forever()


if __name__ == "__main__":
    main()
