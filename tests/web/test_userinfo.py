"""UserInfo: bearer in header or form body (never both, never the query), claims by scope."""

from __future__ import annotations

import pytest
import requests
from userflow import CALLBACK, claims_of, tokens

from mockidp import MockIdP
from mockidp.demo import DEMO_PATH


def test_get_with_header_returns_scoped_claims(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http, scope="openid email")
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert r.json() == {"sub": "alice", "email": "alice@example.com", "email_verified": True}


def test_post_with_form_body_and_lowercase_scheme(mockidp: MockIdP, http: requests.Session) -> None:
    token = tokens(mockidp, http)["access_token"]
    r = http.post(mockidp.url("userinfo"), data={"access_token": token})
    assert r.status_code == 200
    assert r.json()["name"] == "Alice Example"
    r = http.post(mockidp.url("userinfo"), headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200


def test_generated_users_have_profile_address_and_phone(http: requests.Session) -> None:
    config = {
        "clients": [
            {
                "client_id": "app",
                "redirect_uris": ["http://127.0.0.1:8765/callback"],
                "scopes": ["openid", "profile", "email", "address", "phone"],
            }
        ]
    }
    with MockIdP(config) as idp:
        body = tokens(idp, http, client_id="app", scope="openid profile address phone")
        r = http.get(idp.url("userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"})
        claims = r.json()
        assert {"name", "given_name", "birthdate", "address", "phone_number"} <= set(claims)
        assert "email" not in claims
        assert claims["sub"] == next(iter(idp.users))


def test_no_token_gets_a_bare_challenge(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.get(mockidp.url("userinfo"))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="mockidp"'


def test_query_token_is_ignored(mockidp: MockIdP, http: requests.Session) -> None:
    token = tokens(mockidp, http)["access_token"]
    r = http.get(mockidp.url("userinfo"), params={"access_token": token})
    assert r.status_code == 401
    assert "error=" not in r.headers["WWW-Authenticate"]


def test_other_scheme_is_no_token(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": "Basic YTpi"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="mockidp"'


def test_header_and_body_together_is_invalid_request(mockidp: MockIdP, http: requests.Session) -> None:
    token = tokens(mockidp, http)["access_token"]
    r = http.post(
        mockidp.url("userinfo"), data={"access_token": token}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in r.headers["WWW-Authenticate"]


def _tamper(token: str) -> str:
    head, payload, sig = token.split(".")
    return f"{head}.{payload}.{sig[:-4]}AAAA"


@pytest.mark.parametrize(
    "make",
    [
        lambda t, idp: _tamper(t),
        lambda t, idp: "not-a-jwt",
        lambda t, idp: "a.b.c",
        lambda t, idp: t.split(".")[0] + "." + t.split(".")[1] + ".",
    ],
    ids=["bad-signature", "garbage", "three-junk-segments", "no-signature"],
)
def test_bad_tokens_get_invalid_token(mockidp: MockIdP, http: requests.Session, make) -> None:  # type: ignore[no-untyped-def]
    token = make(tokens(mockidp, http)["access_token"], mockidp)
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="mockidp", error="invalid_token"')
    assert r.json()["error"] == "invalid_token"


def test_expired_token(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze()
    token = tokens(mockidp, http)["access_token"]
    mockidp.clock.advance(301)
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "expired" in r.headers["WWW-Authenticate"]


def test_id_token_is_not_an_access_token(mockidp: MockIdP, http: requests.Session) -> None:
    id_token = tokens(mockidp, http)["id_token"]
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {id_token}"})
    assert r.status_code == 401
    assert "at+jwt" in r.json()["error_description"]


def test_token_from_another_idp_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    with MockIdP(DEMO_PATH) as other:
        token = tokens(other, http)["access_token"]
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_token_without_openid_scope_is_not_for_userinfo(mockidp: MockIdP, http: requests.Session) -> None:
    """Without openid the token is only for the API: its audience does not name the IdP."""
    token = tokens(mockidp, http, scope="demo-api:read", nonce="")["access_token"]
    assert claims_of(token)["aud"] == "demo-api"
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_token_for_the_idp_without_openid_scope_is_insufficient(
    mockidp: MockIdP, http: requests.Session
) -> None:
    mockidp.add_client(client_id="plain-app", redirect_uris=[CALLBACK])  # no API: aud is the issuer
    token = tokens(mockidp, http, client_id="plain-app", scope="profile", nonce="")["access_token"]
    assert claims_of(token)["aud"] == mockidp.issuer
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert 'scope="openid"' in r.headers["WWW-Authenticate"]


def test_code_flow_token_names_the_api_and_the_issuer(mockidp: MockIdP, http: requests.Session) -> None:
    token = tokens(mockidp, http, scope="openid demo-api:read")["access_token"]
    assert claims_of(token)["aud"] == ["demo-api", mockidp.issuer]
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def test_client_credentials_token_is_not_a_user(mockidp: MockIdP, http: requests.Session) -> None:
    """The audit's probe: a machine client whose client_id is a user's sub asks for openid."""
    mockidp.add_client(
        client_id="alice", client_secret="s", grant_types=["client_credentials"], scopes=["openid"]
    )
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "scope": "openid"},
        auth=("alice", "s"),
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert claims_of(token)["sub"] == "alice" and claims_of(token)["aud"] == mockidp.issuer
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="mockidp", error="invalid_token"')
    assert "not a user" in r.json()["error_description"]
    assert "name" not in r.json()


def test_minted_token_without_subject_is_the_clients_own(mockidp: MockIdP, http: requests.Session) -> None:
    token = mockidp.issue_token(client_id="demo-app", scope="openid", claims={"aud": mockidp.issuer})
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "not a user" in r.json()["error_description"]


def test_userinfo_url_is_an_accepted_audience(mockidp: MockIdP, http: requests.Session) -> None:
    token = mockidp.issue_token(
        client_id="demo-app", subject="alice", scope="openid", claims={"aud": mockidp.url("userinfo")}
    )
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == "alice"


USERINFO_DEFECTS = ["aud-wrong", "aud-missing", "iat-missing", "payload-utf16"]


@pytest.mark.parametrize("defect", USERINFO_DEFECTS)
def test_catalog_defects_are_refused_at_userinfo(
    mockidp: MockIdP, http: requests.Session, defect: str
) -> None:
    """A code-flow token broken by the token endpoint (a planned defect) gets 401 invalid_token."""
    mockidp.add_api(audience="other-api", scopes=["other:read"])  # aud-wrong: token passthrough
    mockidp.plan_defects([defect], client_id="demo-app")
    token = tokens(mockidp, http, scope="openid demo-api:read")["access_token"]
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="mockidp", error="invalid_token"')
    assert "error_description=" in r.headers["WWW-Authenticate"]


@pytest.mark.parametrize("defect", USERINFO_DEFECTS)
def test_minted_defective_user_tokens_are_refused(
    mockidp: MockIdP, http: requests.Session, defect: str
) -> None:
    good = mockidp.issue_token(client_id="demo-app", subject="alice", scope="openid")
    assert http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {good}"}).status_code == 200
    bad = mockidp.issue_token(client_id="demo-app", subject="alice", scope="openid", defects=[defect])
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {bad}"})
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_revoked_token_is_refused(mockidp: MockIdP, http: requests.Session) -> None:
    token = tokens(mockidp, http)["access_token"]
    r = http.post(mockidp.url("revoke"), data={"token": token, "client_id": "demo-app"})
    assert r.status_code == 200
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "revoked" in r.json()["error_description"]
