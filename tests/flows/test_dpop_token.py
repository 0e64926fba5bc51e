"""DPoP at the token endpoint (RFC 9449 §4.3, §5): every proof check, bound tokens, nonces.

Proofs come from a hand-rolled client (``dpop_client``: PyJWT + cryptography), over real HTTP.
"""

from __future__ import annotations

import base64
import json
import time
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests
from dpop_client import DPoPKey, b64, claims_of
from userflow import APP, authorize, redeem, refresh

from mockidp import MockIdP
from mockidp.config import ClientConfig

AGENT = ("demo-agent", "demo-agent-secret")
CC = {"grant_type": "client_credentials"}


def token_request(
    idp: MockIdP, http: requests.Session, proof: str | None, data: dict[str, str] | None = None
) -> requests.Response:
    headers = {"DPoP": proof} if proof is not None else {}
    return http.post(idp.token_endpoint, data=data or CC, auth=AGENT, headers=headers)


def raw_post(url: str, body: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
    """A POST with repeated headers (requests folds them), answered as (status, JSON)."""
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    try:
        conn.putrequest("POST", parts.path)
        for name, value in [*headers, ("Content-Type", "application/x-www-form-urlencoded")]:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body.encode())
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def test_client_credentials_with_a_proof_gets_a_bound_dpop_token(
    mockidp: MockIdP, http: requests.Session
) -> None:
    key = DPoPKey()
    r = token_request(mockidp, http, key.proof("POST", mockidp.token_endpoint))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt}


def test_without_a_proof_the_token_is_bearer(mockidp: MockIdP, http: requests.Session) -> None:
    body = token_request(mockidp, http, None).json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in claims_of(body["access_token"])


def test_metadata_advertises_the_proof_algorithms(mockidp: MockIdP, http: requests.Session) -> None:
    document = http.get(mockidp.url(".well-known/openid-configuration")).json()
    assert "ES256" in document["dpop_signing_alg_values_supported"]
    assert "none" not in document["dpop_signing_alg_values_supported"]
    assert not any(a.startswith("HS") for a in document["dpop_signing_alg_values_supported"])


def _hs256_proof(url: str) -> str:
    claims = {"jti": "j", "htm": "POST", "htu": url, "iat": int(time.time())}
    return jwt.encode(
        claims, "k" * 32, algorithm="HS256", headers={"typ": "dpop+jwt", "jwk": {"kty": "oct", "k": "a2s"}}
    )


def _unsigned(proof: str) -> str:
    _, payload, _ = proof.split(".")
    header = {**jwt.get_unverified_header(proof), "alg": "none"}
    return f"{b64(json.dumps(header).encode())}.{payload}."


def _bad_signature(proof: str) -> str:
    head, payload, _sig = proof.split(".")
    return f"{head}.{payload}.{b64(bytes(64))}"


def _other_key_jwk(key: DPoPKey) -> dict[str, Any]:
    return {"jwk": DPoPKey().jwk}


