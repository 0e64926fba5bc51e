"""A DPoP-requiring resource server written the common way: Starlette + PyJWT (RFC 9449 §7.1).

The access token is checked by ``careful_api``'s hardened validator; the proof by this module,
from the RFC, independent of mockidp. ``skip`` names one check the API leaves out (``scheme``,
``proof``, ``typ``, ``signature``, ``htm``, ``htu``, ``iat``, ``nonce``, ``ath``, ``jkt``, ``jti``):
``check-api --dpop`` must pass the careful API (no skip) and fail each broken one on that check.
With ``nonce`` the API demands its own ``DPoP-Nonce`` (skip ``nonce``: it hands nonces out but
never checks them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import careful_api
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SKIPS = ("scheme", "proof", "typ", "signature", "htm", "htu", "iat", "nonce", "ath", "jkt", "jti")
ALGS = ("ES256", "ES384", "PS256", "RS256", "EdDSA")
WINDOW = 60


@dataclass
class Settings:
    token: careful_api.Settings
    skip: str = ""
    nonce: bool = False
    seen: set[str] = field(default_factory=set)
    current_nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))


class Refused(Exception):
    def __init__(self, error: str, nonce: bool = False) -> None:
        super().__init__(error)
        self.error, self.nonce = error, nonce


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict[str, Any]) -> str:
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[
        jwk["kty"]
    ]
    return b64(
        hashlib.sha256(json.dumps({m: jwk[m] for m in members}, separators=(",", ":")).encode()).digest()
    )


def check_proof(s: Settings, request: Request, token: str, jkt: str | None) -> None:
    skip = s.skip
    proofs = request.headers.getlist("dpop")
    if len(proofs) != 1:
        if skip == "proof" and not proofs:
            return
        raise Refused("invalid_dpop_proof")
    proof = proofs[0]
    try:
        header = jwt.get_unverified_header(proof)
        jwk = header["jwk"]
        if skip != "typ" and header.get("typ") != "dpop+jwt":
            raise Refused("invalid_dpop_proof")
        if skip == "signature":
            claims = jwt.decode(proof, options={"verify_signature": False})
        else:
            if header.get("alg") not in ALGS or any(m in jwk for m in ("d", "p", "q", "k")):
                raise Refused("invalid_dpop_proof")
            key = jwt.PyJWK(jwk, algorithm=header["alg"]).key
            claims = jwt.decode(proof, key, algorithms=[header["alg"]])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise Refused("invalid_dpop_proof") from None
    url = urlsplit(str(request.url))
    if skip != "htm" and claims.get("htm") != request.method:
        raise Refused("invalid_dpop_proof")
    htu = urlsplit(str(claims.get("htu", "")))
    if skip != "htu" and (htu.scheme, htu.netloc, htu.path) != (url.scheme, url.netloc, url.path):
        raise Refused("invalid_dpop_proof")
    iat = claims.get("iat")
    if skip != "iat" and (not isinstance(iat, int | float) or abs(iat - time.time()) > WINDOW):
        raise Refused("invalid_dpop_proof")
    if s.nonce and skip != "nonce" and claims.get("nonce") != s.current_nonce:
        raise Refused("use_dpop_nonce", nonce=True)
    if skip != "ath" and claims.get("ath") != b64(hashlib.sha256(token.encode()).digest()):
        raise Refused("invalid_dpop_proof")
    if skip != "jkt" and (jkt is None or thumbprint(jwk) != jkt):
        raise Refused("invalid_token")  # RFC 9449 §7.1's own example for a key mismatch
    if skip != "jti":
        if claims.get("jti") in s.seen:
            raise Refused("invalid_dpop_proof")
        s.seen.add(str(claims.get("jti")))


def make_app(s: Settings) -> Starlette:
    validator = careful_api.Validator(s.token)

    def challenge(error: str) -> str:
        params = [f'error="{error}"'] if error else []
        return "DPoP " + ", ".join([*params, f'algs="{" ".join(ALGS)}"'])

    async def items(request: Request) -> JSONResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        nonce_header = {"DPoP-Nonce": s.current_nonce} if s.nonce else {}
        try:
            if scheme.lower() not in ("dpop", "bearer") or not token:
                raise Refused("")
            claims = validator.claims(f"Bearer {token}")
            jkt = (claims.get("cnf") or {}).get("jkt")
            if scheme.lower() == "bearer":
                if s.skip != "scheme":
                    raise Refused("invalid_token")
            else:
                check_proof(s, request, token, jkt)
        except careful_api.Refused as exc:
            status, error = exc.status, exc.error
            headers = {"WWW-Authenticate": challenge(error), **nonce_header}
            return JSONResponse({"error": error}, status, headers=headers)
        except Refused as exc:
            headers = {"WWW-Authenticate": challenge(exc.error), **nonce_header}
            return JSONResponse({"error": exc.error or "unauthorized"}, 401, headers=headers)
        return JSONResponse({"items": [], "sub": claims.get("sub")}, headers=nonce_header)

    return Starlette(routes=[Route("/items", items, methods=["GET", "POST"])])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Serve with uvicorn in a thread; yields the URL of the protected endpoint."""
    with careful_api.serve_app(make_app(settings)) as url:
        yield url


def main() -> None:
    """``python dpop_api.py --port N [--skip CHECK] [--nonce]``, trusting MOCKIDP_* like any API
    under ``check-api --start``."""
    import argparse
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--skip", choices=SKIPS, default="")
    parser.add_argument("--nonce", action="store_true")
    args = parser.parse_args()
    env = os.environ
    token = careful_api.Settings(env["MOCKIDP_ISSUER"], env["MOCKIDP_JWKS_URI"], env["MOCKIDP_AUDIENCE"])
    settings = Settings(token, skip=args.skip, nonce=args.nonce)
    uvicorn.run(make_app(settings), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
