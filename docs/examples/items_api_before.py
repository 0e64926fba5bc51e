"""The tutorial's API before check-api: FastAPI + PyJWT, written the way many teams start.

It verifies the signature with the IdP's keys, pins RS256 and checks iss, aud and exp: and
still lets tokens in that it should not. `docs/tutorial-test-your-api.md` runs check-api on it.

    MOCKIDP_ISSUER=... MOCKIDP_JWKS_URI=... MOCKIDP_AUDIENCE=... uvicorn items_api_before:app
"""

from __future__ import annotations

import os
from typing import Any

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = os.environ["MOCKIDP_ISSUER"]
AUDIENCE = os.environ["MOCKIDP_AUDIENCE"]
jwks = jwt.PyJWKClient(os.environ["MOCKIDP_JWKS_URI"])
app = FastAPI()


def claims(credentials: HTTPAuthorizationCredentials = Depends(HTTPBearer())) -> dict[str, Any]:
    token = credentials.credentials
    try:
        key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="invalid token") from None


@app.get("/items")
def list_items(token: dict[str, Any] = Depends(claims)) -> dict[str, Any]:
    if "items:read" not in token.get("scope", ""):
        raise HTTPException(status_code=403, detail="insufficient scope")
    return {"items": ["apple", "pear"], "for": token.get("sub")}
