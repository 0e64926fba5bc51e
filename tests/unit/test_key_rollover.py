"""Key rollover as real IdPs do it: publish first, activate, retire; and an API that lives through it."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests

from mockidp import MockIdP, MockIdPError


def published(idp: MockIdP) -> list[str]:
    return [k["kid"] for k in requests.get(idp.jwks_uri, timeout=5).json()["keys"]]


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def cc_token(idp: MockIdP) -> str:
    r = requests.post(
        idp.token_endpoint,
        data={"grant_type": "client_credentials", "resource": "demo-api"},
        auth=("demo-agent", "demo-agent-secret"),
        timeout=5,
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


def test_add_activate_retire(mockidp: MockIdP) -> None:
    first = mockidp.signing_key.kid
    second = mockidp.add_key()
    assert published(mockidp) == [second.kid, first]
    assert kid_of(cc_token(mockidp)) == first  # published, but signs nothing yet
    mockidp.activate_key(second.kid)
    assert kid_of(cc_token(mockidp)) == second.kid
    mockidp.retire_key(first)
    assert published(mockidp) == [second.kid]
    with pytest.raises(MockIdPError, match="current signing key"):
        mockidp.retire_key(second.kid)
    with pytest.raises(MockIdPError, match="no published key"):
        mockidp.activate_key(first)


def test_publish_first_signs_only_after_the_jwks_went_out(mockidp: MockIdP) -> None:
    first = mockidp.signing_key.kid
    new = mockidp.rotate_keys(publish_first=True)
    assert kid_of(cc_token(mockidp)) == first
    assert mockidp.signing_key.kid == first
    assert published(mockidp) == [new.kid, first]  # this fetch is the publication
    assert kid_of(cc_token(mockidp)) == new.kid
    mockidp.reset()
    assert published(mockidp) == [first]


def _api(idp: MockIdP, lifespan: float) -> Any:
    """An API as PyJWT's documentation writes it: PyJWKClient with its default 30 s cooldown."""
    jwks = jwt.PyJWKClient(idp.jwks_uri, lifespan=lifespan)

    def accepts(token: str) -> bool:
        try:
            key = jwks.get_signing_key_from_jwt(token)
            jwt.decode(token, key, algorithms=["RS256"], audience="demo-api", issuer=idp.issuer)
        except (jwt.PyJWTError, jwt.PyJWKClientError):
            return False
        return True

    return accepts


@pytest.mark.slow
def test_pyjwt_api_survives_a_publish_first_rotation(mockidp: MockIdP) -> None:
    accepts = _api(mockidp, lifespan=0.5)
    assert accepts(cc_token(mockidp))
    new = mockidp.rotate_keys(publish_first=True)
    results = []
    deadline = time.monotonic() + 5
    while mockidp.signing_key.kid != new.kid and time.monotonic() < deadline:
        results.append(accepts(cc_token(mockidp)))
        time.sleep(0.1)
    results += [accepts(cc_token(mockidp)) for _ in range(3)]
    assert mockidp.signing_key.kid == new.kid, "the API's JWKS refresh should have activated the key"
    assert all(results), results


def test_the_same_api_fails_an_abrupt_rotation(mockidp: MockIdP) -> None:
    """Why publish-first matters: PyJWT will not refetch within its cooldown for a new kid."""
    accepts = _api(mockidp, lifespan=300)
    assert accepts(cc_token(mockidp))
    mockidp.rotate_keys()
    assert not accepts(cc_token(mockidp))


def test_control_api_rollover(mockidp: MockIdP) -> None:
    control = mockidp.url("_mockidp")
    first = mockidp.signing_key.kid
    added = requests.post(f"{control}/add-key", timeout=5).json()
    assert added["current"] == first and added["pending"] is None
    assert added["kid"] in [k["kid"] for k in added["jwks"]["keys"]]
    r = requests.post(f"{control}/activate-key", json={"kid": added["kid"]}, timeout=5)
    assert r.json()["current"] == added["kid"] == mockidp.signing_key.kid
    r = requests.post(f"{control}/retire-key", json={"kid": first}, timeout=5)
    assert [k["kid"] for k in r.json()["jwks"]["keys"]] == [added["kid"]]
    r = requests.post(f"{control}/retire-key", json={"kid": added["kid"]}, timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = requests.post(f"{control}/activate-key", json={"kid": ""}, timeout=5)
    assert r.status_code == 400
    r = requests.post(f"{control}/rotate-keys", json={"publish_first": True}, timeout=5)
    assert r.json()["pending"] == r.json()["kid"] != mockidp.signing_key.kid
    r = requests.post(f"{control}/rotate-keys", json={"publish_first": "yes"}, timeout=5)
    assert r.status_code == 400
