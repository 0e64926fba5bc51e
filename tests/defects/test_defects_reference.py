"""Every catalog entry is broken in exactly its stated way, and only that way.

For each defect the strict reference validator (``tests/reference_validator.py``, PyJWT plus
manual checks, independent of the minting code) must reject the token for the defect's own
reason with the catalog's status and error, and must accept the same token minted without it.
JWKS and revocation come from the running IdP over HTTP (JWKS endpoint, introspection).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests
from reference_validator import AccessPolicy, validate_access_token, validate_id_jag, validate_id_token

from mockidp import MockIdP
from mockidp.defects import defect_names, get_defect
from mockidp.defects.catalog import DELEGATION_POLICIES
from mockidp.defects.delegation import DEEP_CHAIN
from mockidp.defects.plan import DefectSource
from mockidp.demo import demo_config
from mockidp.id_jag import id_jag_claims
from mockidp.issuance import issue_id_jag, issue_id_token

AUD = "demo-api"
SCOPE = "demo-api:read"
AGENT = ("demo-agent", "demo-agent-secret")
NONCE = "n-reference"
ACCESS_TOKEN = "an-access-token-issued-alongside"
LEVELS = ("pwd", "mfa", "hwk")
#: every defect is proven against each key type the IdP can sign with
SIGNING_ALGS = ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"]


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as s:
        yield s


def idp_for(name: str, default: MockIdP, stack: ExitStack, alg: str = "RS256") -> MockIdP:
    """An IdP signing with ``alg``, or with the algorithm the defect is meaningful for."""
    alg = get_defect(name).requires_alg or alg
    if alg == default.signing_key.alg:
        return default
    return stack.enter_context(MockIdP(demo_config(), signing_alg=alg))


def delegation_policy(name: str) -> dict[str, object]:
    """The API policy a delegation entry is judged under (``check-api --delegation``)."""
    if name in DELEGATION_POLICIES["none"]:
        return {"allow_delegation": False}
    if name in DELEGATION_POLICIES["max-depth"]:
        return {"max_act_depth": DEEP_CHAIN - 1}
    return {}


def policy(idp: MockIdP, http: requests.Session, name: str = "") -> AccessPolicy:
    jwks = http.get(idp.jwks_uri).json()

    def is_active(token: str, claims: dict[str, object]) -> bool:
        r = http.post(idp.url("introspect"), data={"token": token}, auth=AGENT)
        assert r.status_code == 200, r.text
        return bool(r.json()["active"])

    return AccessPolicy(
        issuer=idp.issuer,
        audience=AUD,
        jwks=jwks,
        required_scope=(SCOPE,),
        is_active=is_active,
        acr_levels=LEVELS,
        required_acr="mfa",
        max_age=3600,
        **delegation_policy(name),  # type: ignore[arg-type]
    )


def step_up_claims(idp: MockIdP) -> dict[str, object]:
    """What the policy's API needs beyond RFC 9068: an mfa sign-in within the hour, roles."""
    return {"acr": "mfa", "amr": ["pwd", "mfa"], "auth_time": int(idp.clock.now()) - 60, "roles": ["reader"]}


@pytest.mark.parametrize("alg", SIGNING_ALGS)
@pytest.mark.parametrize("name", defect_names("access"))
def test_access_token_defect_rejected_for_its_reason(
    name: str, alg: str, mockidp: MockIdP, http: requests.Session, stack: ExitStack
) -> None:
    defect = get_defect(name)
    idp = idp_for(name, mockidp, stack, alg)
    extra = step_up_claims(idp)
    bad = idp.issue_token(audience=AUD, scope=SCOPE, claims=extra, defects=[name])
    good = idp.issue_token(audience=AUD, scope=SCOPE, claims=extra)
    rules = policy(idp, http, name)
    verdict = validate_access_token(bad, rules)
    if defect.positive:  # a positive control: the strict validator accepts it
        assert verdict.ok, verdict
        return
    assert (verdict.reason, verdict.status, verdict.error) == (
        defect.check,
        defect.expected_status,
        defect.expected_error,
    ), verdict.detail
    accepted = validate_access_token(good, rules)
    assert accepted.ok, accepted


def id_token(idp: MockIdP, defects: list[str]) -> str:
    return issue_id_token(
        idp.state,
        client_id="demo-app",
        user=idp.users["alice"],
        nonce=NONCE,
        auth_time=idp.clock.now(),
        access_token=ACCESS_TOKEN,
        scopes=["openid", "profile"],
        defects=DefectSource.exactly(defects),
    )


@pytest.mark.parametrize("alg", SIGNING_ALGS)
@pytest.mark.parametrize("name", defect_names("id"))
def test_id_token_defect_rejected_for_its_reason(
    name: str, alg: str, mockidp: MockIdP, http: requests.Session, stack: ExitStack
) -> None:
    idp = idp_for(name, mockidp, stack, alg)
    bad, good = id_token(idp, [name]), id_token(idp, [])

    def check(token: str) -> tuple[bool, str | None]:
        jwks = http.get(idp.jwks_uri).json()
        verdict = validate_id_token(
            token,
            issuer=idp.issuer,
            client_id="demo-app",
            jwks=jwks,
            nonce=NONCE,
            access_token=ACCESS_TOKEN,
        )
        return verdict.ok, verdict.reason

    assert check(bad) == (False, get_defect(name).check)
    assert check(good) == (True, None)


AS_ISSUER = "https://mcp-as.example"
RESOURCE = "https://mcp.example/mcp"


def id_jag(idp: MockIdP, defects: list[str]) -> str:
    claims = id_jag_claims(
        issuer=idp.issuer,
        subject="alice",
        audience=AS_ISSUER,
        client_id="demo-agent",
        resources=[RESOURCE],
        scope=["mcp:read"],
        now=idp.clock.now(),
    )
    return issue_id_jag(idp.state, claims, defects=DefectSource.exactly(defects))


@pytest.mark.parametrize("alg", SIGNING_ALGS)
@pytest.mark.parametrize("name", defect_names("id-jag"))
def test_id_jag_defect_refused_for_its_reason(
    name: str, alg: str, mockidp: MockIdP, http: requests.Session, stack: ExitStack
) -> None:
    defect = get_defect(name)
    idp = idp_for(name, mockidp, stack, alg)
    trusted = {idp.issuer: http.get(idp.jwks_uri).json()}

    def check(token: str) -> tuple[bool, str | None, int, str | None]:
        verdict = validate_id_jag(
            token, trusted=trusted, issuer=AS_ISSUER, client_id="demo-agent", resource=RESOURCE
        )
        return verdict.ok, verdict.reason, verdict.status, verdict.error

    assert check(id_jag(idp, [name])) == (False, defect.check, defect.expected_status, defect.expected_error)
    assert check(id_jag(idp, [])) == (True, None, 200, None)
