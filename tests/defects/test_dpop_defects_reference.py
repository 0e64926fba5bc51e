"""Every DPoP request defect is broken in exactly its stated way, and only that way.

The independent reference validator (``reference_validator_dpop``: PyJWT + cryptography, written
from RFC 9449) must refuse each defect's request for the defect's own ``check``, with 401 and one
of the defect's ``error`` codes, and must accept the valid request built from the same kit.
"""

from __future__ import annotations

import time

import pytest
import requests
from reference_validator import AccessPolicy
from reference_validator_dpop import DPoPPolicy, jwk_thumbprint, validate_dpop_request

from mockidp import MockIdP
from mockidp.defects.dpop import DPOP_CATALOG, ProofKey, ProofKit, valid_request

AUD = "demo-api"
SCOPE = "demo-api:read"
URL = "https://api.example/items"
NONCE = "api-nonce-1"


def kit_and_policy(idp: MockIdP, http: requests.Session, nonce: str | None) -> tuple[ProofKit, DPoPPolicy]:
    key = ProofKey()
    assert jwk_thumbprint(key.jwk) == key.jkt  # RFC 7638, computed independently
    token = idp.issue_token(audience=AUD, scope=SCOPE, claims={"cnf": {"jkt": key.jkt}})
    access = AccessPolicy(
        issuer=idp.issuer, audience=AUD, jwks=http.get(idp.jwks_uri).json(), required_scope=(SCOPE,)
    )
    kit = ProofKit(key=key, token=token, method="GET", url=URL, now=int(time.time()), nonce=nonce)
    return kit, DPoPPolicy(access=access, now=time.time, nonce=nonce)


@pytest.mark.parametrize("name", list(DPOP_CATALOG))
def test_dpop_defect_refused_for_its_reason(name: str, mockidp: MockIdP, http: requests.Session) -> None:
    defect = DPOP_CATALOG[name]
    kit, policy = kit_and_policy(mockidp, http, NONCE if defect.needs_nonce else None)
    request = defect.build(kit)
    authorization = f"{request.scheme} {request.token}"
    if request.replay:  # the first sending is a valid request, accepted
        first = validate_dpop_request(kit.method, kit.url, authorization, list(request.proofs), policy)
        assert first.ok, first
    verdict = validate_dpop_request(kit.method, kit.url, authorization, list(request.proofs), policy)
    assert not verdict.ok
    assert verdict.reason == defect.check
    assert verdict.status == defect.expected_status
    assert verdict.error in defect.expected_errors
    # the same kit without the defect is accepted
    kit_ok, policy_ok = kit_and_policy(mockidp, http, NONCE if defect.needs_nonce else None)
    good = valid_request(kit_ok)
    accepted = validate_dpop_request(
        kit_ok.method, kit_ok.url, f"DPoP {good.token}", list(good.proofs), policy_ok
    )
    assert accepted.ok, accepted


def test_the_catalog_covers_what_issue_14_lists() -> None:
    checks = {d.check for d in DPOP_CATALOG.values()}
    assert {
        "dpop-scheme",
        "dpop-jkt",
        "dpop-htm",
        "dpop-htu",
        "dpop-ath",
        "dpop-jti",
        "dpop-iat",
        "dpop-nonce",
    } <= checks
    for defect in DPOP_CATALOG.values():
        assert defect.spec.startswith("RFC 9449")
        assert defect.consequence
    musts = {d.name for d in DPOP_CATALOG.values() if d.severity == "must"}
    assert {"dpop-bound-token-as-bearer", "dpop-proof-other-key"} <= musts


def test_the_cli_lists_the_dpop_defects(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from mockidp.cli import main

    assert main(["defects", "--dpop", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == list(DPOP_CATALOG)
    assert main(["defects", "--dpop"]) == 0
    assert "dpop-proof-other-key" in capsys.readouterr().out
