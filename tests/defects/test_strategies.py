"""Hypothesis strategies: valid tokens validate, drawn defects are refused, failures shrink small."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from reference_validator import AccessPolicy, validate_access_token
from userflow import claims_of

from mockidp import ClientConfig, IdPConfig, MockIdP, MockIdPError, UserConfig
from mockidp.defects import CATALOG, resolve_defects
from mockidp.demo import demo_config
from pytest_mockidp.strategies import (
    DrawnToken,
    bad_tokens,
    claims,
    clients,
    defect_sets,
    defects,
    tokens,
    users,
)

AUD = "demo-api"
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    with MockIdP(demo_config()) as server:
        yield server


def policy(idp: MockIdP, scope: str = "demo-api:read") -> AccessPolicy:
    with requests.Session() as http:
        http.trust_env = False
        jwks = http.get(idp.jwks_uri, timeout=5).json()
    return AccessPolicy(
        issuer=idp.issuer,
        audience=AUD,
        jwks=jwks,
        required_scope=(scope,),
        is_active=lambda token, claims: not idp.state.store.is_revoked(str(claims["jti"])),
    )


def test_valid_tokens_validate(idp: MockIdP) -> None:
    @FAST
    @given(token=tokens(idp, scopes=st.sampled_from(["demo-api:read", "demo-api:read demo-api:write"])))
    def check(token: DrawnToken) -> None:
        assert token.valid and token.expected_status == 200
        assert validate_access_token(str(token), policy(idp)).ok

    check()


def test_bad_tokens_are_refused_with_the_expected_status(idp: MockIdP) -> None:
    @FAST
    @given(token=bad_tokens(idp, audiences=st.just(AUD), scopes=st.just("demo-api:read")))
    def check(token: DrawnToken) -> None:
        verdict = validate_access_token(token.value, policy(idp))
        assert not verdict.ok
        assert (verdict.status, verdict.error) == (token.expected_status, token.expected_error)

    check()


def test_failures_shrink_to_one_simple_defect(idp: MockIdP) -> None:
    smallest = find(
        tokens(idp, defect_sets(max_size=3)),
        lambda token: not validate_access_token(token.value, policy(idp)).ok,
        settings=settings(max_examples=50, deadline=None, database=None),
    )
    assert smallest.defects == ("alg-none",)
    time_or_audience = find(
        defect_sets(defects(groups=["time", "audience"]), min_size=1),
        lambda names: True,
        settings=settings(database=None),
    )
    assert time_or_audience == ("expired",)


def test_defect_sets_only_draw_combinable_defects() -> None:
    @settings(max_examples=60, deadline=None)
    @given(names=defect_sets(max_size=4, kind="id"))
    def check(names: tuple[str, ...]) -> None:
        assert len(set(names)) == len(names)
        assert all("id" in CATALOG[n].applies_to for n in names)
        resolve_defects(names, "id")

    check()


def test_defects_filters_by_severity() -> None:
    @settings(max_examples=30)
    @given(name=defects(severities=["should"]))
    def check(name: str) -> None:
        assert CATALOG[name].severity == "should"

    check()


def test_claims_are_carried_into_tokens(idp: MockIdP) -> None:
    @FAST
    @given(extra=claims())
    def check(extra: dict[str, object]) -> None:
        token = idp.issue_token(claims=extra)
        payload = claims_of(token)
        assert {k: payload[k] for k in extra} == extra and payload["iss"] == idp.issuer

    check()


def test_clients_and_users_make_valid_configs() -> None:
    @FAST
    @given(client=clients(), user=users())
    def check(client: ClientConfig, user: UserConfig) -> None:
        config = IdPConfig(clients=(client,), users=(user,))
        assert config.clients[0].client_id == client.client_id
        assert user.login_name == user.sub and "email" in user.claims

    check()


def test_drawn_confidential_client_gets_a_token(idp: MockIdP) -> None:
    @settings(max_examples=5, deadline=None)
    @given(client=clients(secrets=st.text("abcdef0123", min_size=8, max_size=12)))
    def check(client: ClientConfig) -> None:
        idp.add_client(client)
        with requests.Session() as http:
            http.trust_env = False
            r = http.post(
                idp.token_endpoint,
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, str(client.client_secret)),
                timeout=5,
            )
        assert r.status_code == 200, r.text
        assert claims_of(r.json()["access_token"])["client_id"] == client.client_id

    check()


@pytest.mark.slow
def test_module_needs_only_hypothesis_and_says_so() -> None:
    code = "import sys; sys.modules['hypothesis'] = None\nimport pytest_mockidp.strategies"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0 and "needs Hypothesis: pip install hypothesis" in result.stderr


def test_positive_controls_drawn_alone_or_together_are_always_accepted(idp: MockIdP) -> None:
    good = defect_sets(defects(groups=["positive"]), min_size=1, max_size=4)

    @FAST
    @given(token=tokens(idp, good, audiences=st.just(AUD), scopes=st.just("demo-api:read")))
    def check(token: DrawnToken) -> None:
        assert token.valid and (token.expected_status, token.expected_error) == (200, None)
        verdict = validate_access_token(token.value, policy(idp))
        assert verdict.ok, (token.defects, verdict)

    check()


def test_a_positive_control_never_makes_a_bad_token_acceptable(idp: MockIdP) -> None:
    good = defects(groups=["positive"])
    bad = defects(severities=["must"])
    mixed = st.tuples(good, bad).map(list).filter(lambda names: _combinable(names)).map(tuple)

    @FAST
    @given(token=tokens(idp, mixed, audiences=st.just(AUD), scopes=st.just("demo-api:read")))
    def check(token: DrawnToken) -> None:
        assert not token.valid and token.expected_status in (401, 403)
        verdict = validate_access_token(token.value, policy(idp))
        assert not verdict.ok
        assert (verdict.status, verdict.error) == (token.expected_status, token.expected_error)

    check()


def _combinable(names: list[str]) -> bool:
    try:
        resolve_defects(names, "access")
    except MockIdPError:
        return False
    return True
