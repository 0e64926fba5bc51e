"""``check-api --delegation``: APIs with a delegation policy (RFC 8693 ``act``, ``may_act``) are
judged on the entries that policy makes meaningful, and only then; a plain API that accepts
delegated tokens is not blamed for it."""

from __future__ import annotations

from collections.abc import Iterator

import careful_api
import pytest

from mockidp import MockIdP
from mockidp.cli import main
from mockidp.conformance.check_api import (
    ApiTarget,
    RunOptions,
    access_token_catalog,
    prepare,
    run_cases,
    with_delegation,
)
from mockidp.conformance.report import ApiReport
from mockidp.errors import ScenarioError

AUDIENCE, SCOPE = "https://items.example", "items:read"
FAST = RunOptions(placement=False, expiry_wait=False)
#: the one delegation entry every API is judged on: it is refused by its aud
BASE = {"act-exchanged-for-other-audience": access_token_catalog()["act-exchanged-for-other-audience"]}


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP() as server:
        prepare(server, ApiTarget(url="", audience=AUDIENCE, scope=SCOPE))
        yield server


def check(idp: MockIdP, api_policy: str, declared: str | None) -> ApiReport:
    settings = careful_api.Settings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, delegation=api_policy)
    catalog = with_delegation(BASE, declared) if declared else BASE
    with careful_api.serve(settings) as url:
        return run_cases(idp, ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE), catalog, options=FAST)


def outcomes(report: ApiReport) -> dict[str, str]:
    return {c.name: str(c.outcome) for c in report.cases if c.name not in ("valid-token", "no-token")}


def test_plain_api_is_judged_only_on_the_audience(idp: MockIdP) -> None:
    report = check(idp, "", None)
    assert report.passed, report.table()
    assert outcomes(report) == {"act-exchanged-for-other-audience": "passed"}


def test_api_refusing_delegation_passes_when_declared(idp: MockIdP) -> None:
    report = check(idp, "none", "none")
    assert report.passed, report.table()
    assert outcomes(report)["act-not-allowed"] == "passed"


def test_api_that_ignores_act_fails_a_declared_no_delegation_policy(idp: MockIdP) -> None:
    report = check(idp, "", "none")
    assert not report.passed
    assert [(f.cause, f.severity, f.cases) for f in report.findings] == [
        ("act", "must", ("act-not-allowed",))
    ]


def test_api_with_a_depth_limit_passes_and_accepts_a_delegated_token(idp: MockIdP) -> None:
    report = check(idp, "max-depth=2", "max-depth=2")
    assert report.passed, report.table()
    assert outcomes(report) == {
        "act-exchanged-for-other-audience": "passed",
        "act-chain-too-deep": "passed",
        "may-act-violated": "passed",
        "act-within-policy": "passed",
    }


def test_api_that_never_compares_may_act_fails_on_that_alone(idp: MockIdP) -> None:
    report = check(idp, "max-depth=2,no-may-act", "max-depth=2")
    assert not report.passed
    assert [(f.cause, f.cases) for f in report.findings] == [("may-act", ("may-act-violated",))]


def test_api_refusing_every_act_is_too_strict_for_a_depth_policy(idp: MockIdP) -> None:
    report = check(idp, "none", "max-depth=1")
    assert outcomes(report)["act-within-policy"] == "refused-differently"
    assert report.passed  # a should: nobody gets in who should not
    assert [(f.cause, f.severity) for f in report.findings] == [("act-depth", "should")]


@pytest.mark.parametrize("policy", ["some", "max-depth=0", "max-depth=4", "max-depth=x", "none=1"])
def test_unknown_policy_is_a_usage_error(policy: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ScenarioError, match="max-depth=N"):
        with_delegation(BASE, policy)
    assert (
        main(["check-api", "http://127.0.0.1:9/x", "--audience", "a", "--scope", "s", "--delegation", policy])
        == 2
    )
    assert "--delegation" in capsys.readouterr().err
