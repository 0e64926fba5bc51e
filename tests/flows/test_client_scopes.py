"""A client's ``scopes`` list covers OIDC scopes too, and a chosen resource narrows the scopes.

Regression probes over HTTP for two audit findings: a client limited to ``api:read`` got
``openid``, ``phone`` and ``offline_access`` (and a refresh token); a token for
``resource=api1`` kept scopes only api2 defines (RFC 8707 section 2.2).
"""

from __future__ import annotations

import pytest
import requests
from userflow import (
    CALLBACK,
    Authorized,
    authorize_params,
    claims_of,
    pkce,
    query_of,
    redeem,
    refresh,
    tokens,
)

from mockidp import MockIdP
from mockidp.resources import MockApis

API1, API2 = "https://api1.example", "https://api2.example"


def authorize_query(idp: MockIdP, http: requests.Session, **extra: str) -> dict[str, str]:
    _, challenge = pkce()
    r = http.get(idp.url("authorize"), params=authorize_params(challenge, **extra), allow_redirects=False)
    assert r.status_code == 302, r.text
    return query_of(r.headers["Location"])


def test_client_limited_to_an_api_scope_gets_no_oidc_scope(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(
        client_id="api-only",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK],
        scopes=["demo-api:read"],
        audiences=["demo-api"],
    )
    for scope in ("openid", "phone", "offline_access", "openid phone offline_access demo-api:read"):
        query = authorize_query(mockidp, http, client_id="api-only", scope=scope)
        assert query["error"] == "invalid_scope", (scope, query)
        assert "code" not in query
    body = tokens(mockidp, http, client_id="api-only", scope="demo-api:read", nonce="")
    assert body["scope"] == "demo-api:read"
    assert "id_token" not in body


def test_client_listing_some_oidc_scopes_gets_only_those(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(
        client_id="openid-only", redirect_uris=[CALLBACK], scopes=["openid", "email"], audiences=["demo-api"]
    )
    query = authorize_query(mockidp, http, client_id="openid-only", scope="openid email phone")
    assert query["error"] == "invalid_scope"
    assert "'phone'" in query["error_description"]
    query = authorize_query(mockidp, http, client_id="openid-only", scope="openid offline_access")
    assert query["error"] == "invalid_scope"
    body = tokens(mockidp, http, client_id="openid-only", scope="openid email")
    assert body["scope"] == "openid email"
    assert "refresh_token" not in body  # no offline_access, so no refresh token for an OIDC request


def test_client_that_lists_no_scopes_keeps_every_oidc_scope(mockidp: MockIdP, http: requests.Session) -> None:
    """The config's default (no ``scopes`` key): every OIDC scope in the user flows, no API scope."""
    mockidp.add_client(client_id="unlisted", redirect_uris=[CALLBACK])
    scope = "openid profile email address phone offline_access"
    body = tokens(mockidp, http, client_id="unlisted", scope=scope)
    assert body["scope"] == scope
    assert "refresh_token" in body and "id_token" in body
    query = authorize_query(mockidp, http, client_id="unlisted", scope="openid demo-api:read")
    assert query["error"] == "invalid_scope"


def test_demo_app_still_gets_the_usual_oidc_scopes(mockidp: MockIdP, http: requests.Session) -> None:
    scope = "openid profile email address phone offline_access demo-api:read"
    body = tokens(mockidp, http, scope=scope)
    assert body["scope"] == scope
    claims = http.get(
        mockidp.url("userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert claims["sub"] == "alice" and claims["email"] == "alice@example.com"


def test_machine_client_gets_no_oidc_scope_it_does_not_list(mockidp: MockIdP, http: requests.Session) -> None:
    for scope in ("openid", "offline_access", "phone"):
        r = http.post(
            mockidp.token_endpoint,
            data={"grant_type": "client_credentials", "scope": scope},
            auth=("demo-agent", "demo-agent-secret"),
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_scope", (scope, r.text)


def test_mock_apis_keep_the_oidc_scopes_of_an_unlisted_client(http: requests.Session) -> None:
    """Starting mock APIs adds their scopes to the clients; one that listed none keeps OIDC."""
    config = {"clients": [{"client_id": "demo-app", "redirect_uris": [CALLBACK]}]}
    with MockIdP(config) as idp, MockApis(idp, ["inventory"]) as apis:
        assert set(idp.clients["demo-app"].scopes) >= {"openid", "offline_access", "inventory:read"}
        body = tokens(idp, http, scope="openid offline_access inventory:read", resource=apis["inventory"].url)
        assert body["scope"] == "openid offline_access inventory:read"
        assert "refresh_token" in body


@pytest.fixture
def two_apis(mockidp: MockIdP) -> MockIdP:
    mockidp.add_api(audience=API1, scopes=["a1:read"])
    mockidp.add_api(audience=API2, scopes=["a2:read"])
    mockidp.add_client(
        client_id="both",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK],
        scopes=["openid", "offline_access", "a1:read", "a2:read"],
        audiences=[API1, API2],
    )
    return mockidp


def test_resource_at_the_token_endpoint_narrows_the_scopes(two_apis: MockIdP, http: requests.Session) -> None:
    idp = two_apis
    verifier, challenge = pkce()
    params = authorize_params(challenge, client_id="both", scope="openid offline_access a1:read a2:read")
    r = http.get(
        idp.url("authorize"),
        params=[*params.items(), ("resource", API1), ("resource", API2)],
        allow_redirects=False,
    )
    got = query_of(r.headers["Location"])
    assert "code" in got, got
    data = {
        "grant_type": "authorization_code",
        "code": got["code"],
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": "both",
        "resource": API1,
    }
    r = http.post(idp.token_endpoint, data=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "openid offline_access a1:read"  # a2:read is only api2's
    access = claims_of(body["access_token"])
    assert access["scope"] == "openid offline_access a1:read"
    assert access["aud"] == [API1, idp.issuer]
    # the refresh token keeps the whole grant; each refresh narrows to its own resource
    r = refresh(idp, http, body["refresh_token"], client_id="both", resource=API2)
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "openid offline_access a2:read"
    assert claims_of(r.json()["access_token"])["aud"] == [API2, idp.issuer]
    r = refresh(idp, http, r.json()["refresh_token"], client_id="both")
    assert r.json()["scope"] == "openid offline_access a1:read a2:read"


def test_resource_at_authorize_allows_only_its_scopes(two_apis: MockIdP, http: requests.Session) -> None:
    query = authorize_query(two_apis, http, client_id="both", scope="openid a2:read", resource=API1)
    assert query["error"] == "invalid_scope"
    assert "not defined by the requested resource" in query["error_description"]
    body = tokens(two_apis, http, client_id="both", scope="openid a1:read", resource=API1)
    assert body["scope"] == "openid a1:read"


def test_a_refresh_for_one_resource_narrows_the_scopes(two_apis: MockIdP, http: requests.Session) -> None:
    verifier, challenge = pkce()
    params = authorize_params(challenge, client_id="both", scope="offline_access a1:read a2:read", nonce="")
    r = http.get(
        two_apis.url("authorize"),
        params=[*params.items(), ("resource", API1), ("resource", API2)],
        allow_redirects=False,
    )
    got = query_of(r.headers["Location"])
    body = redeem(two_apis, http, Authorized(got["code"], verifier, CALLBACK, got), client_id="both").json()
    assert body["scope"] == "offline_access a1:read a2:read"
    r = refresh(two_apis, http, body["refresh_token"], client_id="both", resource=API1)
    assert r.json()["scope"] == "offline_access a1:read"
    assert claims_of(r.json()["access_token"])["aud"] == API1
