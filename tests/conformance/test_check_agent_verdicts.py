"""check-agent's verdicts on recorded evidence: not-applicable, crashed, token reuse, expiry, reports.

No agent runs here: each test builds the journal records and API calls a trial would leave, so
the rules are pinned exactly (times included) and the file stays fast.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mockidp.conformance.agent_checks import CHECKS, Evidence
from mockidp.conformance.case import Case
from mockidp.conformance.processes import Finished
from mockidp.conformance.report import AgentReport, TrialReport
from mockidp.journal import RequestRecord
from mockidp.resources import ApiCall, MockApi

INVENTORY = MockApi("inventory", url="http://127.0.0.1:1/inventory")
BILLING = MockApi("billing", url="http://127.0.0.1:1/billing")


def token_request(at: float, status: int = 200, grant: str = "client_credentials") -> RequestRecord:
    form = {"grant_type": [grant], "resource": [INVENTORY.url], "scope": ["inventory:read"]}
    return RequestRecord(method="POST", path="/token", form=form, endpoint="token", status=status, time=at)


def call(at: float, jti: str, iat: int, ttl: int = 300, status: int = 200, api: str = "inventory") -> ApiCall:
    url = INVENTORY.url if api == "inventory" else BILLING.url
    claims = {"jti": jti, "iat": iat, "exp": iat + ttl, "aud": url, "scope": f"{api}:read"}
    error = "invalid_token" if status == 401 else None
    return ApiCall(api=api, method="GET", path=f"/{api}", status=status, claims=claims, error=error, time=at)


def evidence(
    requests: list[RequestRecord] | None = None, calls: list[ApiCall] | None = None, **more: Any
) -> Evidence:
    fields: dict[str, Any] = {
        "flow": "client_credentials",
        "expect_exit": "zero",
        "requests": requests or [],
        "calls": calls or [],
        "apis": {"inventory": INVENTORY, "billing": BILLING},
        "finished": Finished(0, ""),
        "timeout": 5,
        **more,
    }
    return Evidence(**fields)


def judge(check: str, ev: Evidence) -> Case:
    return CHECKS[check](ev)


# --- nothing to look at ---------------------------------------------------------------------


def test_a_check_with_nothing_to_look_at_is_not_applicable_and_does_not_pass() -> None:
    case = judge("audience-per-api", evidence(requests=[token_request(1.0)]))
    assert case.result == "not-applicable" and not case.passed
    assert not case.counts(strict=True)  # never fails a run either
    trial = TrialReport(name="baseline", cases=(judge("exit-status", evidence()), case))
    assert trial.passed
    report = AgentReport(target="agent", flow="client_credentials", trials=(trial,))
    assert report.passed
    assert "n/a" in report.table() and "(1 passed, 1 not-applicable)" in report.table()
    assert report.to_dict()["summary"]["not-applicable"] == 1
    assert report.to_dict()["trials"][0]["cases"][1]["outcome"] == "not-applicable"


def test_idle_agent_leaves_every_check_but_exit_and_api_called_not_applicable() -> None:
    idle = evidence()
    for check in ("resource-indicator", "least-privilege", "token-reuse", "no-credentials-in-url"):
        assert judge(check, idle).result == "not-applicable", check
    assert judge("api-called", idle).result == "failed"


# --- only the APIs the agent called ---------------------------------------------------------


def test_reauth_after_401_judges_only_the_apis_the_agent_called() -> None:
    """The issue's case: an agent that needs inventory alone is not blamed for billing."""
    ev = evidence(
        requests=[token_request(1.0), token_request(1.2)],
        calls=[call(1.1, "a", 1, status=401), call(1.3, "b", 1)],
        rejected_apis=("inventory", "billing"),
    )
    case = judge("reauth-after-401", ev)
    assert case.passed, case.detail


def test_reauth_after_401_without_any_call_is_not_applicable() -> None:
    ev = evidence(requests=[token_request(1.0)], rejected_apis=("inventory", "billing"))
    assert judge("reauth-after-401", ev).result == "not-applicable"


# --- a refusal for the right reason ---------------------------------------------------------


def discovery(at: float) -> RequestRecord:
    return RequestRecord(method="GET", path="/.well-known/x", endpoint="discovery", status=200, time=at)


def stopped(requests: list[RequestRecord], output: str = "", control: Evidence | None = None) -> Evidence:
    return evidence(requests, expect_exit="nonzero", finished=Finished(1, output), control=control)


def test_issuer_mismatch_needs_the_agent_to_have_reached_the_metadata() -> None:
    case = judge("stops-on-issuer-mismatch", stopped([], "ImportError: no module named x"))
    assert case.result == "crashed" and not case.passed and case.counts(strict=False)
    assert "never had to refuse" in case.detail and "ImportError" in case.detail


def test_issuer_mismatch_stop_is_no_refusal_when_the_agent_stops_there_against_an_honest_idp() -> None:
    honest_but_stuck = evidence([discovery(0.5)], finished=Finished(1, "KeyError"))
    case = judge("stops-on-issuer-mismatch", stopped([discovery(1.0)], control=honest_but_stuck))
    assert case.result == "crashed" and "baseline" in case.detail


def test_issuer_mismatch_passes_a_stop_the_baseline_run_shows_is_a_refusal() -> None:
    honest = evidence([discovery(0.5), token_request(0.6)])
    case = judge("stops-on-issuer-mismatch", stopped([discovery(1.0)], control=honest))
    assert case.passed and case.result == "passed"


