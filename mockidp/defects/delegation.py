"""Delegated access tokens (RFC 8693 §4.1 ``act``, §4.4 ``may_act``) an API with a delegation
policy must refuse, and one it must accept.

Whether a token may carry ``act`` at all, and how long a chain may be, is the API's policy: a
plain API may rightly accept a delegated token. So ``check-api`` sends these only when told the
policy (``--delegation none`` or ``--delegation max-depth=N``), except
``act-exchanged-for-other-audience``, which every API refuses by its ``aud``.
"""

from __future__ import annotations

from typing import Any

from .model import ACCESS, Defect, MintContext

SPEC = "RFC 8693 §4.1"
#: the actor these tokens name: the party an agent platform would put in ``act``
ACTOR = "mockidp-agent"
#: actors in ``act-chain-too-deep``: deeper than any ``--delegation max-depth=N`` (N <= 3)
DEEP_CHAIN = 4
#: another API's audience: where an exchanged token was meant to go
OTHER_API = "https://another-api.mockidp.test"


def _act(depth: int) -> dict[str, Any]:
    act: dict[str, Any] = {"sub": f"{ACTOR}-{depth}" if depth > 1 else ACTOR, "client_id": ACTOR}
    return {**act, "act": _act(depth - 1)} if depth > 1 else act


def _with_act(depth: int) -> Any:
    def edit(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        chain = _act(depth)
        chain["sub"] = ACTOR
        return {**claims, "act": chain}

    return edit


def _may_act_other(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**claims, "act": _act(1), "may_act": {"sub": "an-approved-agent"}}


def _exchanged_elsewhere(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**claims, "act": _act(1), "aud": OTHER_API}


def _delegation(name: str, description: str, check: str, consequence: str, **fields: Any) -> Defect:
    return Defect(
        name=name,
        group=fields.pop("group", "delegation"),
        description=description,
        spec=fields.pop("spec", SPEC),
        applies_to=ACCESS,
        check=check,
        consequence=consequence,
        touches=fields.pop("touches", frozenset({"claim:act"})),
        **fields,
    )


DEFECTS: tuple[Defect, ...] = (
    _delegation(
        "act-not-allowed",
        "a delegated token (`act` names an agent acting for the user) sent to an API that allows no "
        "delegation",
        "act",
        "an agent gets in as the user where only the user was meant to act; the API never looks at `act`",
        spec=f"{SPEC}; RFC 8693 §5",
        claims=_with_act(1),
    ),
    _delegation(
        "act-chain-too-deep",
        f"an `act` chain of {DEEP_CHAIN} actors, deeper than the API allows",
        "act-depth",
        "a token passed along a long chain of agents gets in; each hop widens who can use it",
        spec=f"{SPEC} (nested act: prior actors)",
        claims=_with_act(DEEP_CHAIN),
    ),
    _delegation(
        "may-act-violated",
        "`act` names an actor the token's own `may_act` does not authorize",
        "may-act",
        "an actor the user never authorized acts for them (RFC 8693 §4.4)",
        spec="RFC 8693 §4.1, §4.4",
        claims=_may_act_other,
        touches=frozenset({"claim:act", "claim:may_act"}),
    ),
    _delegation(
        "act-exchanged-for-other-audience",
        "a delegated token exchanged for another API (`aud` names that API)",
        "aud",
        "a token an agent obtained for one API opens another (token passthrough; RFC 8707)",
        spec="RFC 8693 §2.1 (audience); RFC 9068 §4; RFC 8707 §2",
        claims=_exchanged_elsewhere,
        touches=frozenset({"claim:act", "claim:aud"}),
    ),
    _delegation(
        "act-within-policy",
        "a delegated token with one actor in `act`, within the API's delegation policy",
        "act-depth",
        "an API that allows delegation but refuses every `act` locks out the agents it means to serve",
        group="positive",
        expected_status=200,
        expected_error="",
        severity="should",
        claims=_with_act(1),
    ),
)
