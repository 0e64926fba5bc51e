"""``private_key_jwt`` (RFC 7523 section 2.2) over real HTTP: every grant, every endpoint, every check.

Assertions are built with PyJWT and cryptography (``private_key_jwt_client.py``), not mockidp.
Each check of ``mockidp.client_assertion`` is refused with ``invalid_client`` (401) and a
description naming it, at the token, introspection and revocation endpoints alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from apphost import AppHost
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from private_key_jwt_client import ASSERTION_TYPE, DROP, SignedClient, new_key, public_jwk
from userflow import CALLBACK, authorize, refresh

from mockidp import ConfigError, IdPConfig, MockIdP, redacted

CLIENT = "signed-agent"
RESOURCE = "demo-api"


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def signed(mockidp: MockIdP) -> SignedClient:
    client = SignedClient(CLIENT, mockidp.issuer)
    mockidp.add_client(
        client_id=CLIENT,
        token_endpoint_auth_method="private_key_jwt",
        jwks=client.jwks,
        grant_types=["client_credentials"],
        scopes=["demo-api:read"],
        audiences=[RESOURCE],
    )
    return client


def add_signed(idp: MockIdP, client_id: str, **keys: Any) -> None:
    """A private_key_jwt client for client credentials to the demo API, with ``jwks`` or ``jwks_uri``."""
    idp.add_client(
        client_id=client_id,
        token_endpoint_auth_method="private_key_jwt",
        grant_types=["client_credentials"],
        scopes=["demo-api:read"],
        audiences=[RESOURCE],
        **keys,
    )


def token_request(idp: MockIdP, http: requests.Session, form: dict[str, str]) -> requests.Response:
    data = {"grant_type": "client_credentials", "resource": RESOURCE, "scope": "demo-api:read", **form}
    return http.post(idp.token_endpoint, data=data)


def get_token(idp: MockIdP, http: requests.Session, signed: SignedClient) -> str:
    r = token_request(idp, http, signed.form())
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_client_credentials_with_an_es256_assertion(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient
) -> None:
    token = get_token(mockidp, http, signed)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["client_id"] == CLIENT
    assert claims["aud"] == RESOURCE
    record = [r for r in mockidp.requests if r.endpoint == "token"][-1]
    assert record.client_id == CLIENT
    assert record.status == 200


@pytest.mark.parametrize("audience", ["issuer", "token endpoint", "issuer in an array", "both in an array"])
def test_accepted_audiences(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient, audience: str
) -> None:
    aud: Any = {
        "issuer": mockidp.issuer,
        "token endpoint": mockidp.token_endpoint,
        "issuer in an array": [mockidp.issuer],
        "both in an array": [mockidp.issuer, mockidp.token_endpoint],
    }[audience]
    r = token_request(mockidp, http, signed.form(signed.assertion(aud=aud)))
    assert r.status_code == 200, r.text


def test_no_kid_is_fine_with_a_single_key(mockidp: MockIdP, http: requests.Session) -> None:
    client = SignedClient("one-key", mockidp.issuer, alg="RS256", kid=None)
    add_signed(mockidp, "one-key", jwks=client.jwks)
    assert "kid" not in client.jwks["keys"][0]
    r = token_request(mockidp, http, client.form(client_id="one-key"))
    assert r.status_code == 200, r.text


def test_no_kid_is_refused_with_several_keys(mockidp: MockIdP, http: requests.Session) -> None:
    client = SignedClient("two-keys", mockidp.issuer, kid=None)
    other = public_jwk(new_key("ES256"), "ES256", "other")
    jwks = {"keys": [*client.jwks["keys"], other]}
    add_signed(mockidp, "two-keys", jwks=jwks)
    r = token_request(mockidp, http, client.form())
    assert r.status_code == 401
    assert "names no key (kid) and the client has several" in r.json()["error_description"]


def test_introspection_and_revocation_accept_the_assertion(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient
) -> None:
    token = get_token(mockidp, http, signed)
    r = http.post(mockidp.url("introspect"), data=signed.form(token=token))
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    r = http.post(mockidp.url("revoke"), data=signed.form(token=token))
    assert r.status_code == 200, r.text
    r = http.post(mockidp.url("introspect"), data=signed.form(token=token))
    assert r.json() == {"active": False}


def test_code_flow_and_refresh_with_private_key_jwt(mockidp: MockIdP, http: requests.Session) -> None:
    app = SignedClient("signed-app", mockidp.issuer)
    mockidp.add_client(
        client_id="signed-app",
        token_endpoint_auth_method="private_key_jwt",
        jwks=app.jwks,
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK],
        scopes=["openid", "profile", "email", "offline_access", "demo-api:read"],
        audiences=[RESOURCE],
    )
    got = authorize(mockidp, http, client_id="signed-app")
    data = {
        "grant_type": "authorization_code",
        "code": got.code,
        "redirect_uri": got.redirect_uri,
        "code_verifier": got.verifier,
    }
    r = http.post(mockidp.token_endpoint, data={**data, **app.form()})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["refresh_token"] and tokens["id_token"]
    renewed = refresh(mockidp, http, tokens["refresh_token"], client_id="signed-app", **app.form())
    assert renewed.status_code == 200, renewed.text
    # the same code flow without the assertion: the client must authenticate
    got = authorize(mockidp, http, client_id="signed-app")
    r = http.post(mockidp.token_endpoint, data={**data, "code": got.code, "client_id": "signed-app"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_metadata_advertises_private_key_jwt(mockidp: MockIdP, http: requests.Session) -> None:
    doc = http.get(mockidp.metadata_url).json()
    for endpoint in ("token", "introspection", "revocation"):
        assert "private_key_jwt" in doc[f"{endpoint}_endpoint_auth_methods_supported"]
        algs = doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert "ES256" in algs and "RS256" in algs
        assert not {"none", "HS256", "HS384", "HS512"} & set(algs)


def test_the_journal_keeps_the_claims_not_the_assertion(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient
) -> None:
    assertion = signed.assertion()
    token_request(mockidp, http, signed.form(assertion))
    journal = http.get(mockidp.url("_mockidp/journal")).text
    for part in assertion.split("."):
        assert part not in journal
    record = [r for r in mockidp.requests if r.endpoint == "token"][-1]
    assert record.form["client_assertion"] == [redacted(assertion)]
    assert record.client_assertion is not None
    assert record.client_assertion["claims"]["iss"] == CLIENT
    assert record.client_assertion["header"]["alg"] == "ES256"


# --- every check, refused -----------------------------------------------------------------

FormMaker = Callable[[MockIdP, SignedClient], dict[str, str]]


def _alg_none(idp: MockIdP, c: SignedClient) -> dict[str, str]:
    return c.form(f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(c.claims())}.")


def _hs256_with_public_key(idp: MockIdP, c: SignedClient) -> dict[str, str]:
    """The classic key confusion: HMAC keyed with the client's public key (its JWK as JSON)."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'k1'})}.{b64(c.claims())}"
    secret = json.dumps(c.jwks["keys"][0]).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return c.form(f"{signing_input}.{b64(signature)}")


