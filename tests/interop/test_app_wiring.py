"""Pointing an app under test at each test's IdP with ``mockidp_env`` / ``MockIdP.env()`` only.

Both apps read their settings from the environment when built, verify bearer tokens with PyJWT's
``PyJWKClient`` and know nothing of mockidp: no monkeypatching of their internals.
"""

from __future__ import annotations

import os
from typing import Any

import jwt
import pytest
import requests
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from flask import Flask, jsonify, request

from mockidp import MockIdP


def _verifier(issuer: str, jwks_uri: str, audience: str) -> Any:
    jwks = jwt.PyJWKClient(jwks_uri)

    def verify(token: str) -> dict[str, Any]:
        key = jwks.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=["RS256"], audience=audience, issuer=issuer, options={"require": ["exp"]}
        )
        return claims

    return verify


def create_fastapi_app() -> FastAPI:
    verify = _verifier(
        os.environ["MOCKIDP_ISSUER"], os.environ["MOCKIDP_JWKS_URI"], os.environ["MOCKIDP_AUDIENCE"]
    )
    app = FastAPI()

    def caller(authorization: str = Header("")) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
        try:
            claims: dict[str, Any] = verify(token)
        except jwt.PyJWTError:
            raise HTTPException(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        return claims

    @app.get("/whoami")
    def whoami(claims: dict[str, Any] = Depends(caller)) -> dict[str, Any]:  # noqa: B008
        return {"client_id": claims.get("client_id")}

    return app


def create_flask_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        ISSUER=os.environ["MOCKIDP_ISSUER"],
        JWKS_URI=os.environ["MOCKIDP_JWKS_URI"],
        AUDIENCE=os.environ["MOCKIDP_AUDIENCE"],
    )
    verify = _verifier(app.config["ISSUER"], app.config["JWKS_URI"], app.config["AUDIENCE"])

    @app.get("/whoami")
    def whoami() -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            claims = verify(token) if scheme.lower() == "bearer" else None
        except jwt.PyJWTError:
            claims = None
        if claims is None:
            return "", 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return jsonify(client_id=claims.get("client_id"))

    return app


def client_credentials_token(env: dict[str, str]) -> str:
    """What the agent side does with the same variables."""
    answer = requests.post(
        env["MOCKIDP_TOKEN_ENDPOINT"],
        data={"grant_type": "client_credentials", "resource": env["MOCKIDP_AUDIENCE"]},
        auth=(env["MOCKIDP_CLIENT_ID"], env["MOCKIDP_CLIENT_SECRET"]),
        timeout=5,
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def test_env_names_what_an_app_needs(mockidp: MockIdP) -> None:
    env = mockidp.env()
    assert env["MOCKIDP_ISSUER"] == mockidp.issuer
    assert env["MOCKIDP_JWKS_URI"] == mockidp.jwks_uri
    assert env["MOCKIDP_TOKEN_ENDPOINT"] == mockidp.token_endpoint
    assert env["MOCKIDP_AUDIENCE"] == "demo-api"
    assert (env["MOCKIDP_CLIENT_ID"], env["MOCKIDP_CLIENT_SECRET"]) == ("demo-agent", "demo-agent-secret")
    discovery = requests.get(env["MOCKIDP_METADATA_URL"], timeout=5).json()
    assert discovery["jwks_uri"] == env["MOCKIDP_JWKS_URI"]
    assert mockidp.jwks() == requests.get(env["MOCKIDP_JWKS_URI"], timeout=5).json()


def test_env_for_a_named_client_and_audience(mockidp: MockIdP) -> None:
    env = mockidp.env(audience="other-api", client_id="demo-app")
    assert env["MOCKIDP_AUDIENCE"] == "other-api"
    assert env["MOCKIDP_CLIENT_ID"] == "demo-app"


def test_fastapi_app_trusts_this_tests_idp(mockidp_env: dict[str, str]) -> None:
    with TestClient(create_fastapi_app()) as api:
        token = client_credentials_token(mockidp_env)
        ok = api.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"client_id": "demo-agent"}
        assert api.get("/whoami", headers={"Authorization": f"Bearer {token}x"}).status_code == 401


def test_flask_app_trusts_this_tests_idp(mockidp_env: dict[str, str]) -> None:
    api = create_flask_app().test_client()
    token = client_credentials_token(mockidp_env)
    ok = api.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    assert ok.get_json() == {"client_id": "demo-agent"}
    assert api.get("/whoami").status_code == 401


def test_each_test_gets_its_own_issuer(mockidp_env: dict[str, str], mockidp: MockIdP) -> None:
    assert os.environ["MOCKIDP_ISSUER"] == mockidp.issuer


def test_a_token_from_another_idp_is_refused(mockidp_env: dict[str, str], mockidp: MockIdP) -> None:
    with MockIdP(mockidp.config) as other:
        foreign = other.issue_token(client_id="demo-agent", audience="demo-api")
    with TestClient(create_fastapi_app()) as api:
        assert api.get("/whoami", headers={"Authorization": f"Bearer {foreign}"}).status_code == 401


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    from mockidp.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"mockidp {version('mockidp')}"
