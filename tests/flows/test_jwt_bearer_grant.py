"""The jwt-bearer grant (RFC 7523 §2.1) with workload JWTs (workload identity federation):
success, and each refusal naming its check, over real loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from apphost import AppHost
from userflow import claims_of

from mockidp import IdPConfig, MockIdP, WorkloadIssuer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
API, OTHER_API = "https://api.example", "https://other.example"
CI = WorkloadIssuer("https://ci.example")


def config(trusted: list[dict[str, Any]], **client: Any) -> dict[str, Any]:
    return {
        "apis": [
            {"audience": API, "scopes": ["read", "write"]},
            {"audience": OTHER_API, "scopes": ["read", "admin"]},
        ],
        "clients": [
            {
                "client_id": "deployer",
                "grant_types": [JWT_BEARER],
                "audiences": [API, OTHER_API],
                "scopes": ["read", "write", "admin"],
                **client,
            },
            {"client_id": "cc", "client_secret": "cc-secret", "audiences": [API]},
        ],
        "trusted_issuers": trusted,
    }


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    trusted = CI.trusted_issuer(audiences=[API], scopes=["read"], subjects=["repo:acme/*"])
    with MockIdP(config([trusted])) as server:
        yield server


def redeem(idp: MockIdP, http: requests.Session, assertion: str, **extra: str) -> requests.Response:
    data = {"grant_type": JWT_BEARER, "assertion": assertion, "client_id": "deployer", **extra}
    return http.post(idp.token_endpoint, data=data)


def refused(r: requests.Response, words: str) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant", r.text
    assert words in r.json()["error_description"], r.text


def test_workload_jwt_gets_token_for_the_resource(idp: MockIdP, http: requests.Session) -> None:
    assertion = CI.mint("repo:acme/app", audience=idp.issuer)
    r = redeem(idp, http, assertion, resource=API, scope="read")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    claims = claims_of(body["access_token"])
    assert (claims["iss"], claims["sub"], claims["aud"], claims["scope"]) == (
        idp.issuer,
        "repo:acme/app",
        API,
        "read",
    )
    assert claims["client_id"] == "deployer"
    # the token works where a resource server would check it
    introspected = http.post(
        idp.url("introspect"), data={"token": body["access_token"]}, auth=("cc", "cc-secret")
    )
    assert introspected.json()["active"] is True


def test_token_endpoint_is_an_accepted_audience(idp: MockIdP, http: requests.Session) -> None:
    r = redeem(idp, http, CI.mint("repo:acme/app", audience=[idp.token_endpoint]))
    assert r.status_code == 200, r.text
    # without resource or scope: the first resource both allow, and every scope both allow
    assert (claims_of(r.json()["access_token"])["aud"], r.json()["scope"]) == (API, "read")


def test_advertised_only_when_enabled(idp: MockIdP, http: requests.Session) -> None:
    doc = http.get(idp.metadata_url).json()
    assert JWT_BEARER in doc["grant_types_supported"]
    assert doc["authorization_grant_profiles_supported"] == ["urn:ietf:params:oauth:grant-profile:id-jag"]
    with MockIdP(config([])) as plain:
        doc = http.get(plain.metadata_url).json()
        assert JWT_BEARER not in doc["grant_types_supported"]
        assert "authorization_grant_profiles_supported" not in doc


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda i: WorkloadIssuer("https://evil.example").mint("repo:acme/app", audience=i.issuer),
            "not a trusted",
        ),
        (lambda i: CI.mint("repo:acme/app", audience="https://another-idp.example"), "aud must name"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, now=time.time() - 600), "expired"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, lifetime=7200), "more than 3600"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, now=time.time() + 300), "future"),
        (lambda i: CI.mint("repo:evil/app", audience=i.issuer), "subject 'repo:evil/app' is not allowed"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, claims={"jti": None}), "missing claim 'jti'"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, claims={"exp": None}), "missing claim 'exp'"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, typ="at+jwt"), "typ"),
        (lambda i: CI.mint("repo:acme/app", audience=i.issuer, typ="oauth-id-jag+jwt"), "not ID-JAGs"),
        # the right kid, another key: an attacker who read the JWKS but has not got the key
        (
            lambda i: WorkloadIssuer(CI.issuer, kid=CI.key.kid).mint("repo:acme/app", audience=i.issuer),
            "bad signature",
        ),
        (lambda i: WorkloadIssuer(CI.issuer).mint("repo:acme/app", audience=i.issuer), "unknown kid"),
        (lambda i: "not-a-jwt", "not a compact JWS"),
    ],
    ids=[
        "untrusted-iss",
        "wrong-aud",
        "expired",
        "exp-too-far",
        "issued-in-future",
        "subject-not-mapped",
        "no-jti",
        "no-exp",
        "access-token-typ",
        "id-jag-from-a-workload-issuer",
        "wrong-key",
        "unknown-key",
        "not-a-jwt",
    ],
)
def test_bad_assertion_refused(idp: MockIdP, http: requests.Session, make: Any, words: str) -> None:
    refused(redeem(idp, http, make(idp)), words)


def test_a_refused_request_does_not_spend_the_assertion(idp: MockIdP, http: requests.Session) -> None:
    """A CI job gets its platform JWT once: a wrong scope or resource is corrected and the same
    assertion sent again (principle 5: bad input loses nothing); only an issued token spends it."""
    assertion = CI.mint("repo:acme/app", audience=idp.issuer)
    assert redeem(idp, http, assertion, scope="write").json()["error"] == "invalid_scope"
    assert redeem(idp, http, assertion, resource=OTHER_API).json()["error"] == "invalid_target"
    assert redeem(idp, http, assertion, resource=API, scope="read").status_code == 200
    refused(redeem(idp, http, assertion, resource=API, scope="read"), "jti already used")


def test_replayed_jti_refused(idp: MockIdP, http: requests.Session) -> None:
    assertion = CI.mint("repo:acme/app", audience=idp.issuer)
    assert redeem(idp, http, assertion).status_code == 200
    refused(redeem(idp, http, assertion), "jti already used")
    # a fresh assertion that reuses the jti is a replay too
    other = CI.mint("repo:acme/app", audience=idp.issuer, jti=claims_of(assertion)["jti"])
    refused(redeem(idp, http, other), "jti already used")


@pytest.mark.parametrize(
    ("extra", "error", "words"),
    [
        ({"resource": OTHER_API}, "invalid_target", "the trusted issuer"),  # client may, issuer may not
        ({"resource": "https://unknown.example"}, "invalid_target", "not a registered API"),
        ({"scope": "write"}, "invalid_scope", "may not request scope 'write'"),  # client may, issuer may not
        ({"scope": "openid"}, "invalid_scope", "openid"),
    ],
)
def test_target_and_scope_within_the_mapping(
    idp: MockIdP, http: requests.Session, extra: dict[str, str], error: str, words: str
) -> None:
    r = redeem(idp, http, CI.mint("repo:acme/app", audience=idp.issuer), **extra)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error and words in r.json()["error_description"], r.text


def test_client_must_be_allowed_the_grant(idp: MockIdP, http: requests.Session) -> None:
    data = {"grant_type": JWT_BEARER, "assertion": CI.mint("repo:acme/app", audience=idp.issuer)}
    r = http.post(idp.token_endpoint, data=data, auth=("cc", "cc-secret"))
    assert (r.status_code, r.json()["error"]) == (400, "unauthorized_client")
    r = http.post(idp.token_endpoint, data={"grant_type": JWT_BEARER, "client_id": "deployer"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def test_keys_from_jwks_uri_refetched_on_rollover(http: requests.Session) -> None:
    issuer = WorkloadIssuer("https://k8s.example")
    served = {"jwks": issuer.jwks}

    async def jwks(request: web.Request) -> web.Response:
        return web.json_response(served["jwks"], headers={"Cache-Control": "max-age=3600"})

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    with AppHost(app) as host:
        trusted = {
            "issuer": issuer.issuer,
            "jwks_uri": f"{host.base_url}/jwks",
            "allow_http_loopback": True,
            "audiences": [API],
            "scopes": ["read"],
        }
        with MockIdP(config([trusted])) as idp:
            assert redeem(idp, http, issuer.mint("system:serviceaccount:ns:sa", audience=idp.issuer)).ok
            rolled = WorkloadIssuer(issuer.issuer)  # the platform rolls its key over
            served["jwks"] = {"keys": issuer.jwks["keys"] + rolled.jwks["keys"]}
            r = redeem(idp, http, rolled.mint("system:serviceaccount:ns:sa", audience=idp.issuer))
            assert r.status_code == 200, r.text


def test_http_jwks_uri_refused_without_opt_in(http: requests.Session) -> None:
    trusted = {"issuer": CI.issuer, "jwks_uri": "http://127.0.0.1:9/jwks", "audiences": [API]}
    with MockIdP(config([trusted])) as idp:
        refused(redeem(idp, http, CI.mint("x", audience=idp.issuer)), "http is refused")


def test_fixture_gives_a_trusted_workload_issuer(
    mockidp: MockIdP, mockidp_workload: WorkloadIssuer, http: requests.Session
) -> None:
    mockidp.add_client(
        client_id="ci", grant_types=[JWT_BEARER], audiences=["demo-api"], scopes=["demo-api:read"]
    )
    assertion = mockidp_workload.mint("job-42", audience=mockidp.issuer)
    data = {"grant_type": JWT_BEARER, "assertion": assertion, "client_id": "ci"}
    r = http.post(mockidp.token_endpoint, data=data)
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["sub"] == "job-42"


def test_entry_without_kind_tells_id_jags_by_typ(http: requests.Session) -> None:
    entry = {k: v for k, v in CI.trusted_issuer(audiences=[API], scopes=["read"]).items() if k != "kind"}
    with MockIdP(config([entry])) as idp:
        assert redeem(idp, http, CI.mint("job", audience=idp.issuer)).status_code == 200
        # a grant that names a client is an ID-JAG, whatever its typ says (RFC 8725 §3.11)
        named = CI.mint("job", audience=idp.issuer, claims={"client_id": "deployer"})
        refused(redeem(idp, http, named), "must be typed oauth-id-jag+jwt")
    with MockIdP(config([CI.trusted_issuer(audiences=[API], scopes=["read"])])) as idp:
        # an entry of kind workload takes the platform's claims as they are
        assert redeem(idp, http, CI.mint("job", audience=idp.issuer, claims={"client_id": "x"})).ok


def test_jti_memory_is_per_issuer_and_bounded() -> None:
    from mockidp.store import PRUNE_AT, Store

    store = Store(IdPConfig())
    assert store.remember_jti("a", "j", 100.0, 50.0) and not store.remember_jti("a", "j", 100.0, 60.0)
    assert store.remember_jti("b", "j", 100.0, 60.0)  # another issuer's jti
    assert store.remember_jti("a", "j", 200.0, 150.0)  # expired: forgotten, the exp check refuses it
    assert store.remember_jti("c", "k", 100.0) and not store.remember_jti("c", "k", 100.0)
    for i in range(PRUNE_AT + 10):
        store.remember_jti("bulk", str(i), float(i))
    assert not store.remember_jti("bulk", str(PRUNE_AT + 9), float(PRUNE_AT + 9))  # the newest stay


@pytest.mark.mockidp(clock={"frozen_at": 1_700_000_000})
def test_fixture_issuer_follows_a_frozen_idp_clock(
    mockidp: MockIdP, mockidp_workload: WorkloadIssuer, http: requests.Session
) -> None:
    mockidp.add_client(
        client_id="ci", grant_types=[JWT_BEARER], audiences=["demo-api"], scopes=["demo-api:read"]
    )
    assertion = mockidp_workload.mint("job-7", audience=mockidp.issuer)
    assert claims_of(assertion)["iat"] == 1_700_000_000
    r = http.post(
        mockidp.token_endpoint, data={"grant_type": JWT_BEARER, "assertion": assertion, "client_id": "ci"}
    )
    assert r.status_code == 200, r.text
    mockidp.clock.advance(3600)  # the IdP's clock moves on: the JWT has expired
    late = mockidp_workload.mint("job-8", audience=mockidp.issuer, now=1_700_000_000)
    r = http.post(
        mockidp.token_endpoint, data={"grant_type": JWT_BEARER, "assertion": late, "client_id": "ci"}
    )
    assert r.json()["error"] == "invalid_grant" and "expired" in r.json()["error_description"]


def test_every_workload_issuer_has_its_own_key_material() -> None:
    """The shared key pool hands out 8 keys in turn; an issuer drawing from it would sometimes
    sign with another issuer's key, and "the right kid, another key" would then verify."""
    publics = set()
    for _ in range(20):
        jwk = WorkloadIssuer(CI.issuer, kid=CI.key.kid).jwks["keys"][0]
        publics.add((jwk["x"], jwk["y"]))
    assert len(publics) == 20
    assert (CI.jwks["keys"][0]["x"], CI.jwks["keys"][0]["y"]) not in publics
