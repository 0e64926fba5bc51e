"""The MCP checks' verdicts on recorded evidence: no agent runs, so every rule is pinned exactly."""

from __future__ import annotations

from typing import Any

from mockidp.config import ClientConfig
from mockidp.conformance.agent_checks import CHECKS, Evidence
from mockidp.conformance.case import Case
from mockidp.conformance.processes import Finished
from mockidp.journal import RequestRecord
from mockidp.resources import ApiCall, MockApi
from mockidp.resources.host import MetadataRequest
from mockidp.resources.mcp_options import McpOptions

URL = "http://127.0.0.1:1/inventory"
ISSUER = "http://127.0.0.1:2"
PRM = "/.well-known/oauth-protected-resource/inventory"


def api(**options: Any) -> MockApi:
    return MockApi("inventory", url=URL, mcp=McpOptions(**options))


def authorize(
    at: float, scope: str | None = "inventory:read", status: int = 302, **query: str
) -> RequestRecord:
    params = {"client_id": ["c1"], **{k: [v] for k, v in query.items()}}
    if scope is not None:
        params["scope"] = [scope]
    return RequestRecord(
        method="GET", path="/authorize", query=params, endpoint="authorize", status=status, time=at
    )


def token(at: float, client_id: str = "c1") -> RequestRecord:
    form = {"grant_type": ["authorization_code"], "client_id": [client_id], "resource": [URL]}
    return RequestRecord(method="POST", path="/token", form=form, endpoint="token", status=200, time=at)


def discovery(status: int = 200, path: str = "/.well-known/oauth-authorization-server") -> RequestRecord:
    return RequestRecord(
        method="GET", path=path, endpoint="discovery" if status == 200 else "", status=status
    )


def call(
    at: float, rpc: str = "tools/call", status: int = 200, scope: str = "inventory:read", **more: Any
) -> ApiCall:
    claims = {"aud": URL, "scope": scope, "jti": "j", "sub": "alice"} if status != 401 else None
    error = {401: "invalid_token", 403: "insufficient_scope"}.get(status)
    fields: dict[str, Any] = {"api": "inventory", "method": "POST", "path": "/inventory", "status": status}
    return ApiCall(**fields, claims=claims, error=error, time=at, rpc=rpc, **more)


def evidence(
    requests: list[RequestRecord] | None = None,
    calls: list[ApiCall] | None = None,
    mcp: MockApi | None = None,
    **more: Any,
) -> Evidence:
    the_api = mcp or api()
    fields: dict[str, Any] = {
        "flow": "authorization_code",
        "expect_exit": "zero",
        "requests": requests or [],
        "calls": calls or [],
        "apis": {"inventory": the_api},
        "finished": Finished(0, ""),
        "timeout": 5,
        "issuer": ISSUER,
        "mcp": the_api.mcp,
        **more,
    }
    return Evidence(**fields)


def judge(check: str, ev: Evidence) -> Case:
    return CHECKS[check](ev)


# --- scope selection -----------------------------------------------------------------------


def test_asking_beyond_the_challenged_scope_is_a_must() -> None:
    case = judge("scope-selection", evidence([authorize(1, "inventory:read inventory:write offline_access")]))
    assert (case.result, case.severity) == ("failed", "must")
    assert "inventory:write more than the server asked for" in case.detail


def test_offline_access_is_no_extra_and_too_little_is_a_should() -> None:
    assert judge("scope-selection", evidence([authorize(1, "inventory:read offline_access")])).passed
    short = judge("scope-selection", evidence([authorize(1, "")], mcp=api(scope_in_challenge=False)))
    assert (short.result, short.severity) == ("failed", "should")


def test_scope_must_be_omitted_when_nothing_names_one() -> None:
    undefined = api(scope_in_challenge=False, scopes_supported=False)
    assert judge("scope-selection", evidence([authorize(1, None)], mcp=undefined)).passed
    case = judge("scope-selection", evidence([authorize(1, "openid")], mcp=undefined))
    assert (case.result, case.severity) == ("failed", "should")


# --- step-up and its limit -----------------------------------------------------------------


