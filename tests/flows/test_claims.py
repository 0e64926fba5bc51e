"""Custom claims in access tokens from the real flows: config per API/client/user, templates,
planned claims (library, marker, YAML, control API), the ``claims`` request parameter."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from userflow import APP, authorize, claims_of, redeem, refresh, tokens

from mockidp import ConfigError, IdPConfig, MockIdP, MockIdPError, load_config

AGENT_AUTH = ("demo-agent", "demo-agent-secret")


def cc_token(idp: MockIdP, http: requests.Session, **data: str) -> dict[str, object]:
    r = http.post(idp.token_endpoint, data={"grant_type": "client_credentials", **data}, auth=AGENT_AUTH)
    assert r.status_code == 200, r.text
    return claims_of(r.json()["access_token"])


def with_claims(idp: MockIdP, section: str, key: str, claims: dict[str, object]) -> None:
    """Re-register one client/user/API of the demo config with ``access_token_claims``."""
    registries: dict[str, dict[str, Any]] = {"clients": idp.clients, "users": idp.users, "apis": idp.apis}
    current = registries[section][key]
    fields = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
    fields["access_token_claims"] = claims
    adders: dict[str, Callable[..., object]] = {
        "clients": idp.add_client,
        "users": idp.add_user,
        "apis": idp.add_api,
    }
    adders[section](**fields)


def test_api_client_and_user_claims_merge_later_wins(mockidp: MockIdP, http: requests.Session) -> None:
    with_claims(mockidp, "apis", "demo-api", {"tenant": "api", "api_only": True, "aud_copy": "${resource}"})
    with_claims(mockidp, "clients", APP, {"tenant": "client", "who": "${client_id}/${sub}", "s": "${scope}"})
    with_claims(mockidp, "users", "alice", {"tenant": "user", "name_copy": "${user.claims.name}"})
    claims = claims_of(tokens(mockidp, http, scope="openid demo-api:read")["access_token"])
    assert claims["tenant"] == "user"
    assert claims["api_only"] is True
    assert claims["aud_copy"] == "demo-api"
    assert claims["who"] == "demo-app/alice"
    assert claims["s"] == "openid demo-api:read"
    assert claims["name_copy"] == "Alice Example"
    # the registered claims stay the IdP's own
    assert claims["sub"] == "alice" and claims["client_id"] == APP


def test_user_claim_template_copies_lists_and_skips_missing(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.add_user(
        sub="alice",
        claims={"groups": ["g1", "g2"]},
        access_token_claims={
            "groups": "${user.claims.groups}",
            "team": "${user.claims.team}",
            "t": "x-$${y}",
        },
    )
    claims = claims_of(tokens(mockidp, http, scope="openid demo-api:read")["access_token"])
    assert claims["groups"] == ["g1", "g2"]
    assert "team" not in claims  # the user has no such claim
    assert claims["t"] == "x-${y}"  # $$ is a literal $


def test_client_credentials_has_no_user_claims(mockidp: MockIdP, http: requests.Session) -> None:
    with_claims(mockidp, "clients", "demo-agent", {"roles": ["svc"], "copy": "${user.claims.roles}"})
    claims = cc_token(mockidp, http)
    assert claims["roles"] == ["svc"] and "copy" not in claims


def test_user_claims_stay_out_of_access_tokens(mockidp: MockIdP, http: requests.Session) -> None:
    claims = claims_of(tokens(mockidp, http, scope="openid email demo-api:read")["access_token"])
    assert "email" not in claims and "name" not in claims


def test_plan_claims_applies_n_times_per_client_and_resets(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.plan_claims({"roles": ["admin"]}, times=2, client_id="demo-agent")
    mockidp.plan_claims({"roles": ["other"]}, client_id="nobody")
    assert cc_token(mockidp, http)["roles"] == ["admin"]
    assert cc_token(mockidp, http)["roles"] == ["admin"]
    assert "roles" not in cc_token(mockidp, http)
    assert [p.client_id for p in mockidp.planned_claims] == ["nobody"]
    mockidp.reset()
    assert mockidp.planned_claims == []


def test_plans_are_listed_in_the_journal(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.plan_claims({"tenant": "t1"})
    cc_token(mockidp, http)
    cc_token(mockidp, http)
    token_requests = [r for r in mockidp.requests if r.endpoint == "token"]
    assert [r.token_claims for r in token_requests] == [{"tenant": "t1"}, None]


def test_plan_claims_refuses_registered_claims(mockidp: MockIdP) -> None:
    for name in ("iss", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "sub", "cnf", "act"):
        with pytest.raises(MockIdPError, match=f"'{name}' is a registered claim"):
            mockidp.plan_claims({name: "x"})
    with pytest.raises(MockIdPError, match="unknown placeholder"):
        mockidp.plan_claims({"x": "${client}"})


def test_planned_claims_win_over_config_and_are_templates(mockidp: MockIdP, http: requests.Session) -> None:
    with_claims(mockidp, "clients", APP, {"roles": ["reader"]})
    mockidp.plan_claims({"roles": ["admin"], "by": "${sub}"}, client_id=APP)
    claims = claims_of(tokens(mockidp, http, scope="openid demo-api:read")["access_token"])
    assert claims["roles"] == ["admin"] and claims["by"] == "alice"


@pytest.mark.mockidp(token_claims=[{"claims": {"roles": ["marker"]}, "client_id": "demo-agent"}])
def test_marker_token_claims_apply_to_every_token_and_survive_reset(
    mockidp: MockIdP, http: requests.Session
) -> None:
    assert cc_token(mockidp, http)["roles"] == ["marker"]
    mockidp.reset()
    assert cc_token(mockidp, http)["roles"] == ["marker"]


def test_control_api_plans_claims(mockidp: MockIdP, http: requests.Session) -> None:
    control = mockidp.url("_mockidp/token-claims")
    r = http.post(control, json={"claims": {"roles": ["ops"]}, "times": 1, "client_id": "demo-agent"})
    assert r.status_code == 201, r.text
    assert r.json() == {
        "token_claims": [{"claims": {"roles": ["ops"]}, "client_id": "demo-agent", "times": 1}]
    }
    assert cc_token(mockidp, http)["roles"] == ["ops"]
    assert http.get(control).json() == {"token_claims": []}
    http.post(control, json={"claims": {"x": 1}, "times": None})
    assert http.delete(control).json() == {"token_claims": []}
    assert "x" not in cc_token(mockidp, http)
    journal = http.get(mockidp.url("_mockidp/journal")).json()["requests"]
    assert [r["token_claims"] for r in journal if r["endpoint"] == "token"] == [{"roles": ["ops"]}, None]


@pytest.mark.parametrize(
    ("body", "key_path"),
    [
        ({"claims": {"iss": "evil"}}, "claims.iss"),
        ({"claims": {"roles": ["a"], "sub": "x"}}, "claims.sub"),
        ({"claims": {"t": "${nope}"}}, "claims.t"),
        ({"claims": {}}, "claims"),
        ({"times": 2}, "claims"),
        ([{"claims": {"a": 1}}, {"client_id": "x"}], "[1].claims"),
        ({"claims": {"a": 1}, "times": 0}, "times"),
        ({"claims": {"a": 1}, "extra": 1}, "extra"),
        ([{"claims": {"a": 1}}, {"claims": {"cnf": {}}}], "[1].claims.cnf"),
    ],
)
def test_control_api_refuses_bad_plans_naming_the_key(
    mockidp: MockIdP, http: requests.Session, body: object, key_path: str
) -> None:
    r = http.post(mockidp.url("_mockidp/token-claims"), json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request" and r.json()["key_path"] == key_path
    assert mockidp.planned_claims == []  # all or nothing


OVERRIDE = """\
clients:
  - client_id: agent
    client_secret: s
    access_token_claims:
      roles: [admin]
      scope: everything
