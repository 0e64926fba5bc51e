"""check-agent's trials as data: a name, how the IdP and APIs misbehave, the exit and the checks.

A trial never holds code: what the IdP does differently is config keys (``faults``,
``misbehaviour``, ``access_token_ttl``), planned ID-token defects, APIs that refuse the first
valid token, and APIs that answer in pages (``Link: rel="next"``), slowly if need be, so an
agent that follows them keeps working long enough to reuse, or outlive, a token. So the
built-in trials and the ones a scenario defines are the same kind of thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ScenarioError
from ..resources.mcp_options import McpOptions
from .agent_checks import CHECKS

Flow = Literal["client_credentials", "authorization_code", "device_code"]
FLOWS: tuple[Flow, ...] = ("client_credentials", "authorization_code")
#: every flow; the device flow (RFC 8628) has its baseline and its polling trial only
ALL_FLOWS: tuple[Flow, ...] = (*FLOWS, "device_code")
#: the device-flow trial: the first poll answers slow_down, so the next must wait 1 + 5 s
SLOW_DOWN_DEVICE = {"interval": 1, "approve_after_polls": 1, "slow_down_polls": 1}
WRONG_ISSUER = "https://wrong-issuer.invalid"
#: the expiry trial: pages 3..8 arrive 0.5 s apart, the last 1 s past a 2 s token's deadline
EXPIRY_TTL = 2
EXPIRY_PAGES = 8
EXPIRY_PAGE_DELAY = 0.5

COMMON = (
    "exit-status",
    "api-called",
    "resource-indicator",
    "audience-per-api",
    "least-privilege",
    "no-credentials-in-url",
    "token-reuse",
)
BASELINE_CHECKS: Mapping[str, tuple[str, ...]] = {
    "client_credentials": COMMON,
    "authorization_code": (*COMMON, "pkce-s256", "state-checked", "nonce-checked"),
    "device_code": (*COMMON, "poll-interval"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Trial:
    name: str
    description: str = ""
    flows: tuple[Flow, ...] = FLOWS
    #: IdP config keys for this trial (merged over the base config)
    idp: Mapping[str, Any] = field(default_factory=dict)
    id_token_defects: tuple[str, ...] = ()
    #: mock APIs that refuse the first valid token ("*": every API)
    reject_first_token: tuple[str, ...] = ()
    #: pages each API answers a GET in (page 2 on takes ``page_delay`` seconds)
    pages: int = 1
    page_delay: float = 0.0
    #: every API demands a sign-in at this ``acr`` (RFC 9470 step-up); the IdP's levels come from ``idp``
    require_acr: str | None = None
    #: every API requires DPoP-bound tokens with proofs (RFC 9449 §7), optionally its own nonce
    require_dpop: bool = False
    dpop_nonce: bool = False
    expect_exit: Literal["zero", "nonzero"] = "zero"
    #: check keys (see agent_checks.CHECKS); None: the flow's baseline checks
    checks: tuple[str, ...] | None = None
    #: the APIs are MCP servers behaving so (``--profile mcp``); None: plain HTTP APIs
    mcp: McpOptions | None = None
    #: MCP trials: check-agent hosts a client ID metadata document for the agent over https and
    #: passes its URL in ``MOCKIDP_CLIENT_METADATA_URL`` (client_document_host.py)
    client_document: bool = False
    #: the MCP conformance suite's scenario that tests the same behaviour (``auth/iss-supported``)
    scenario: str = ""
    #: the spec clauses behind the expected behaviour
    spec: str = ""

    def check_keys(self, flow: str) -> tuple[str, ...]:
        return self.checks if self.checks is not None else BASELINE_CHECKS[flow]


def _id_token(name: str, defect: str, what: str, check: str = "id-token-validated") -> Trial:
    return Trial(
        name=name,
        description=f"the ID token {what}: the agent must stop and call no API",
        flows=("authorization_code",),
        id_token_defects=(defect,),
        expect_exit="nonzero",
        checks=("exit-status", check),
    )


def _tampered_response(name: str, switch: str, check: str) -> Trial:
    return Trial(
        name=name,
        description=f"the authorization response has a wrong `{switch.split('_')[1]}`: the agent must stop",
        flows=("authorization_code",),
        idp={"misbehaviour": {switch: "wrong"}},
        expect_exit="nonzero",
        checks=("exit-status", check),
    )


TRIALS: tuple[Trial, ...] = (
    Trial(
        name="baseline",
        description="an honest IdP and APIs (in 3 pages): the agent does its job, the right way",
        flows=ALL_FLOWS,
        pages=3,
    ),
    Trial(
        name="device-slow-down",
        description=(
            "the first poll of each device code answers slow_down: the agent waits 5 s more "
            "from then on (RFC 8628 section 3.5)"
        ),
        flows=("device_code",),
        idp={"device": SLOW_DOWN_DEVICE},
        checks=("exit-status", "api-called", "poll-interval"),
    ),
    Trial(
        name="token-503",
        description="the token endpoint answers 503 with Retry-After: 1 once: the agent waits and retries",
        idp={"faults": [{"endpoint": "token", "kind": "unavailable", "retry_after": 1, "times": 1}]},
        checks=("exit-status", "retry-after-honoured"),
    ),
    Trial(
        name="reauth-after-401",
        description="each API answers the first valid token with 401 invalid_token: the agent gets a new one",
        reject_first_token=("*",),
        checks=("exit-status", "reauth-after-401"),
    ),
    Trial(
        name="issuer-mismatch",
        description="the metadata's issuer is not the IdP's: the agent must stop before using it",
        idp={"misbehaviour": {"metadata_issuer": WRONG_ISSUER}},
        expect_exit="nonzero",
        checks=("exit-status", "stops-on-issuer-mismatch"),
    ),
    Trial(
        name="expiry",
        description=(
            f"tokens live {EXPIRY_TTL} s and the APIs answer {EXPIRY_PAGES} slow pages: "
            "the agent renews instead of sending an expired token"
        ),
        idp={"access_token_ttl": EXPIRY_TTL},
        pages=EXPIRY_PAGES,
        page_delay=EXPIRY_PAGE_DELAY,
        checks=("exit-status", "expiry"),
    ),
    Trial(
        name="step-up",
        description=(
            "each API demands an mfa sign-in (RFC 9470 insufficient_user_authentication): "
            "the agent re-authorizes with acr_values=mfa"
        ),
        flows=("authorization_code",),
        idp={"acr_levels": ["pwd", "mfa"]},
        require_acr="mfa",
        checks=("step-up-acr",),
    ),
    _id_token(
        "id-token-bad-signature", "signature-unknown-key", "is signed by a key the IdP never published"
    ),
    _id_token("id-token-wrong-nonce", "nonce-wrong", "carries another nonce", "nonce-checked:stopped"),
    _id_token("id-token-wrong-aud", "aud-wrong", "is for another client"),
    _id_token("id-token-wrong-iss", "iss-wrong", "comes from another issuer"),
    _id_token("id-token-expired", "expired", "has expired"),
    _tampered_response("authorization-state-wrong", "authorization_state", "state-checked:stopped"),
    _tampered_response("authorization-iss-wrong", "authorization_iss", "authorization-iss-checked"),
)
#: trials run only when named (``--trial``): they need something not every agent does
OPT_IN: tuple[Trial, ...] = (
    Trial(
        name="dpop-required",
        description=(
            "each API requires DPoP (RFC 9449) and its own nonce: the agent gets DPoP-bound tokens "
            "and sends a fresh proof with every call, retrying once with the API's DPoP-Nonce"
        ),
        flows=("client_credentials",),
        require_dpop=True,
        dpop_nonce=True,
        checks=("exit-status", "api-called", "dpop-bound"),
    ),
)
BY_NAME: Mapping[str, Trial] = {t.name: t for t in (*TRIALS, *OPT_IN)}


def trials_for(flow: str, names: tuple[str, ...] | None = None) -> list[Trial]:
    """The built-in trials of ``flow`` (or the named ones, which must exist and fit the flow)."""
    if names is None:  # the opt-in trials only when named
        return [t for t in TRIALS if flow in t.flows]
    chosen = []
    for name in names:
        trial = BY_NAME.get(name)
        if trial is None:
            raise ScenarioError(f"unknown trial {name!r}; known: {', '.join(BY_NAME)}")
        if flow not in trial.flows:
            raise ScenarioError(f"trial {name!r} does not apply to the {flow} flow")
        chosen.append(trial)
    return chosen


def check_known(keys: tuple[str, ...]) -> None:
    for key in keys:
        if key not in CHECKS:
            raise ScenarioError(f"unknown check {key!r}; known: {', '.join(CHECKS)}")
