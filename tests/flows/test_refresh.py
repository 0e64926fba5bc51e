"""Refresh tokens: rotation, reuse detection, narrowing, expiry, client binding."""

from __future__ import annotations

import requests
from userflow import claims_of, refresh, tokens

from mockidp import MockIdP


def error_of(r: requests.Response) -> str:
    assert r.status_code in (400, 401), r.text
    return str(r.json()["error"])


def test_refresh_rotates_and_keeps_the_grant(mockidp: MockIdP, http: requests.Session) -> None:
    first = tokens(mockidp, http)
    r = refresh(mockidp, http, first["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == first["scope"]
    access = claims_of(second["access_token"])
    assert access["sub"] == "alice" and access["aud"] == ["demo-api", mockidp.issuer]
    id_claims = claims_of(second["id_token"])
    assert id_claims["auth_time"] == claims_of(first["id_token"])["auth_time"]
    assert "nonce" not in id_claims
    third = refresh(mockidp, http, second["refresh_token"])
    assert third.status_code == 200


def test_reuse_of_a_rotated_token_revokes_the_family(mockidp: MockIdP, http: requests.Session) -> None:
    first = tokens(mockidp, http)
    second = refresh(mockidp, http, first["refresh_token"]).json()
    assert error_of(refresh(mockidp, http, first["refresh_token"])) == "invalid_grant"
    # the attacker's replay also kills the legitimate holder's newer tokens
    assert error_of(refresh(mockidp, http, second["refresh_token"])) == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


def test_scope_may_narrow_never_widen(mockidp: MockIdP, http: requests.Session) -> None:
    first = tokens(mockidp, http)
    r = refresh(mockidp, http, first["refresh_token"], scope="openid offline_access")
    assert r.status_code == 200, r.text
    narrowed = r.json()
    assert narrowed["scope"] == "openid offline_access"
    assert claims_of(narrowed["access_token"])["scope"] == "openid offline_access"
    # the new refresh token keeps the original grant (RFC 6749 section 6)
    r = refresh(mockidp, http, narrowed["refresh_token"], scope="openid email")
    assert r.status_code == 200, r.text
    r = refresh(mockidp, http, r.json()["refresh_token"], scope="openid phone")
    assert error_of(r) == "invalid_scope"


def test_resource_may_narrow_never_widen(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_api(audience="other-api", scopes=["other:read"])
    first = tokens(mockidp, http)
    r = refresh(mockidp, http, first["refresh_token"], resource="demo-api")
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["aud"] == ["demo-api", mockidp.issuer]
    r = refresh(mockidp, http, r.json()["refresh_token"], resource="other-api")
    assert error_of(r) == "invalid_target"


def test_refresh_token_is_bound_to_its_client(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(client_id="other-app", redirect_uris=["http://127.0.0.1/cb"])
    first = tokens(mockidp, http)
    assert error_of(refresh(mockidp, http, first["refresh_token"], client_id="other-app")) == "invalid_grant"


def test_refresh_token_expires(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    first = tokens(mockidp, http)
    mockidp.clock.advance(86400)
    r = refresh(mockidp, http, first["refresh_token"])
    assert error_of(r) == "invalid_grant"
    assert "expired" in r.json()["error_description"]


def test_unknown_or_missing_refresh_token(mockidp: MockIdP, http: requests.Session) -> None:
    assert error_of(refresh(mockidp, http, "rt_made_up")) == "invalid_grant"
    r = http.post(mockidp.token_endpoint, data={"grant_type": "refresh_token", "client_id": "demo-app"})
    assert error_of(r) == "invalid_request"


def test_no_refresh_token_without_offline_access_or_grant(mockidp: MockIdP, http: requests.Session) -> None:
    assert "refresh_token" not in tokens(mockidp, http, scope="openid profile")
    mockidp.add_client(
        client_id="no-refresh",
        grant_types=["authorization_code"],
        redirect_uris=["http://127.0.0.1/callback"],
        scopes=["openid", "offline_access", "demo-api:read"],
        audiences=["demo-api"],
    )
    body = tokens(mockidp, http, client_id="no-refresh", scope="openid offline_access demo-api:read")
    assert "refresh_token" not in body
    assert "id_token" in body


def test_client_without_refresh_grant_cannot_refresh(mockidp: MockIdP, http: requests.Session) -> None:
    first = tokens(mockidp, http)
    mockidp.add_client(
        client_id="demo-app",
        grant_types=["authorization_code"],
        redirect_uris=["http://127.0.0.1/callback"],
        scopes=["openid"],
    )
    assert error_of(refresh(mockidp, http, first["refresh_token"])) == "unauthorized_client"


def test_a_refused_refresh_does_not_rotate_the_token(mockidp: MockIdP, http: requests.Session) -> None:
    """Asking for a wider scope or another resource is refused, and issues nothing: the
    token must stay usable, not count as rotated (whose reuse would revoke the family)."""
    mockidp.add_api(audience="other-api", scopes=["other:read"])
    first = tokens(mockidp, http)
    assert error_of(refresh(mockidp, http, first["refresh_token"], scope="openid phone")) == "invalid_scope"
    assert error_of(refresh(mockidp, http, first["refresh_token"], resource="other-api")) == "invalid_target"
    r = refresh(mockidp, http, first["refresh_token"])
    assert r.status_code == 200, r.text
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert http.get(mockidp.url("userinfo"), headers=bearer).status_code == 200
