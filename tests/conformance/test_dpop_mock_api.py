"""The DPoP scheme at the mock APIs (RFC 9449 §7): every check, and the §7.1 challenges.

Tokens come from the token endpoint with a proof; requests carry ``Authorization: DPoP`` and a
proof made by the hand-rolled client (``dpop_client``), over real HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from dpop_client import DPoPKey

from mockidp import MockIdP
from mockidp.conformance.probe import challenge_params
from mockidp.resources import MockApi, MockApis

AGENT = ("demo-agent", "demo-agent-secret")


@pytest.fixture
def api(mockidp_apis: MockApis) -> MockApi:
    return mockidp_apis["inventory"]


def bound_token(idp: MockIdP, http: requests.Session, key: DPoPKey | None, resource: str) -> str:
    data = {"grant_type": "client_credentials", "resource": resource, "scope": "inventory:read"}
    headers = {"DPoP": key.proof("POST", idp.token_endpoint)} if key else {}
    r = http.post(idp.token_endpoint, data=data, auth=AGENT, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def call(
    http: requests.Session, url: str, token: str, proof: str | None, scheme: str = "DPoP"
) -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return http.get(url, headers=headers)


def dpop_challenge(r: requests.Response) -> dict[str, str]:
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("DPoP "), challenge
    params = challenge_params(challenge)
    assert "ES256" in params["algs"].split(" ")
    return params


def test_a_bound_token_with_a_proof_is_accepted(
    mockidp: MockIdP, api: MockApi, http: requests.Session
) -> None:
    key = DPoPKey()
    token = bound_token(mockidp, http, key, api.url)
    r = call(http, api.url, token, key.proof("GET", api.url, access_token=token))
    assert r.status_code == 200, r.headers.get("WWW-Authenticate")
    assert api.snapshot()[-1].claims is not None


def test_a_bound_token_sent_as_bearer_is_refused(
    mockidp: MockIdP, api: MockApi, http: requests.Session
) -> None:
    token = bound_token(mockidp, http, DPoPKey(), api.url)
    r = call(http, api.url, token, None, scheme="Bearer")
    assert r.status_code == 401
    assert dpop_challenge(r)["error"] == "invalid_token"


Broken = Callable[[DPoPKey, str, str], str | None]
BROKEN: dict[str, Broken] = {
    "no proof": lambda k, url, t: None,
    "proof of another key": lambda k, url, t: DPoPKey().proof("GET", url, access_token=t),
    "wrong htm": lambda k, url, t: k.proof("POST", url, access_token=t),
    "wrong htu": lambda k, url, t: k.proof("GET", url + "/other", access_token=t),
    "no ath": lambda k, url, t: k.proof("GET", url),
    "wrong ath": lambda k, url, t: k.proof("GET", url, access_token=t + "x"),
    "stale iat": lambda k, url, t: k.proof("GET", url, access_token=t, iat=time.time() - 3600),
    "future iat": lambda k, url, t: k.proof("GET", url, access_token=t, iat=time.time() + 3600),
    "wrong typ": lambda k, url, t: k.proof("GET", url, access_token=t, header={"typ": "JWT"}),
    "private key in jwk": lambda k, url, t: k.proof(
        "GET", url, access_token=t, header={"jwk": {**k.jwk, "d": "AAAA"}}
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_every_broken_proof_is_refused_with_invalid_dpop_proof(
    name: str, mockidp: MockIdP, api: MockApi, http: requests.Session
) -> None:
    key = DPoPKey()
    token = bound_token(mockidp, http, key, api.url)
    r = call(http, api.url, token, BROKEN[name](key, api.url, token))
    assert r.status_code == 401
    assert dpop_challenge(r)["error"] == "invalid_dpop_proof"


def test_a_replayed_proof_is_refused(mockidp: MockIdP, api: MockApi, http: requests.Session) -> None:
    key = DPoPKey()
    token = bound_token(mockidp, http, key, api.url)
    proof = key.proof("GET", api.url, access_token=token)
    assert call(http, api.url, token, proof).status_code == 200
    again = call(http, api.url, token, proof)
    assert again.status_code == 401
    assert "replayed" in dpop_challenge(again)["error_description"]


def test_an_unbound_token_with_the_dpop_scheme_is_refused(
    mockidp: MockIdP, api: MockApi, http: requests.Session
) -> None:
    key = DPoPKey()
    token = bound_token(mockidp, http, None, api.url)
    r = call(http, api.url, token, key.proof("GET", api.url, access_token=token))
    assert r.status_code == 401
    assert dpop_challenge(r)["error"] == "invalid_token"


def test_an_api_that_requires_dpop_refuses_bearer_tokens(
    mockidp: MockIdP, api: MockApi, http: requests.Session
) -> None:
    api.require_dpop()
    plain = bound_token(mockidp, http, None, api.url)
    r = call(http, api.url, plain, None, scheme="Bearer")
    assert r.status_code == 401
    assert dpop_challenge(r)["error"] == "invalid_token"
    missing = http.get(api.url)
    assert "error" not in dpop_challenge(missing)
    assert http.get(api.metadata_url).json()["dpop_bound_access_tokens_required"] is True


def test_an_api_nonce_is_demanded_then_accepted(
    mockidp: MockIdP, api: MockApi, http: requests.Session
) -> None:
    api.require_dpop(nonce=True)
    key = DPoPKey()
    token = bound_token(mockidp, http, key, api.url)
    first = call(http, api.url, token, key.proof("GET", api.url, access_token=token))
    assert first.status_code == 401
    assert dpop_challenge(first)["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    ok = call(http, api.url, token, key.proof("GET", api.url, access_token=token, nonce=nonce))
    assert ok.status_code == 200


def test_neither_journal_keeps_a_proof(mockidp: MockIdP, api: MockApi, http: requests.Session) -> None:
    """The IdP's journal redacts the token endpoint's DPoP header; the API's call records never
    hold the header at all, so no proof can be replayed from them."""
    key = DPoPKey()
    token_proof = key.proof("POST", mockidp.token_endpoint)
    data = {"grant_type": "client_credentials", "resource": api.url, "scope": "inventory:read"}
    token = http.post(mockidp.token_endpoint, data=data, auth=AGENT, headers={"DPoP": token_proof}).json()[
        "access_token"
    ]
    proof = key.proof("GET", api.url, access_token=token)
    assert call(http, api.url, token, proof).status_code == 200
    journal = http.get(mockidp.url("_mockidp/journal")).text
    text = journal + repr([c.to_dict() for c in api.snapshot()])
    for secret in (token_proof, proof):
        for piece in secret.split("."):
            assert piece not in text


@pytest.mark.parametrize("jkt", ["ü-not-ascii", "", "x" * 500])
def test_an_odd_cnf_jkt_is_refused_not_a_crash(
    mockidp: MockIdP, api: MockApi, http: requests.Session, jkt: str
) -> None:
    key = DPoPKey()
    token = mockidp.issue_token(
        client_id="demo-agent", audience=api.url, scope="inventory:read", claims={"cnf": {"jkt": jkt}}
    )
    r = call(http, api.url, token, key.proof("GET", api.url, access_token=token))
    assert r.status_code == 401
    assert dpop_challenge(r)["error"] == "invalid_dpop_proof"


def test_a_huge_iat_is_refused_not_a_crash(mockidp: MockIdP, api: MockApi, http: requests.Session) -> None:
    key = DPoPKey()
    token = bound_token(mockidp, http, key, api.url)
    r = call(http, api.url, token, key.proof("GET", api.url, access_token=token, claims={"iat": 10**400}))
    assert r.status_code == 401
    assert dpop_challenge(r)["error"] == "invalid_dpop_proof"
