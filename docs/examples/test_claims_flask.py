"""Role-based authorization in Flask, against the claim shapes of Keycloak and Microsoft Entra ID.

mockidp puts the claims where those IdPs do, so the API's real role lookup is what is tested.
"""

import functools

import jwt
import pytest
import requests
from flask import Flask, abort, g, jsonify, request

# Keycloak: realm roles under realm_access.roles, client roles under resource_access.<client>.roles
KEYCLOAK = {"realm_access": {"roles": ["reader"]}, "resource_access": {"demo-api": {"roles": ["admin"]}}}
# Entra ID: app roles in roles, group object ids in groups, the tenant in tid
ENTRA = {"roles": ["Reports.Read"], "groups": ["6f1c0d0e-0000-4000-8000-000000000001"], "tid": "contoso"}


def roles_of(claims):
    """The roles an API reads, whichever IdP issued the token."""
    found = list(claims.get("roles", []))  # Entra ID app roles
    found += claims.get("realm_access", {}).get("roles", [])  # Keycloak realm roles
    found += claims.get("resource_access", {}).get("demo-api", {}).get("roles", [])  # Keycloak client roles
    return found


def create_app(issuer, jwks_uri, audience):
    app = Flask(__name__)
    jwks = jwt.PyJWKClient(jwks_uri)

    def requires(role):
        def decorate(view):
            @functools.wraps(view)
            def wrapped(*args, **kwargs):
                scheme, _, token = request.headers.get("Authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    abort(401)
                try:
                    key = jwks.get_signing_key_from_jwt(token)
                    g.claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)
                except jwt.PyJWTError:
                    abort(401)
                if role not in roles_of(g.claims):
                    abort(403)
                return view(*args, **kwargs)

            return wrapped

        return decorate

    @app.get("/reports")
    @requires("reader")
    def reports():
        return jsonify(sub=g.claims["sub"])

    @app.get("/admin")
    @requires("admin")
    def admin():
        return jsonify(ok=True)

    @app.get("/entra")
    @requires("Reports.Read")
    def entra():
        return jsonify(tenant=g.claims["tid"], groups=g.claims["groups"])

    return app


def token(mockidp):
    r = requests.post(
        mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("demo-agent", "demo-agent-secret")
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.mockidp(apis=[{"audience": "demo-api", "scopes": ["demo-api:read"], "access_token_claims": KEYCLOAK}])
def test_keycloak_shaped_roles(mockidp):
    api = create_app(mockidp.issuer, mockidp.jwks_uri, "demo-api").test_client()
    bearer = token(mockidp)
    assert api.get("/reports", headers=bearer).json == {"sub": "demo-agent"}
    assert api.get("/admin", headers=bearer).status_code == 200  # a client role counts too
    assert api.get("/entra", headers=bearer).status_code == 403


@pytest.mark.mockidp(token_claims=[{"claims": ENTRA, "times": 1}])
def test_entra_shaped_roles_and_groups(mockidp):
    api = create_app(mockidp.issuer, mockidp.jwks_uri, "demo-api").test_client()
    r = api.get("/entra", headers=token(mockidp))
    assert r.json == {"tenant": "contoso", "groups": ["6f1c0d0e-0000-4000-8000-000000000001"]}
    assert api.get("/entra", headers=token(mockidp)).status_code == 403  # the plan was for one token


def test_roles_as_a_string_are_not_roles(mockidp):
    mockidp.plan_claims({"roles": "Reports.Read"})  # the claim-type slip some IdP configs make
    api = create_app(mockidp.issuer, mockidp.jwks_uri, "demo-api").test_client()
    assert api.get("/entra", headers=token(mockidp)).status_code == 403
