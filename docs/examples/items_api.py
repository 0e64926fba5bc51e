"""The tutorial's API after check-api's findings: FastAPI + PyJWT, fixed.

Compared with `items_api_before.py`: it requires `typ: at+jwt` and the RFC 9068 claims,
compares scopes as whole space-separated strings, and every refusal carries the
`WWW-Authenticate: Bearer` challenge RFC 6750 §3 asks for.

    MOCKIDP_ISSUER=... MOCKIDP_JWKS_URI=... MOCKIDP_AUDIENCE=... uvicorn items_api:app
"""

from __future__ import annotations

import os
from typing import Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request

ISSUER = os.environ["MOCKIDP_ISSUER"]
AUDIENCE = os.environ["MOCKIDP_AUDIENCE"]
jwks = jwt.PyJWKClient(os.environ["MOCKIDP_JWKS_URI"])
app = FastAPI()


def refuse(status: int, error: str | None) -> HTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(
        status_code=status, detail=error or "no token", headers={"WWW-Authenticate": challenge}
    )


def claims(request: Request) -> dict[str, Any]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise refuse(401, None)
    try:
        if jwt.get_unverified_header(token).get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
            raise refuse(401, "invalid_token")
        key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub", "iat", "jti", "client_id"]},
        )
    except jwt.PyJWTError:
        raise refuse(401, "invalid_token") from None


def needs(scope: str) -> Any:
    def check(token: dict[str, Any] = Depends(claims)) -> dict[str, Any]:
        granted = token.get("scope")
        if not isinstance(granted, str):
            raise refuse(401, "invalid_token")
        if scope not in granted.split(" "):
            raise refuse(403, "insufficient_scope")
        return token

    return check


@app.get("/items")
def list_items(token: dict[str, Any] = Depends(needs("items:read"))) -> dict[str, Any]:
    return {"items": ["apple", "pear"], "for": token.get("sub")}
