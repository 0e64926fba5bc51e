"""A public client's DPoP-bound refresh token (RFC 9449 §5), driven like a real client would.

The client (PyJWT + cryptography, ``dpop_client``) runs the code flow with PKCE and a DPoP key,
then refreshes: only a proof of the same key renews the tokens, and every token it gets stays
bound to that key, so a stolen refresh token is useless on its own.
"""

from __future__ import annotations

from typing import Any

import requests
from dpop_client import DPoPKey, claims_of
from userflow import APP, authorize, redeem

from mockidp import MockIdP


def post_token(
    idp: MockIdP, http: requests.Session, key: DPoPKey | None, data: dict[str, str]
) -> requests.Response:
    return http.post(idp.token_endpoint, data={**data, "client_id": APP}, headers=proof(idp, key))


def proof(idp: MockIdP, key: DPoPKey | None) -> dict[str, str]:
    """A DPoP header for the token endpoint, or none without a key."""
    return {"DPoP": key.proof("POST", idp.token_endpoint)} if key else {}


def bound_tokens(idp: MockIdP, http: requests.Session, key: DPoPKey) -> dict[str, Any]:
    r = redeem(idp, http, authorize(idp, http), proof(idp, key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_refresh_with_the_same_key_keeps_every_token_bound(mockidp: MockIdP, http: requests.Session) -> None:
    key = DPoPKey()
    first = bound_tokens(mockidp, http, key)
    r = post_token(
        mockidp, http, key, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert renewed["token_type"] == "DPoP"
    assert claims_of(renewed["access_token"])["cnf"] == {"jkt": key.jkt}
    again = post_token(
        mockidp, http, key, {"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]}
    )
    assert again.status_code == 200, again.text  # the rotated refresh token is bound to the same key


def test_a_stolen_refresh_token_is_useless_without_the_key(mockidp: MockIdP, http: requests.Session) -> None:
    key = DPoPKey()
    stolen = bound_tokens(mockidp, http, key)["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": stolen}
    as_bearer = post_token(mockidp, http, None, data)
    assert (as_bearer.status_code, as_bearer.json()["error"]) == (400, "invalid_dpop_proof")
    other_key = post_token(mockidp, http, DPoPKey(), data)
    assert (other_key.status_code, other_key.json()["error"]) == (400, "invalid_grant")
    # the refusals did not use the token up: its holder still refreshes
    assert post_token(mockidp, http, key, data).status_code == 200


def test_a_refresh_token_without_dpop_stays_unbound(mockidp: MockIdP, http: requests.Session) -> None:
    body = redeem(mockidp, http, authorize(mockidp, http)).json()
    assert body["token_type"] == "Bearer"
    r = post_token(
        mockidp, http, None, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert r.status_code == 200, r.text
    assert "cnf" not in claims_of(r.json()["access_token"])
