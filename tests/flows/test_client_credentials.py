"""Client credentials grant over real loopback HTTP."""

from __future__ import annotations

import pytest
import requests
from userflow import claims_of, header_of

from mockidp import MockIdP

AGENT = ("demo-agent", "demo-agent-secret")


def test_basic_auth_gets_rfc9068_token(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    header = header_of(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["kid"] == mockidp.signing_key.kid
    claims = claims_of(body["access_token"])
    assert claims["iss"] == mockidp.issuer
    assert claims["sub"] == claims["client_id"] == "demo-agent"
    assert claims["aud"] == "demo-api"
    assert claims["scope"] == "demo-api:read demo-api:write"
    assert isinstance(claims["exp"], int) and claims["exp"] - claims["iat"] == 300


def test_post_auth_and_resource_indicator(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(
        mockidp.token_endpoint,
        data={
            "grant_type": "client_credentials",
            "client_id": AGENT[0],
            "client_secret": AGENT[1],
            "resource": "demo-api",
            "scope": "demo-api:read",
        },
    )
    assert r.status_code == 200, r.text
    claims = claims_of(r.json()["access_token"])
    assert claims["aud"] == "demo-api"
    assert claims["scope"] == "demo-api:read"


def test_jti_is_unique(mockidp: MockIdP, http: requests.Session) -> None:
    jtis = {
        claims_of(
            http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT).json()[
                "access_token"
            ]
        )["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("demo-agent", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, ("nobody", "x"), 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "admin"}, AGENT, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "resource": "https://elsewhere"}, AGENT, 400, "invalid_target"),
        ({"grant_type": "client_credentials", "audience": "nope"}, AGENT, 400, "invalid_target"),
        ({"grant_type": "password"}, AGENT, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": "demo-app"}, None, 400, "unauthorized_client"),
        ({"scope": "demo-api:read"}, AGENT, 400, "invalid_request"),
        ({"grant_type": ["client_credentials", "client_credentials"]}, AGENT, 400, "invalid_request"),
    ],
)
def test_refusals(
    mockidp: MockIdP,
    http: requests.Session,
    data: dict[str, object],
    auth: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    r = http.post(mockidp.token_endpoint, data=data, auth=auth)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert r.headers["Cache-Control"] == "no-store"


def test_wrong_basic_secret_challenges_with_basic(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("demo-agent", "x"))
    assert r.headers["WWW-Authenticate"].startswith("Basic ")


def test_wrong_post_secret_has_no_basic_challenge(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": "demo-agent", "client_secret": "x"},
    )
    assert r.status_code == 401
    assert "WWW-Authenticate" not in r.headers


def test_two_auth_methods_is_invalid_request(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "client_secret": AGENT[1]},
        auth=AGENT,
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_registered_auth_method_is_enforced(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(
        client_id="basic-only",
        client_secret="s",
        token_endpoint_auth_method="client_secret_basic",
        scopes=["demo-api:read"],
        audiences=["demo-api"],
    )
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": "basic-only", "client_secret": "s"},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    ok = http.post(
        mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("basic-only", "s")
    )
    assert ok.status_code == 200


def test_scope_of_another_api_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_api(audience="billing", scopes=["billing:read"])
    mockidp.add_client(
        client_id="two-apis",
        client_secret="s",
        scopes=["demo-api:read", "billing:read"],
        audiences=["demo-api", "billing"],
    )
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "resource": "demo-api", "scope": "billing:read"},
        auth=("two-apis", "s"),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_form_body_is_required(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.token_endpoint, json={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
