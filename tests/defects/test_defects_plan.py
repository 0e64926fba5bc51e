"""Planned defects: the token endpoint breaks its next tokens on purpose (library, YAML, marker)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from reference_validator import AccessPolicy, validate_access_token, validate_id_token
from userflow import APP, claims_of, header_of, tokens

from mockidp import ConfigError, MockIdP, MockIdPError, load_config

AGENT = ("demo-agent", "demo-agent-secret")


def client_credentials(idp: MockIdP, http: requests.Session) -> str:
    r = http.post(idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def verdict(idp: MockIdP, http: requests.Session, token: str) -> str | None:
    policy = AccessPolicy(issuer=idp.issuer, audience="demo-api", jwks=http.get(idp.jwks_uri).json())
    return validate_access_token(token, policy).reason


def test_plan_breaks_the_next_access_token_once(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.plan_defects(["expired"], client_id="demo-agent")
    assert verdict(mockidp, http, client_credentials(mockidp, http)) == "exp"
    assert verdict(mockidp, http, client_credentials(mockidp, http)) is None


def test_plan_times_and_always(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.plan_defects(["aud-wrong"], times=2)
    reasons = [verdict(mockidp, http, client_credentials(mockidp, http)) for _ in range(3)]
    assert reasons == ["aud", "aud", None]
    mockidp.plan_defects(["alg-none"], times=None)
    reasons = [verdict(mockidp, http, client_credentials(mockidp, http)) for _ in range(3)]
    assert reasons == ["alg"] * 3
    mockidp.reset()
    assert verdict(mockidp, http, client_credentials(mockidp, http)) is None


def test_plan_for_another_client_leaves_this_one_alone(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.plan_defects(["expired"], client_id="someone-else")
    assert verdict(mockidp, http, client_credentials(mockidp, http)) is None
    assert mockidp.state.defect_plan.pending[0].times == 1


def test_plan_checks_names_and_kinds(mockidp: MockIdP) -> None:
    with pytest.raises(MockIdPError, match="unknown defect"):
        mockidp.plan_defects(["nope"])
    with pytest.raises(MockIdPError, match="does not apply to id tokens"):
        mockidp.plan_defects(["scope-array"], token="id")
    with pytest.raises(MockIdPError, match="times"):
        mockidp.plan_defects(["expired"], times=0)


@pytest.mark.parametrize(
    ("defect", "reason"),
    [
        ("signature-unknown-key", "signature"),
        ("iss-wrong", "iss"),
        ("aud-wrong", "aud"),
        ("sub-missing", "missing-claim"),
        ("iat-missing", "missing-claim"),
        ("nonce-wrong", "nonce"),
        ("at-hash-wrong", "at-hash"),
        ("expired", "exp"),
        ("kid-absent-several-keys", "kid"),
    ],
)
def test_openid_rp_list_through_the_code_flow(
    mockidp: MockIdP, http: requests.Session, defect: str, reason: str
) -> None:
    """The OpenID RP conformance ID-token defects, from the real token endpoint."""
    mockidp.plan_defects([defect], token="id", client_id=APP)
    body = tokens(mockidp, http)
    jwks = http.get(mockidp.jwks_uri).json()
    result = validate_id_token(
        body["id_token"],
        issuer=mockidp.issuer,
        client_id=APP,
        jwks=jwks,
        nonce="n-456",
        access_token=body["access_token"],
    )
    assert (result.ok, result.reason) == (False, reason)
    assert header_of(body["access_token"])["typ"] == "at+jwt"  # the access token is untouched
    again = tokens(mockidp, http)
    jwks = http.get(mockidp.jwks_uri).json()
    assert validate_id_token(again["id_token"], issuer=mockidp.issuer, client_id=APP, jwks=jwks).ok


@pytest.mark.mockidp(token_defects=[{"defects": ["typ-jwt"], "client_id": "demo-agent"}])
def test_marker_plans_every_token_and_survives_reset(mockidp: MockIdP, http: requests.Session) -> None:
    for _ in range(2):
        assert header_of(client_credentials(mockidp, http))["typ"] == "JWT"
    mockidp.reset()
    assert header_of(client_credentials(mockidp, http))["typ"] == "JWT"


def test_yaml_config_plans_id_token_defects(tmp_path: Path, http: requests.Session) -> None:
    import mockidp

    path = tmp_path / "idp.yaml"
    demo = Path(mockidp.__file__).with_name("demo.yaml").read_text("utf-8")
    plan = (
        "token_defects:\n  - defects: [nonce-wrong]\n    token: id\n    client_id: demo-app\n    times: 1\n"
    )
    path.write_text(demo + plan)
    assert load_config(path).token_defects[0].client_id == APP
    with MockIdP(path) as idp:
        assert claims_of(tokens(idp, http)["id_token"])["nonce"] == "n-456-wrong"
        assert claims_of(tokens(idp, http)["id_token"])["nonce"] == "n-456"


def test_yaml_config_names_a_bad_defect(tmp_path: Path) -> None:
    path = tmp_path / "idp.yaml"
    path.write_text("token_defects:\n  - defects: [expired, nonce-wrong]\n")
    config = load_config(path)  # the config model knows the form; the catalog is checked at build
    with pytest.raises(ConfigError) as info:
        MockIdP(path)
    assert info.value.key_path == "token_defects[0].defects" and info.value.line == 2
    assert info.value.file == str(path)
    with pytest.raises(ConfigError, match="does not apply to access tokens") as again:
        MockIdP(config.merged({"access_token_ttl": 60}))  # kept keys keep their lines
    assert (again.value.file, again.value.line) == (str(path), 2)
    assert "does not apply to access tokens" in str(info.value)


def test_a_plan_that_cannot_apply_fails_the_test_in_plain_words(http: requests.Session) -> None:
    idp = MockIdP().start()
    try:
        idp.add_client(client_id="no-scopes", client_secret="s", audiences=[], scopes=[])
        idp.plan_defects(["scope-insufficient"], client_id="no-scopes")
        r = http.post(idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("no-scopes", "s"))
        assert r.status_code == 500
        assert r.json()["error"] == "server_error"
        assert "cannot do what this test set it up to do" in r.json()["error_description"]
    finally:
        idp.stop()
    with pytest.raises(MockIdPError, match="needs the scope"):
        idp.raise_server_errors()