BROKEN: dict[str, Any] = {
    "typ": lambda k, url: k.proof("POST", url, header={"typ": "JWT"}),
    "alg-hs256": lambda k, url: _hs256_proof(url),
    "alg-none": lambda k, url: _unsigned(k.proof("POST", url)),
    "private-jwk": lambda k, url: k.proof("POST", url, header={"jwk": {**k.jwk, "d": b64(b"x" * 32)}}),
    "jwk-missing": lambda k, url: k.proof("POST", url, header={"jwk": None}),
    "signature": lambda k, url: _bad_signature(k.proof("POST", url)),
    "other-jwk": lambda k, url: k.proof("POST", url, header=_other_key_jwk(k)),
    "htm": lambda k, url: k.proof("GET", url),
    "htu": lambda k, url: k.proof("POST", url.replace("/token", "/authorize")),
    "htu-other-port": lambda k, url: k.proof("POST", url.replace("127.0.0.1:", "127.0.0.1:1")),
    "iat-old": lambda k, url: k.proof("POST", url, iat=time.time() - 600),
    "iat-future": lambda k, url: k.proof("POST", url, iat=time.time() + 600),
    "iat-string": lambda k, url: k.proof("POST", url, claims={"iat": "now"}),
    "jti-missing": lambda k, url: k.proof("POST", url, drop=("jti",)),
    "htu-missing": lambda k, url: k.proof("POST", url, drop=("htu",)),
    "not-a-jwt": lambda k, url: "not.a.jwt",
    "garbage": lambda k, url: "%%%",
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_every_broken_proof_is_refused(name: str, mockidp: MockIdP, http: requests.Session) -> None:
    proof = BROKEN[name](DPoPKey(), mockidp.token_endpoint)
    r = token_request(mockidp, http, proof)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_dpop_proof", r.text


def test_htu_compares_after_normalisation(mockidp: MockIdP, http: requests.Session) -> None:
    """RFC 9449 §4.3 check 9 and RFC 3986 §6.2: case of scheme and host, query and fragment."""
    url = mockidp.token_endpoint.replace("http://", "HTTP://") + "?x=1#frag"
    r = token_request(mockidp, http, DPoPKey().proof("POST", url))
    assert r.status_code == 200, r.text


def test_a_replayed_proof_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    proof = DPoPKey().proof("POST", mockidp.token_endpoint)
    assert token_request(mockidp, http, proof).status_code == 200
    again = token_request(mockidp, http, proof)
    assert again.status_code == 400
    assert "replayed" in again.json()["error_description"]


def test_two_dpop_headers_are_refused(mockidp: MockIdP, http: requests.Session) -> None:
    key = DPoPKey()
    basic = base64.b64encode(f"{AGENT[0]}:{AGENT[1]}".encode()).decode()
    proofs = [("DPoP", key.proof("POST", mockidp.token_endpoint)) for _ in range(2)]
    status, body = raw_post(
        mockidp.token_endpoint, urlencode(CC), [("Authorization", f"Basic {basic}"), *proofs]
    )
    assert status == 400
    assert body["error"] == "invalid_dpop_proof"


@pytest.mark.mockidp(dpop={"nonce": True})
def test_nonce_mode_demands_the_server_nonce(mockidp: MockIdP, http: requests.Session) -> None:
    key = DPoPKey()
    first = token_request(mockidp, http, key.proof("POST", mockidp.token_endpoint))
    assert first.status_code == 400
    assert first.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    wrong = token_request(mockidp, http, key.proof("POST", mockidp.token_endpoint, nonce="stale"))
    assert wrong.json()["error"] == "use_dpop_nonce"
    ok = token_request(mockidp, http, key.proof("POST", mockidp.token_endpoint, nonce=nonce))
    assert ok.status_code == 200, ok.text
    assert claims_of(ok.json()["access_token"])["cnf"]["jkt"] == key.jkt
    assert ok.headers["DPoP-Nonce"] == nonce  # §8.2: the nonce for the next proof, on success too
    # the nonce moves with the clock's window; the previous window's stays good for one more
    mockidp.clock.advance(300)
    later = token_request(
        mockidp, http, key.proof("POST", mockidp.token_endpoint, nonce=nonce, iat=mockidp.clock.now())
    )
    assert later.status_code == 200, later.text
    mockidp.clock.advance(300)
    stale = token_request(
        mockidp, http, key.proof("POST", mockidp.token_endpoint, nonce=nonce, iat=mockidp.clock.now())
    )
    assert stale.json()["error"] == "use_dpop_nonce"


def test_a_client_registered_for_dpop_must_send_a_proof(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(
        ClientConfig(
            client_id="bound",
            client_secret="bound-secret",
            grant_types=("client_credentials",),
            dpop_bound_access_tokens=True,
        )
    )
    r = http.post(mockidp.token_endpoint, data=CC, auth=("bound", "bound-secret"))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    proof = DPoPKey().proof("POST", mockidp.token_endpoint)
    ok = http.post(mockidp.token_endpoint, data=CC, auth=("bound", "bound-secret"), headers={"DPoP": proof})
    assert ok.status_code == 200, ok.text
    assert ok.json()["token_type"] == "DPoP"


def test_code_flow_binds_access_and_refresh_token_of_a_public_client(
    mockidp: MockIdP, http: requests.Session
) -> None:
    key = DPoPKey()
    got = authorize(mockidp, http, dpop_jkt=key.jkt)
    stranger = redeem(mockidp, http, got, client_id=APP)
    assert stranger.status_code == 400  # dpop_jkt at /authorize: the code needs a proof of that key
    r = redeem(mockidp, http, got, {"DPoP": key.proof("POST", mockidp.token_endpoint)}, client_id=APP)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt}
    # the refresh token is bound too: without a proof, or with another key, it is refused
    assert refresh(mockidp, http, body["refresh_token"]).json()["error"] == "invalid_dpop_proof"
    other = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": APP},
        headers={"DPoP": DPoPKey().proof("POST", mockidp.token_endpoint)},
    )
    assert other.json()["error"] == "invalid_grant"


