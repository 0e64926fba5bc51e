"""Introspection (RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

import pytest
import requests
from userflow import APP, refresh, tokens

from mockidp import MockIdP
from mockidp.demo import DEMO_PATH, demo_config
from mockidp.resources import MockApis

AGENT = ("demo-agent", "demo-agent-secret")


def introspect(idp: MockIdP, http: requests.Session, token: str, auth: tuple[str, str] = AGENT) -> dict:  # type: ignore[type-arg]
    r = http.post(idp.url("introspect"), data={"token": token}, auth=auth)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()  # type: ignore[no-any-return]


def revoke(idp: MockIdP, http: requests.Session, token: str, **extra: str) -> requests.Response:
    return http.post(idp.url("revoke"), data={"token": token, "client_id": APP, **extra})


def test_active_access_token(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http)
    info = introspect(mockidp, http, body["access_token"])
    assert info["active"] is True
    assert info["token_type"] == "Bearer"
    assert info["client_id"] == APP
    assert info["sub"] == "alice"
    assert info["username"] == "alice"
    assert info["aud"] == ["demo-api", mockidp.issuer]  # openid: userinfo's audience too
    assert info["iss"] == mockidp.issuer
    assert info["scope"] == body["scope"]
    assert isinstance(info["exp"], int)


def test_active_refresh_token(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http)
    info = introspect(mockidp, http, body["refresh_token"])
    assert info["active"] is True
    assert info["token_type"] == "refresh_token"
    assert info["client_id"] == APP
    assert info["sub"] == "alice"


def test_inactive_tokens_say_only_active_false(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    body = tokens(mockidp, http)
    assert introspect(mockidp, http, "garbage") == {"active": False}
    assert introspect(mockidp, http, body["id_token"]) == {"active": False}
    rotated = body["refresh_token"]
    refresh(mockidp, http, rotated)
    assert introspect(mockidp, http, rotated) == {"active": False}
    mockidp.clock.advance(301)
    assert introspect(mockidp, http, body["access_token"]) == {"active": False}
    with MockIdP(DEMO_PATH) as other:
        foreign = other.issue_token(client_id="demo-agent")
    assert introspect(mockidp, http, foreign) == {"active": False}


def test_introspection_needs_an_authenticated_client(mockidp: MockIdP, http: requests.Session) -> None:
    token = tokens(mockidp, http)["access_token"]
    r = http.post(mockidp.url("introspect"), data={"token": token})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    r = http.post(mockidp.url("introspect"), data={"token": token, "client_id": APP})
    assert r.status_code == 401
    r = http.post(mockidp.url("introspect"), data={"token": token}, auth=("demo-agent", "wrong"))
    assert r.status_code == 401
    r = http.post(mockidp.url("introspect"), data={}, auth=AGENT)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_revoking_an_access_token(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http)
    r = revoke(mockidp, http, body["access_token"], token_type_hint="access_token")
    assert r.status_code == 200
    assert introspect(mockidp, http, body["access_token"]) == {"active": False}
    assert introspect(mockidp, http, body["refresh_token"])["active"] is True


def test_revoking_a_refresh_token_revokes_the_family(mockidp: MockIdP, http: requests.Session) -> None:
    first = tokens(mockidp, http)
    second = refresh(mockidp, http, first["refresh_token"]).json()
    # a wrong hint is only a hint
    assert revoke(mockidp, http, second["refresh_token"], token_type_hint="access_token").status_code == 200
    for token in (first["access_token"], second["access_token"], second["refresh_token"]):
        assert introspect(mockidp, http, token) == {"active": False}
    assert refresh(mockidp, http, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_unknown_tokens_and_unknown_hints_still_get_200(mockidp: MockIdP, http: requests.Session) -> None:
    assert revoke(mockidp, http, "nothing-like-a-token").status_code == 200
    assert revoke(mockidp, http, "x.y.z", token_type_hint="weird_type").status_code == 200


def test_a_client_may_revoke_only_its_own_tokens(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http)
    r = http.post(mockidp.url("revoke"), data={"token": body["access_token"]}, auth=AGENT)
    assert r.status_code == 400
    assert r.json()["error"] == "unauthorized_client"
    r = http.post(mockidp.url("revoke"), data={"token": body["refresh_token"]}, auth=AGENT)
    assert r.status_code == 400
    assert introspect(mockidp, http, body["access_token"])["active"] is True
    assert introspect(mockidp, http, body["refresh_token"])["active"] is True


def test_confidential_client_revokes_its_client_credentials_token(
    mockidp: MockIdP, http: requests.Session
) -> None:
    token = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT).json()[
        "access_token"
    ]
    r = http.post(mockidp.url("revoke"), data={"token": token, "client_id": "demo-agent"})
    assert r.status_code == 401  # a confidential client must authenticate
    assert introspect(mockidp, http, token)["active"] is True
    assert http.post(mockidp.url("revoke"), data={"token": token}, auth=AGENT).status_code == 200
    assert introspect(mockidp, http, token) == {"active": False}


def test_revocation_needs_a_token(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.url("revoke"), data={"client_id": APP})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


#: catalog defects the old lenient introspection called active; a strict resource server refuses
#: each for a reason that does not depend on which resource it is
ONCE_LENIENT = (
    "payload-utf16",
    "iat-missing",
    "client-id-missing",
    "aud-missing",
    "aud-number",
    "iat-future",
    "iat-string",
    "scope-array",
    "header-duplicate-alg",
    "payload-duplicate-sub",
    "oversized",
)
#: defects only the resource can judge (its audience, scopes, step-up and claim rules)
RESOURCE_DEPENDENT = ("aud-wrong", "scope-insufficient", "acr-too-weak")


@pytest.mark.parametrize("name", ONCE_LENIENT)
def test_introspection_is_as_strict_as_the_mock_apis(name: str, http: requests.Session) -> None:
    """A token the IdP's own strict policy refuses is ``active: false`` (RFC 7662 §2.2), and a
    mock API of the same IdP refuses it too: the catalog is judged the same way everywhere."""
    with MockIdP(demo_config()) as idp, MockApis(idp, ["inventory"]) as hosted:
        api = hosted["inventory"]
        good = idp.issue_token(audience=api.url, scope="inventory:read")
        bad = idp.issue_token(audience=api.url, scope="inventory:read", defects=[name])
        assert introspect(idp, http, str(good))["active"] is True
        assert introspect(idp, http, str(bad)) == {"active": False}
        r = http.get(api.url + "/items", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


@pytest.mark.parametrize("name", RESOURCE_DEPENDENT)
def test_introspection_leaves_resource_rules_to_the_resource(
    name: str, mockidp: MockIdP, http: requests.Session
) -> None:
    """Introspection answers for every resource: ``aud``, scope and ``acr`` are the caller's to check."""
    token = mockidp.issue_token(
        audience="demo-api", scope="demo-api:read", claims={"acr": "mfa"}, defects=[name]
    )
    info = introspect(mockidp, http, str(token))
    assert info["active"] is True and info["iss"] == mockidp.issuer


def test_introspection_is_exact_on_expiry_and_tolerates_a_token_dated_slightly_ahead(
    mockidp: MockIdP, http: requests.Session
) -> None:
    """nbf a few seconds ahead (clock skew, RFC 7519 §4.1.5) is active, as the mock APIs accept
    it; one second past exp is not."""
    ahead = mockidp.issue_token(client_id="demo-agent", audience="demo-api", defects=["nbf-within-leeway"])
    assert introspect(mockidp, http, ahead)["active"] is True
    far = mockidp.issue_token(client_id="demo-agent", audience="demo-api", defects=["nbf-future"])
    assert introspect(mockidp, http, far) == {"active": False}
    token = mockidp.issue_token(client_id="demo-agent", audience="demo-api")
    mockidp.clock.advance(mockidp.config.access_token_ttl)
    assert introspect(mockidp, http, token) == {"active": False}