def _alg_not_the_keys(idp: MockIdP, c: SignedClient) -> dict[str, str]:
    return c.form(c.assertion(header={"alg": "RS256"}, key=new_key("RS256")))


def _replayed(idp: MockIdP, c: SignedClient) -> dict[str, str]:
    assertion = c.assertion()
    first = requests.post(idp.token_endpoint, data={"grant_type": "client_credentials", **c.form(assertion)})
    assert first.status_code == 200, first.text
    return c.form(assertion)


REFUSALS: dict[str, tuple[FormMaker, str]] = {
    "wrong iss": (lambda i, c: c.form(c.assertion(iss="nobody")), "unknown client"),
    "iss missing": (
        lambda i, c: c.form(c.assertion(iss=DROP), client_id=CLIENT),
        "iss must be the client_id",
    ),
    "sub not iss": (lambda i, c: c.form(c.assertion(sub="someone")), "sub must be the client_id"),
    "wrong aud": (lambda i, c: c.form(c.assertion(aud="https://as.example")), "aud must be the issuer"),
    "aud introspection endpoint": (
        lambda i, c: c.form(c.assertion(aud=i.url("introspect"))),
        "aud must be the issuer",
    ),
    "aud array with another party": (
        lambda i, c: c.form(c.assertion(aud=[i.issuer, "https://as.example"])),
        "aud must be the issuer",
    ),
    "aud missing": (lambda i, c: c.form(c.assertion(aud=DROP)), "aud must be the issuer"),
    "exp missing": (lambda i, c: c.form(c.assertion(exp=DROP)), "exp is missing"),
    "expired": (
        lambda i, c: c.form(c.assertion(iat=int(time.time()) - 200, exp=int(time.time()) - 100)),
        "expired",
    ),
    "too long a lifetime": (
        lambda i, c: c.form(c.assertion(exp=int(time.time()) + 3600)),
        "lifetime too long",
    ),
    "too long a lifetime without iat": (
        lambda i, c: c.form(c.assertion(iat=DROP, exp=int(time.time()) + 3600)),
        "lifetime too long",
    ),
    "nbf in the future": (
        lambda i, c: c.form(c.assertion(nbf=int(time.time()) + 120)),
        "nbf is in the future",
    ),
    "iat in the future": (
        lambda i, c: c.form(c.assertion(iat=int(time.time()) + 120)),
        "iat is in the future",
    ),
    "jti missing": (lambda i, c: c.form(c.assertion(jti=DROP)), "jti is missing"),
    "jti not a string": (lambda i, c: c.form(c.assertion(jti=7)), "jti must be a non-empty string"),
    "jti replayed": (_replayed, "jti was already used"),
    "alg none": (_alg_none, "alg 'none' not allowed"),
    "HS256 with the public key": (_hs256_with_public_key, "alg 'HS256' not allowed"),
    "wrong key": (lambda i, c: c.form(c.assertion(key=new_key("ES256"))), "bad signature"),
    "unknown kid": (lambda i, c: c.form(c.assertion(header={"kid": "k2"})), "unknown kid"),
    "alg not the key's": (_alg_not_the_keys, "alg 'RS256' is not the algorithm of key k1"),
    "client_id param mismatch": (
        lambda i, c: c.form(client_id="demo-agent"),
        "iss differs from the client_id",
    ),
    "wrong assertion type": (
        lambda i, c: {
            **c.form(),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        },
        f"client_assertion_type must be {ASSERTION_TYPE}",
    ),
    "not a JWT": (lambda i, c: c.form("not-a-jwt", client_id=CLIENT), "not a compact JWS"),
    "not a JWT, no client_id": (lambda i, c: c.form("bm90.anNvbg.Zq9xQ"), "not a compact JWS"),
    "oversized, no client_id": (lambda i, c: c.form("a" * 9000), "longer than 8192 characters"),
    "client registered for a secret": (
        lambda i, c: c.form(c.assertion(iss="demo-agent", sub="demo-agent")),
        "registered for client_secret_basic, client_secret_post, not private_key_jwt",
    ),
}
ENDPOINTS = ("token", "introspect", "revoke")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_check_is_refused_with_its_description(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient, case: str, endpoint: str
) -> None:
    make, description = REFUSALS[case]
    form = make(mockidp, signed)
    data = (
        {"grant_type": "client_credentials", "resource": RESOURCE} if endpoint == "token" else {"token": "x"}
    )
    r = http.post(mockidp.url(endpoint), data={**data, **form})
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["error"] == "invalid_client"
    assert description in body["error_description"], body
    signature = form["client_assertion"].split(".")[-1]
    assert not signature or signature not in body["error_description"]


