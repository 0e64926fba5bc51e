"""Mock protected APIs: strict token checks, RFC 6750 challenges, RFC 9728 metadata, call records."""

from __future__ import annotations

import pytest
import requests

from mockidp import MockIdP
from mockidp.resources import MockApis

AGENT = ("demo-agent", "demo-agent-secret")


@pytest.fixture
def apis(mockidp_apis: MockApis) -> MockApis:
    """The plugin's fixture, under a short name."""
    return mockidp_apis


def token_for(idp: MockIdP, http: requests.Session, resource: str, scope: str) -> str:
    data = {"grant_type": "client_credentials", "resource": resource, "scope": scope}
    r = http.post(idp.token_endpoint, data=data, auth=AGENT)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_apis_are_registered_and_the_client_gets_their_scopes(mockidp: MockIdP, apis: MockApis) -> None:
    inventory = apis["inventory"]
    assert inventory.url.startswith("http://127.0.0.1:") and inventory.url.endswith("/inventory")
    assert mockidp.apis[inventory.url].scopes == ("inventory:read", "inventory:write")
    assert "billing:write" in mockidp.clients["demo-agent"].scopes
    assert apis.env()["MOCKIDP_API_BILLING_URL"] == apis["billing"].url


def test_no_token_gets_a_challenge_with_resource_metadata(apis: MockApis, http: requests.Session) -> None:
    r = http.get(apis["inventory"].url)
    assert r.status_code == 401
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert "error=" not in challenge
    assert f'resource_metadata="{apis["inventory"].metadata_url}"' in challenge


def test_metadata_document(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    r = http.get(apis["billing"].metadata_url)
    assert r.status_code == 200
    doc = r.json()
    assert doc["resource"] == apis["billing"].url
    assert doc["authorization_servers"] == [mockidp.issuer]
    assert doc["scopes_supported"] == ["billing:read", "billing:write"]


def test_valid_token_read_and_insufficient_scope_on_write(
    mockidp: MockIdP, apis: MockApis, http: requests.Session
) -> None:
    url = apis["inventory"].url
    token = token_for(mockidp, http, url, "inventory:read")
    r = http.get(url + "/items", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200, r.headers.get("WWW-Authenticate")
    assert r.json()["sub"] == "demo-agent"
    r = http.post(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert 'scope="inventory:write"' in r.headers["WWW-Authenticate"]
    assert "resource_metadata=" in r.headers["WWW-Authenticate"]
    calls = apis["inventory"].snapshot()
    assert [(c.method, c.status) for c in calls] == [("GET", 200), ("POST", 403)]
    assert calls[0].claims is not None and calls[0].claims["aud"] == url


def test_token_for_another_api_is_rejected(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    token = token_for(mockidp, http, apis["billing"].url, "billing:read")
    r = http.get(apis["inventory"].url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert apis["inventory"].snapshot()[0].claims is None


def test_token_in_query_is_ignored(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    url = apis["inventory"].url
    token = token_for(mockidp, http, url, "inventory:read")
    r = http.get(url, params={"access_token": token})
    assert r.status_code == 401
    assert apis["inventory"].snapshot()[0].query == ("access_token",)


def test_a_token_in_the_query_under_any_name_is_recorded(
    mockidp: MockIdP, apis: MockApis, http: requests.Session
) -> None:
    """no-credentials-in-url reads this: ``?token=<jwt>`` leaks as much as ``?access_token=``."""
    url = apis["inventory"].url
    token = token_for(mockidp, http, url, "inventory:read")
    r = http.get(url, params={"token": token, "page": "2"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    call = apis["inventory"].snapshot()[0]
    assert call.url_tokens == ("token",)
    assert call.to_dict()["url_tokens"] == ["token"]


def test_expired_and_revoked_tokens(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    url = apis["inventory"].url
    token = token_for(mockidp, http, url, "inventory:read")
    mockidp.clock.advance(3600)
    r = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "expired" in r.headers["WWW-Authenticate"]


def test_reject_first_valid_token(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    url = apis["inventory"].url
    apis["inventory"].reject_valid = 1
    token = token_for(mockidp, http, url, "inventory:read")
    first = http.get(url, headers={"Authorization": f"Bearer {token}"})
    second = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert (first.status_code, second.status_code) == (401, 200)
    assert 'error="invalid_token"' in first.headers["WWW-Authenticate"]


def test_pages_are_linked_with_rfc_8288_next(
    mockidp: MockIdP, apis: MockApis, http: requests.Session
) -> None:
    """check-agent's baseline and expiry trials page the APIs so a following agent calls again."""
    inventory = apis["inventory"]
    inventory.pages = 3
    token = token_for(mockidp, http, inventory.url, "inventory:read")
    bearer = {"Authorization": f"Bearer {token}"}
    first = http.get(inventory.url, headers=bearer)
    assert first.links["next"]["url"] == f"{inventory.url}?page=2" == first.json()["next"]
    last = http.get(f"{inventory.url}?page=3", headers=bearer)
    assert "next" not in last.links and "next" not in last.json()
    assert last.json()["items"] == ["inventory-3"]
    for odd in ("0", "-1", "x", "²", "9" * 50):
        assert http.get(inventory.url, params={"page": odd}, headers=bearer).json()["items"] == [
            "inventory-1"
        ]


@pytest.mark.slow
def test_slow_pages_take_their_delay(mockidp: MockIdP, apis: MockApis, http: requests.Session) -> None:
    inventory = apis["inventory"]
    inventory.pages, inventory.page_delay = 2, 0.3
    token = token_for(mockidp, http, inventory.url, "inventory:read")
    bearer = {"Authorization": f"Bearer {token}"}
    assert http.get(inventory.url, headers=bearer).elapsed.total_seconds() < 0.3
    assert http.get(f"{inventory.url}?page=2", headers=bearer).elapsed.total_seconds() >= 0.3