def test_dpop_jkt_of_another_key_refuses_the_code(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http, dpop_jkt=DPoPKey().jkt)
    r = redeem(mockidp, http, got)
    assert r.status_code == 400
    r = redeem(mockidp, http, got, {"DPoP": DPoPKey().proof("POST", mockidp.token_endpoint)}, client_id=APP)
    assert r.json()["error"] == "invalid_grant"


def test_malformed_dpop_jkt_is_refused_at_authorize(mockidp: MockIdP, http: requests.Session) -> None:
    from userflow import authorize_params, pkce, query_of

    params = authorize_params(pkce()[1], dpop_jkt="short")
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 302
    assert query_of(r.headers["Location"])["error"] == "invalid_request"


def test_introspection_shows_the_binding(mockidp: MockIdP, http: requests.Session) -> None:
    key = DPoPKey()
    token = token_request(mockidp, http, key.proof("POST", mockidp.token_endpoint)).json()["access_token"]
    r = http.post(mockidp.url("introspect"), data={"token": token}, auth=AGENT)
    assert r.json()["active"] is True
    assert r.json()["cnf"] == {"jkt": key.jkt}


def test_userinfo_takes_a_bound_token_only_with_a_proof(mockidp: MockIdP, http: requests.Session) -> None:
    """RFC 9449 §7 at the IdP's own resource: a stolen bound token reads no claims as Bearer."""
    key = DPoPKey()
    got = authorize(mockidp, http)
    r = redeem(mockidp, http, got, {"DPoP": key.proof("POST", mockidp.token_endpoint)}, client_id=APP)
    token = r.json()["access_token"]
    url = mockidp.url("userinfo")
    as_bearer = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    assert as_bearer.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')
    other = http.get(
        url,
        headers={"Authorization": f"DPoP {token}", "DPoP": DPoPKey().proof("GET", url, access_token=token)},
    )
    assert other.status_code == 401
    ok = http.get(
        url, headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url, access_token=token)}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["sub"] == "alice"


def test_a_proof_dated_ahead_cannot_be_replayed_later(mockidp: MockIdP, http: requests.Session) -> None:
    """The jti memory lasts as long as the proof's iat is acceptable, also for a future iat."""
    mockidp.clock.freeze()
    now = mockidp.clock.now()
    proof = DPoPKey().proof("POST", mockidp.token_endpoint, iat=now + 50)
    assert token_request(mockidp, http, proof).status_code == 200
    mockidp.clock.advance(90)  # iat is now 40 s in the past: still acceptable by age
    again = token_request(mockidp, http, proof)
    assert again.status_code == 400
    assert "replayed" in again.json()["error_description"]