def test_a_secret_and_an_assertion_together_are_refused(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient
) -> None:
    r = token_request(mockidp, http, signed.form(client_secret="x"))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    r = http.post(
        mockidp.token_endpoint, data={"grant_type": "client_credentials", **signed.form()}, auth=("a", "b")
    )
    assert r.status_code == 400


def test_the_mock_clock_is_the_reference(
    mockidp: MockIdP, http: requests.Session, signed: SignedClient
) -> None:
    mockidp.clock.advance(3600)  # the IdP lives an hour ahead: a fresh assertion has expired
    r = token_request(mockidp, http, signed.form())
    assert r.status_code == 401
    assert "expired" in r.json()["error_description"]


# --- keys from a jwks_uri ----------------------------------------------------------------


class JwksHost:
    """Serves a client's JWKS on loopback and counts the fetches."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks, self.fetches = jwks, 0
        app = web.Application()
        app.router.add_get("/jwks", self._serve)
        self.host = AppHost(app)

    async def _serve(self, request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response(self.jwks, headers={"Cache-Control": "max-age=600"})

    @property
    def url(self) -> str:
        return f"{self.host.base_url}/jwks"


@pytest.fixture
def jwks_host() -> Iterator[JwksHost]:
    host = JwksHost({"keys": []})
    with host.host:
        yield host


def test_jwks_uri_keys_are_fetched_once_and_refetched_on_rotation(
    mockidp: MockIdP, http: requests.Session, jwks_host: JwksHost
) -> None:
    first = SignedClient("remote", mockidp.issuer, kid="k1")
    jwks_host.jwks = first.jwks
    add_signed(mockidp, "remote", jwks_uri=jwks_host.url)
    for _ in range(2):
        assert token_request(mockidp, http, first.form()).status_code == 200
    assert jwks_host.fetches == 1  # cached for its max-age
    rotated = SignedClient("remote", mockidp.issuer, kid="k2")
    jwks_host.jwks = {"keys": [*first.jwks["keys"], *rotated.jwks["keys"]]}
    r = token_request(mockidp, http, rotated.form())
    assert r.status_code == 200, r.text
    assert jwks_host.fetches == 2  # the unknown kid made it fetch again, once
    # another unknown kid at once: refused without a fetch (at most one refetch per 10 s)
    stranger = SignedClient("remote", mockidp.issuer, kid="k3")
    r = token_request(mockidp, http, stranger.form())
    assert r.status_code == 401
    assert "unknown kid" in r.json()["error_description"]
    assert jwks_host.fetches == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unreachable_jwks_uri_is_refused(mockidp: MockIdP, http: requests.Session, endpoint: str) -> None:
    client = SignedClient("remote", mockidp.issuer)
    add_signed(mockidp, "remote", jwks_uri="http://127.0.0.1:9/jwks")
    data = {"grant_type": "client_credentials"} if endpoint == "token" else {"token": "x"}
    r = http.post(mockidp.url(endpoint), data={**data, **client.form()})
    assert r.status_code == 401, r.text
    assert "cannot get the client's jwks_uri" in r.json()["error_description"]


def test_a_private_jwks_uri_host_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    client = SignedClient("remote", mockidp.issuer)
    add_signed(mockidp, "remote", jwks_uri="https://10.1.2.3/jwks")
    r = token_request(mockidp, http, client.form())
    assert r.status_code == 401
    assert "non-public address" in r.json()["error_description"]


# --- fuzz ----------------------------------------------------------------------------------

SEGMENTS = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40),
    st.dictionaries(
        st.sampled_from(
            ["alg", "kid", "typ", "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "jwk", "crit"]
        ),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=True)
        | st.text(max_size=20)
        | st.lists(st.text(max_size=10), max_size=2),
        max_size=8,
    ).map(b64),
)
ASSERTIONS = st.one_of(
    st.text(max_size=60),
    st.lists(SEGMENTS, min_size=1, max_size=4).map(".".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    assertion=ASSERTIONS,
    assertion_type=st.sampled_from([ASSERTION_TYPE, "", "urn:x"]),
    client_id=st.sampled_from([None, CLIENT, "demo-agent", "nobody", ""]),
    endpoint=st.sampled_from(ENDPOINTS),
)
def test_fuzz_client_assertions_are_refused_cleanly(
    mockidp: MockIdP,
    http: requests.Session,
    signed: SignedClient,
    assertion: str,
    assertion_type: str,
    client_id: str | None,
    endpoint: str,
) -> None:
    form = {"client_assertion_type": assertion_type, "client_assertion": assertion}
    if client_id is not None:
        form["client_id"] = client_id
    data = {"grant_type": "client_credentials"} if endpoint == "token" else {"token": "x"}
    r = http.post(mockidp.url(endpoint), data={**data, **form})
    assert r.status_code in (400, 401), r.text
    assert r.json()["error"] in ("invalid_client", "invalid_request")
    assert not mockidp.state.server_errors.take()


@pytest.mark.parametrize(
    ("keys", "path", "message"),
    [
        ({"jwks": {"keys": []}}, "clients[0].jwks", "at least one key"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "clients[0].jwks.keys[0]", "public key only"),
        ({"jwks": {"keys": ["x"]}}, "clients[0].jwks.keys[0]", "JWK object"),
        ({"jwks_uri": "http://keys.example/jwks"}, "clients[0].jwks_uri", "https"),
        ({"jwks_uri": "ftp://127.0.0.1/jwks"}, "clients[0].jwks_uri", "https"),
    ],
)
def test_config_errors_name_the_key(keys: dict[str, Any], path: str, message: str) -> None:
    client = {"client_id": "c", "token_endpoint_auth_method": "private_key_jwt", **keys}
    with pytest.raises(ConfigError) as info:
        IdPConfig.from_dict({"clients": [client]})
    assert info.value.key_path == path
    assert message in info.value.message