def test_step_up_wants_the_named_scope_kept_scopes_and_a_new_call() -> None:
    refused = call(2, status=403, needed="inventory:write")
    good = [authorize(1), authorize(3, "inventory:read inventory:write")]
    assert judge(
        "scope-step-up", evidence(good, [refused, call(4, scope="inventory:read inventory:write")])
    ).passed
    dropped = judge(
        "scope-step-up", evidence([authorize(1), authorize(3, "inventory:write")], [refused, call(4)])
    )
    assert "dropped inventory:read" in dropped.detail and dropped.severity == "should"
    ignored = judge("scope-step-up", evidence([authorize(1), authorize(3)], [refused]))
    assert "without inventory:write" in ignored.detail
    assert judge("scope-step-up", evidence([authorize(1)], [call(2)])).result == "not-applicable"


def test_retry_limit_counts_authorizations_and_a_run_that_never_ends() -> None:
    refused = [call(i + 0.5, status=403) for i in range(4)]
    three = judge("scope-retry-limit", evidence([authorize(i) for i in range(3)], refused))
    assert three.passed
    four = judge("scope-retry-limit", evidence([authorize(i) for i in range(4)], refused))
    assert (four.result, four.severity) == ("failed", "should") and "4 authorization requests" in four.detail
    endless = evidence([authorize(0)], refused, finished=Finished(None, ""))
    assert "still retrying" in judge("scope-retry-limit", endless).detail


# --- metadata discovery --------------------------------------------------------------------


def test_root_metadata_asked_before_the_path_based_one_is_a_should() -> None:
    looks = [MetadataRequest("/.well-known/oauth-protected-resource", 404, 0), MetadataRequest(PRM, 200, 1)]
    case = judge("metadata-discovery", evidence([discovery()], metadata_requests=looks))
    assert (case.result, case.severity) == ("failed", "should") and "path-based" in case.detail
    assert judge("metadata-discovery", evidence([discovery()], metadata_requests=looks[1:])).passed


def test_root_authorization_server_metadata_with_an_issuer_path_is_named() -> None:
    looks = [MetadataRequest(PRM, 200, 0)]
    wrong = [discovery(404, "/.well-known/oauth-authorization-server"), discovery()]
    case = judge("metadata-discovery", evidence(wrong, metadata_requests=looks, issuer=ISSUER + "/tenant1"))
    assert "issuer has the path /tenant1" in case.detail
    missing = judge("metadata-discovery", evidence([], metadata_requests=looks))
    assert "never found the authorization server metadata" in missing.detail


# --- stops: iss, metadata issuer, resource -------------------------------------------------


def test_iss_checked_needs_the_response_reached_and_a_control_that_went_on() -> None:
    stopped = evidence(
        [authorize(1)], [call(0.5, status=401)], expect_exit="nonzero", finished=Finished(1, "")
    )
    honest = evidence([authorize(1), token(2)], [call(3)])
    assert judge("iss-checked", stopped).passed  # the 401 before signing in is no admitted call
    with_control = Evidence(**{**_fields(stopped), "control": honest})
    assert judge("iss-checked", with_control).passed
    lazy_control = Evidence(**{**_fields(stopped), "control": evidence([authorize(1)])})
    assert judge("iss-checked", lazy_control).result == "crashed"
    early = evidence([], expect_exit="nonzero", finished=Finished(1, ""))
    assert judge("iss-checked", early).result == "crashed"
    redeemed = evidence([authorize(1), token(2)], [call(3)], expect_exit="nonzero")
    case = judge("iss-checked", redeemed)
    assert (case.result, case.severity) == ("failed", "must") and "redeemed the code" in case.detail


def _fields(ev: Evidence) -> dict[str, Any]:
    return {name: getattr(ev, name) for name in Evidence.__dataclass_fields__}


def test_resource_and_metadata_issuer_stops() -> None:
    looks = [MetadataRequest(PRM, 200, 0)]
    register = RequestRecord(method="POST", path="/register", endpoint="register", status=201)
    went_on = judge("resource-checked", evidence([discovery(), register], metadata_requests=looks))
    assert went_on.result == "failed" and "register" in went_on.detail
    assert judge("resource-checked", evidence([], metadata_requests=looks)).passed
    assert judge("metadata-issuer-checked", evidence([discovery(), register])).result == "failed"
    assert judge("metadata-issuer-checked", evidence([discovery()])).passed