"""


def test_overriding_a_registered_claim_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "idp.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.file, error.line, error.key_path) == (str(path), 6, "clients[0].access_token_claims.scope")
    assert f"{path}:6 at 'clients[0].access_token_claims.scope'" in str(error)


@pytest.mark.parametrize(
    ("data", "key_path"),
    [
        (
            {"apis": [{"audience": "a", "access_token_claims": {"aud": "b"}}]},
            "apis[0].access_token_claims.aud",
        ),
        ({"users": [{"sub": "u", "access_token_claims": {"act": {}}}]}, "users[0].access_token_claims.act"),
        ({"token_claims": [{"claims": {"jti": "1"}}]}, "token_claims[0].claims.jti"),
        ({"token_claims": [{"claims": {"a": ["${resourc}"]}}]}, "token_claims[0].claims.a[0]"),
        ({"acr_levels": ["pwd", "pwd"]}, "acr_levels[1]"),
        ({"acr_levels": ["two words"]}, "acr_levels[0]"),
    ],
)
def test_claims_config_errors_name_the_key(data: dict[str, object], key_path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        IdPConfig.from_dict(data)
    assert caught.value.key_path == key_path


# --- the OIDC claims request parameter (Core 5.5) -------------------------------------------------


def test_claims_parameter_releases_named_claims_to_id_token_and_userinfo(
    mockidp: MockIdP, http: requests.Session
) -> None:
    requested = '{"id_token": {"email": {"essential": true}}, "userinfo": {"name": null, "nope": null}}'
    body = tokens(mockidp, http, scope="openid demo-api:read", claims=requested)
    id_claims = claims_of(body["id_token"])
    assert id_claims["email"] == "alice@example.com" and "name" not in id_claims
    info = http.get(
        mockidp.url("userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert info == {"sub": "alice", "name": "Alice Example"}


def test_claims_parameter_holds_for_refreshed_id_tokens(mockidp: MockIdP, http: requests.Session) -> None:
    requested = '{"id_token": {"email": null}}'
    body = tokens(mockidp, http, scope="openid offline_access demo-api:read", claims=requested)
    assert claims_of(body["id_token"])["email"] == "alice@example.com"
    r = refresh(mockidp, http, body["refresh_token"])
    assert r.status_code == 200, r.text
    refreshed = r.json()
    assert claims_of(refreshed["id_token"])["email"] == "alice@example.com"
    again = refresh(mockidp, http, refreshed["refresh_token"]).json()  # and the rotated token
    assert claims_of(again["id_token"])["email"] == "alice@example.com"


def test_without_claims_parameter_scope_decides(mockidp: MockIdP, http: requests.Session) -> None:
    body = tokens(mockidp, http, scope="openid demo-api:read")
    assert "email" not in claims_of(body["id_token"])


@pytest.mark.parametrize("value", ["not json", "[]", '{"id_token": []}', '{"userinfo": {"a": 1}}'])
def test_malformed_claims_parameter_is_invalid_request(
    mockidp: MockIdP, http: requests.Session, value: str
) -> None:
    r = http.get(
        mockidp.url("authorize"),
        params={
            "response_type": "code",
            "client_id": APP,
            "redirect_uri": "http://127.0.0.1:8765/callback",
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "claims": value,
        },
        allow_redirects=False,
    )
    assert r.status_code == 302 and "error=invalid_request" in r.headers["Location"]


def test_metadata_advertises_claims_parameter(mockidp: MockIdP, http: requests.Session) -> None:
    meta = http.get(mockidp.metadata_url).json()
    assert meta["claims_parameter_supported"] is True
    assert "acr_values_supported" not in meta and "acr" not in meta["claims_supported"]


def test_minting_applies_config_claims_but_not_plans(mockidp: MockIdP, http: requests.Session) -> None:
    with_claims(mockidp, "clients", "demo-agent", {"roles": ["svc"]})
    mockidp.plan_claims({"planned": True})
    claims = claims_of(mockidp.issue_token(client_id="demo-agent", claims={"extra": 1}))
    assert claims["roles"] == ["svc"] and claims["extra"] == 1 and "planned" not in claims
    assert len(mockidp.planned_claims) == 1


def test_code_redeemed_for_refresh_keeps_custom_claims(mockidp: MockIdP, http: requests.Session) -> None:
    with_claims(mockidp, "users", "alice", {"roles": ["r"]})
    got = authorize(mockidp, http)
    body = redeem(mockidp, http, got).json()
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": APP},
    )
    assert claims_of(r.json()["access_token"])["roles"] == ["r"]
