"""The authorization_code grant at the token endpoint: single use, TTL, bindings, PKCE."""

from __future__ import annotations

import pytest
import requests
from userflow import CALLBACK, authorize, authorize_params, claims_of, pkce, query_of, redeem, refresh

from mockidp import MockIdP

CONFIDENTIAL = {
    "client_id": "web",
    "client_secret": "web-secret",
    "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": ["https://app.example/cb"],
    "scopes": ["openid", "demo-api:read"],
    "audiences": ["demo-api"],
}


def token_error(r: requests.Response, error: str, fragment: str = "") -> None:
    assert r.status_code in (400, 401), r.text
    assert r.json()["error"] == error
    assert fragment in r.json()["error_description"]


def test_code_is_single_use_and_replay_revokes_its_tokens(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http)
    first = redeem(mockidp, http, got).json()
    userinfo = mockidp.url("userinfo")
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert http.get(userinfo, headers=bearer).status_code == 200
    token_error(redeem(mockidp, http, got), "invalid_grant", "already used")
    r = http.get(userinfo, headers=bearer)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    token_error(refresh(mockidp, http, first["refresh_token"]), "invalid_grant")


def test_code_expires_after_code_ttl(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    got = authorize(mockidp, http)
    mockidp.clock.advance(61)
    token_error(redeem(mockidp, http, got), "invalid_grant", "expired")


def test_code_just_inside_its_ttl_works(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    got = authorize(mockidp, http)
    mockidp.clock.advance(59)
    assert redeem(mockidp, http, got).status_code == 200


@pytest.mark.parametrize(
    ("extra", "error", "fragment"),
    [
        ({"code_verifier": ""}, "invalid_grant", "code_verifier is required"),
        ({"code_verifier": "x" * 43}, "invalid_grant", "does not match"),
        ({"code_verifier": "short"}, "invalid_grant", "malformed"),
        ({"redirect_uri": "http://127.0.0.1:9999/callback"}, "invalid_grant", "redirect_uri differs"),
        ({"redirect_uri": ""}, "invalid_request", "redirect_uri is required"),
        ({"code": "code_bogus"}, "invalid_grant", "unknown authorization code"),
        ({"code": ""}, "invalid_request", "code"),
        ({"resource": "https://nowhere.example"}, "invalid_target", "not a registered API"),
    ],
)
def test_token_request_refusals(
    mockidp: MockIdP, http: requests.Session, extra: dict[str, str], error: str, fragment: str
) -> None:
    got = authorize(mockidp, http)
    token_error(redeem(mockidp, http, got, **extra), error, fragment)


def test_verifier_without_challenge_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(**{**CONFIDENTIAL, "client_id": "nopkce", "require_pkce": False})
    params = authorize_params(
        "", client_id="nopkce", redirect_uri="https://app.example/cb", scope="openid demo-api:read"
    )
    params.pop("code_challenge_method")
    code = query_of(
        http.get(mockidp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
    )["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example/cb",
        "code_verifier": "v" * 43,
    }
    token_error(http.post(mockidp.token_endpoint, data=data, auth=("nopkce", "web-secret")), "invalid_grant")


def test_code_is_bound_to_the_client(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(client_id="other-app", redirect_uris=[CALLBACK])
    got = authorize(mockidp, http)
    token_error(redeem(mockidp, http, got, client_id="other-app"), "invalid_grant", "another client")


def test_confidential_client_must_authenticate(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_client(**CONFIDENTIAL)
    verifier, challenge = pkce()
    params = authorize_params(
        challenge, client_id="web", redirect_uri="https://app.example/cb", scope="openid"
    )
    code = query_of(
        http.get(mockidp.url("authorize"), params=params, allow_redirects=False).headers["Location"]
    )["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example/cb",
        "code_verifier": verifier,
    }
    token_error(http.post(mockidp.token_endpoint, data={**data, "client_id": "web"}), "invalid_client")
    r = http.post(mockidp.token_endpoint, data=data, auth=("web", "web-secret"))
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["id_token"])["aud"] == "web"


def test_public_client_sending_a_secret_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http)
    token_error(redeem(mockidp, http, got, client_secret="guess"), "invalid_client")


def test_reset_forgets_codes(mockidp: MockIdP, http: requests.Session) -> None:
    got = authorize(mockidp, http)
    mockidp.reset()
    token_error(redeem(mockidp, http, got), "invalid_grant")


def test_discovery_advertises_the_user_flows(mockidp: MockIdP, http: requests.Session) -> None:
    meta = http.get(mockidp.metadata_url).json()
    assert meta["authorization_endpoint"] == mockidp.url("authorize")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["response_modes_supported"] == ["query"]
    for name in ("userinfo", "introspection", "revocation", "end_session"):
        assert meta[f"{name}_endpoint"].startswith(mockidp.issuer)
    assert {"authorization_code", "refresh_token"} <= set(meta["grant_types_supported"])
    assert "email" in meta["claims_supported"]
    assert "client_secret_basic" in meta["introspection_endpoint_auth_methods_supported"]


def test_replay_without_the_verifier_does_not_revoke(mockidp: MockIdP, http: requests.Session) -> None:
    """Only a second *valid* redemption revokes (RFC 9700 4.1.1, ASVS 10.4.2): someone holding a
    leaked code but not the PKCE verifier must not be able to kill the user's tokens."""
    got = authorize(mockidp, http)
    first = redeem(mockidp, http, got).json()
    token_error(redeem(mockidp, http, got, code_verifier="x" * 43), "invalid_grant", "does not match")
    token_error(redeem(mockidp, http, got, code_verifier=""), "invalid_grant", "code_verifier")
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert http.get(mockidp.url("userinfo"), headers=bearer).status_code == 200
    token_error(redeem(mockidp, http, got), "invalid_grant", "already used")
    assert http.get(mockidp.url("userinfo"), headers=bearer).status_code == 401


def test_a_refused_redemption_does_not_burn_the_code(mockidp: MockIdP, http: requests.Session) -> None:
    """A request refused for its parameters issued nothing, so the client may correct it."""
    got = authorize(mockidp, http)
    token_error(redeem(mockidp, http, got, resource="https://nowhere.example"), "invalid_target")
    token_error(redeem(mockidp, http, got, code_verifier="x" * 43), "invalid_grant", "does not match")
    assert redeem(mockidp, http, got).status_code == 200


def test_claims_supported_names_only_claims_an_id_token_carries(
    mockidp: MockIdP, http: requests.Session
) -> None:
    """Every protocol claim advertised in ``claims_supported`` is really issued."""
    from mockidp.claims import STANDARD_CLAIMS

    advertised = set(http.get(mockidp.metadata_url).json()["claims_supported"]) - STANDARD_CLAIMS
    id_token = claims_of(redeem(mockidp, http, authorize(mockidp, http)).json()["id_token"])
    assert advertised <= set(id_token), advertised - set(id_token)
