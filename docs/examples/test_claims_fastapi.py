"""Role-based authorization in FastAPI: roles from mockidp's config and from a per-request plan.

Every token comes from mockidp's token endpoint through a real flow: client credentials with
requests, and the authorization code flow with Authlib. No token is minted by hand.
"""

import secrets

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient


def create_app(issuer, jwks_uri, audience):
    """The API under test: it knows nothing of mockidp, only an issuer, its JWKS and its audience."""
    jwks = jwt.PyJWKClient(jwks_uri)
    app = FastAPI()

    def claims(authorization: str = Header("")):
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
        try:
            key = jwks.get_signing_key_from_jwt(token)
            return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)
        except jwt.PyJWTError:
            raise HTTPException(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None

    def role(name):
        def check(token_claims=Depends(claims)):  # noqa: B008
            roles = token_claims.get("roles", [])
            if not isinstance(roles, list) or name not in roles:  # a string is not a list of roles
                raise HTTPException(403, detail=f"role {name} required")
            return token_claims

        return check

    @app.get("/reports")
    def read_reports(token_claims=Depends(role("reader"))):  # noqa: B008
        return {"sub": token_claims["sub"], "tenant": token_claims.get("tenant")}

    @app.delete("/reports")
    def delete_reports(token_claims=Depends(role("admin"))):  # noqa: B008
        return {"deleted": True}

    return app


AGENT = {
    "client_id": "reports-agent",
    "client_secret": "agent-secret",
    "scopes": ["demo-api:read"],
    "audiences": ["demo-api"],
    # every token of this client carries these claims; ${client_id} is filled in
    "access_token_claims": {"roles": ["reader"], "tenant": "t-${client_id}"},
}
APP = {
    "client_id": "demo-app",
    "redirect_uris": ["http://127.0.0.1/callback"],
    "scopes": ["openid", "demo-api:read"],
    "audiences": ["demo-api"],
}
ALICE = {
    "sub": "alice",
    "claims": {"name": "Alice", "roles": ["reader", "admin"]},
    # the user's access tokens copy her roles from her claims
    "access_token_claims": {"roles": "${user.claims.roles}"},
}
CONFIG = {"clients": [AGENT, APP], "users": [ALICE], "apis": [{"audience": "demo-api", "scopes": ["demo-api:read"]}]}


@pytest.fixture
def api(mockidp):
    return TestClient(create_app(mockidp.issuer, mockidp.jwks_uri, "demo-api"))


def client_credentials_token(mockidp):
    r = requests.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "scope": "demo-api:read"},
        auth=("reports-agent", "agent-secret"),
    )
    r.raise_for_status()
    return r.json()["access_token"]


@pytest.mark.mockidp(**CONFIG)
def test_roles_from_the_client_config(mockidp, api):
    bearer = {"Authorization": f"Bearer {client_credentials_token(mockidp)}"}
    assert api.get("/reports", headers=bearer).json() == {"sub": "reports-agent", "tenant": "t-reports-agent"}
    assert api.delete("/reports", headers=bearer).status_code == 403


@pytest.mark.mockidp(**CONFIG)
def test_roles_planned_for_the_next_token(mockidp, api):
    mockidp.plan_claims({"roles": ["reader", "admin"]}, times=1, client_id="reports-agent")
    admin = {"Authorization": f"Bearer {client_credentials_token(mockidp)}"}
    assert api.delete("/reports", headers=admin).json() == {"deleted": True}
    again = {"Authorization": f"Bearer {client_credentials_token(mockidp)}"}  # the plan is used up
    assert api.delete("/reports", headers=again).status_code == 403


@pytest.mark.mockidp(**CONFIG)
def test_roles_of_the_signed_in_user(mockidp, api):
    meta = requests.get(mockidp.metadata_url).json()
    client = OAuth2Session(
        client_id="demo-app",
        redirect_uri="http://127.0.0.1/callback",
        scope="openid demo-api:read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    location = requests.get(url, allow_redirects=False).headers["Location"]  # login: auto signs alice in
    token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.delete("/reports", headers=bearer).json() == {"deleted": True}