def test_issuer_mismatch_still_fails_an_agent_that_goes_on() -> None:
    case = judge("stops-on-issuer-mismatch", stopped([discovery(1.0), token_request(1.1)]))
    assert case.result == "failed" and "used endpoints" in case.detail


def test_id_token_trial_needs_the_code_redeemed() -> None:
    authorize = RequestRecord(method="GET", path="/authorize", endpoint="authorize", status=302, time=1.0)
    before = judge("id-token-validated", stopped([discovery(0.9), authorize]))
    assert before.result == "crashed"
    redeemed = token_request(1.1, grant="authorization_code")
    assert judge("id-token-validated", stopped([discovery(0.9), authorize, redeemed])).passed


def test_exit_status_with_a_traceback_is_a_crash() -> None:
    ev = evidence(finished=Finished(1, "Traceback (most recent call last):\n  ...\nKeyError: 'x'\n"))
    case = judge("exit-status", ev)
    assert case.result == "crashed" and "KeyError" in case.detail


# --- token reuse (a should) -----------------------------------------------------------------


def test_one_token_reused_while_valid_passes() -> None:
    ev = evidence([token_request(1.0)], [call(1.1, "a", 1), call(1.2, "a", 1), call(1.3, "a", 1)])
    case = judge("token-reuse", ev)
    assert case.passed and "3 calls with 1 token" in case.detail


def test_a_new_token_for_every_call_is_a_warning_that_fails_only_strict_runs() -> None:
    ev = evidence(
        [token_request(1.0), token_request(1.2), token_request(1.4)],
        [call(1.1, "a", 1), call(1.3, "b", 1), call(1.5, "c", 1)],
    )
    case = judge("token-reuse", ev)
    assert case.result == "failed" and case.severity == "should"
    assert "3 calls with 3 tokens" in case.detail
    lenient = AgentReport(target="a", flow="cc", trials=(TrialReport(name="baseline", cases=(case,)),))
    assert lenient.passed and "warn" in lenient.table() and "(1 warning (should" in lenient.table()
    assert lenient.summary()["warning"] == 1 and lenient.summary()["failed"] == 0
    strict_trial = TrialReport(name="baseline", cases=(case,), strict=True)
    strict = AgentReport(target="a", flow="cc", trials=(strict_trial,), strict=True)
    assert not strict.passed and "FAIL" in strict.table()


def test_a_new_token_after_a_401_is_no_waste() -> None:
    ev = evidence(
        [token_request(1.0), token_request(1.2)],
        [call(1.1, "a", 1, status=401), call(1.3, "b", 1), call(1.4, "b", 1)],
    )
    assert judge("token-reuse", ev).passed


def test_one_token_per_api_is_not_waste() -> None:
    ev = evidence(
        [token_request(1.0), token_request(1.2)],
        [call(1.1, "a", 1), call(1.3, "b", 1, api="billing")],
    )
    assert judge("token-reuse", ev).result == "not-applicable"


# --- expiry ---------------------------------------------------------------------------------


def test_a_token_sent_after_expires_in_ran_out_fails_expiry() -> None:
    ev = evidence([token_request(100.0)], [call(100.1, "a", 100, 2), call(102.6, "a", 100, 2)])
    case = judge("expiry", ev)
    assert case.result == "failed" and "0.6 s after its expires_in (2 s)" in case.detail


def test_renewing_before_expiry_passes() -> None:
    ev = evidence(
        [token_request(100.0), token_request(101.6)],
        [call(100.1, "a", 100, 2), call(101.7, "b", 101, 2), call(102.6, "b", 101, 2)],
    )
    case = judge("expiry", ev)
    assert case.passed and "2 tokens" in case.detail


def test_expiry_counts_from_the_response_not_from_the_rounded_iat() -> None:
    """Issued at 100.9, ``iat`` says 100: an agent trusting ``expires_in`` may send it until 102.9."""
    ev = evidence([token_request(100.9)], [call(101.0, "a", 100, 2), call(102.8, "a", 100, 2)])
    assert judge("expiry", ev).result == "not-applicable"  # not blamed: it never outlived expires_in
    late = evidence([token_request(100.9)], [call(101.0, "a", 100, 2), call(103.3, "a", 100, 2)])
    assert judge("expiry", late).result == "failed"


def test_expiry_with_every_call_inside_the_first_lifetime_is_not_applicable() -> None:
    ev = evidence([token_request(100.0)], [call(100.1, "a", 100, 2), call(101.0, "a", 100, 2)])
    case = judge("expiry", ev)
    assert case.result == "not-applicable" and "whether the agent renews" in case.detail


# --- the report: the agent's output ---------------------------------------------------------


def test_table_shows_the_last_five_lines_of_a_failed_trial_and_the_log_everything() -> None:
    output = "\n".join(f"line {i}" for i in range(1, 9)) + "\n"
    failed = dataclasses.replace(judge("api-called", evidence()))
    trial = TrialReport(name="baseline", cases=(failed,), exit_status=1, output=output)
    fine = TrialReport(name="token-503", cases=(judge("exit-status", evidence()),), output="quiet ok\n")
    report = AgentReport(target="a", flow="cc", trials=(trial, fine))
    table = report.table()
    assert all(f"| line {i}" in table for i in range(4, 9))
    assert "line 3" not in table and "quiet ok" not in table
    assert "baseline: the agent's last output lines (exit status 1)" in table
    log = report.log_text()
    assert "===== trial baseline (exit status 1) =====" in log and "line 1" in log and "quiet ok" in log
    assert report.to_dict()["trials"][0]["output_tail"] == [f"line {i}" for i in range(4, 9)]
