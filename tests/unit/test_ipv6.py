"""An IdP and its mock APIs on ``::1``: every derived URL brackets the address (RFC 3986 3.2.2)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import jwt
import pytest
import requests

from mockidp import MockIdP
from mockidp.demo import demo_config
from mockidp.resources import MockApis
from mockidp.web.listen import http_origin

AGENT = ("demo-agent", "demo-agent-secret")


def has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback on this machine")


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP(demo_config(), host="::1", issuer="/tenant-a") as server:
        yield server


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1", "http://127.0.0.1:80"),
        ("localhost", "http://localhost:80"),
        ("::1", "http://[::1]:80"),
        ("[::1]", "http://[::1]:80"),
        ("fe80::1%eth0", "http://[fe80::1%25eth0]:80"),
    ],
)
def test_http_origin_brackets_ipv6_addresses(host: str, origin: str) -> None:
    assert http_origin(host, 80) == origin


@needs_ipv6
def test_every_idp_address_is_bracketed(idp: MockIdP) -> None:
    origin = f"http://[::1]:{idp.port}"
    assert idp.base_url == origin
    assert idp.issuer == origin + "/tenant-a"
    assert idp.metadata_url == origin + "/tenant-a/.well-known/openid-configuration"
    assert idp.oauth_metadata_url == origin + "/.well-known/oauth-authorization-server/tenant-a"
    assert idp.token_endpoint == origin + "/tenant-a/token"


@needs_ipv6
def test_discovery_and_client_credentials_over_ipv6(idp: MockIdP) -> None:
    with requests.Session() as http:
        http.trust_env = False
        oidc = http.get(idp.metadata_url, timeout=5).json()
        oauth = http.get(idp.oauth_metadata_url, timeout=5).json()
        assert oidc["issuer"] == oauth["issuer"] == idp.issuer
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
            assert oidc[key].startswith(idp.issuer + "/"), (key, oidc[key])
        r = http.post(
            oidc["token_endpoint"],
            data={"grant_type": "client_credentials", "resource": "demo-api"},
            auth=AGENT,
            timeout=5,
        )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    signing_key = jwt.PyJWKClient(oidc["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key, algorithms=["RS256"], audience="demo-api", issuer=idp.issuer)
    assert claims["client_id"] == "demo-agent"


@needs_ipv6
def test_mock_api_on_ipv6_accepts_the_idps_token(idp: MockIdP) -> None:
    with MockApis(idp, ["inventory"]) as apis, requests.Session() as http:
        http.trust_env = False
        api = apis["inventory"]
        assert api.url.startswith("http://[::1]:") and api.url.endswith("/inventory")
        prm = http.get(api.metadata_url, timeout=5).json()
        assert prm["resource"] == api.url
        assert prm["authorization_servers"] == [idp.issuer]
        r = http.post(
            idp.token_endpoint,
            data={"grant_type": "client_credentials", "resource": api.url, "scope": "inventory:read"},
            auth=AGENT,
            timeout=5,
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert http.get(api.url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 200
        assert http.get(api.url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