# --- offline access and migration ----------------------------------------------------------


def registered(*grants: Any) -> list[ClientConfig]:
    return [ClientConfig(client_id="c1", grant_types=grants, redirect_uris=("http://127.0.0.1/callback",))]


def test_offline_access_requested_and_not_requested() -> None:
    asked = [authorize(1, "inventory:read offline_access")]
    reg = registered("authorization_code", "refresh_token")
    assert judge("offline-access-requested", evidence(asked, registered=reg)).passed
    no_grant = judge("offline-access-requested", evidence(asked, registered=registered("authorization_code")))
    assert "without the refresh_token grant" in no_grant.detail
    assert judge("offline-access-not-requested", evidence(asked)).result == "failed"
    assert judge("offline-access-not-requested", evidence([authorize(1)])).passed


def test_migration_wants_a_new_registration_and_never_the_old_client_id() -> None:
    new_register = RequestRecord(method="POST", path="/register", endpoint="register", status=201)
    fresh = [new_register, authorize(5, client_id="c2"), token(6, "c2")]
    old = registered("authorization_code")
    assert judge(
        "reregister-on-as-change", evidence(calls=[call(1)], registered=old, successor_requests=fresh)
    ).passed
    reused = judge(
        "reregister-on-as-change",
        evidence(calls=[call(1)], registered=old, successor_requests=[authorize(5)]),
    )
    assert (reused.result, reused.severity) == ("failed", "must")
    assert "old server's client_id 'c1'" in reused.detail and "did not register" in reused.detail
    never = judge("reregister-on-as-change", evidence(calls=[call(1)], registered=old))
    assert (never.result, never.severity) == ("failed", "should")
    assert judge("reregister-on-as-change", evidence()).result == "not-applicable"


def test_tool_called_wants_an_answered_tools_call() -> None:
    assert judge("tool-called", evidence(calls=[call(1)])).passed
    assert not judge("tool-called", evidence(calls=[call(1, rpc="tools/list"), call(2, status=403)])).passed


# --- client ID metadata document instead of registration (basic-cimd) ----------------------

DOCUMENT = "https://127.0.0.1:3/client.json"


def test_cimd_used_wants_the_document_url_everywhere_and_no_registration() -> None:
    signed_in = [authorize(1, client_id=DOCUMENT), token(2, DOCUMENT)]
    case = judge("cimd-used", evidence(signed_in, client_metadata_url=DOCUMENT, document_fetches=1))
    assert (case.result, case.severity) == ("passed", "should") and DOCUMENT in case.detail
    register = RequestRecord(method="POST", path="/register", endpoint="register", status=201)
    dcr = [register, authorize(1), token(2)]  # c1: the id registration gave it
    ignored = judge("cimd-used", evidence(dcr, client_metadata_url=DOCUMENT))
    assert (ignored.result, ignored.severity) == ("failed", "should")
    assert "registered dynamically (1 POST /register) and signed in as c1" in ignored.detail
    # registering, then signing in with the document anyway, still wastes a registration
    both = [register, *signed_in]
    assert (
        "registered dynamically"
        in judge("cimd-used", evidence(both, client_metadata_url=DOCUMENT, document_fetches=1)).detail
    )


def test_cimd_used_names_another_client_id_and_an_unfetched_document() -> None:
    mixed = [authorize(1, client_id=DOCUMENT), token(2, "c1")]
    case = judge("cimd-used", evidence(mixed, client_metadata_url=DOCUMENT, document_fetches=1))
    assert case.result == "failed" and f"signed in as c1, not as its document URL {DOCUMENT}" in case.detail
    unfetched = judge("cimd-used", evidence(mixed[:1], client_metadata_url=DOCUMENT))
    assert unfetched.result == "failed" and "never fetched" in unfetched.detail


def test_cimd_used_has_nothing_to_judge_without_a_document_or_a_sign_in() -> None:
    assert judge("cimd-used", evidence([authorize(1)])).result == "not-applicable"
    crashed_early = judge("cimd-used", evidence([discovery()], client_metadata_url=DOCUMENT))
    assert crashed_early.result == "not-applicable"
