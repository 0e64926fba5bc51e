"""Delegation claims of RFC 8693 §4: ``act`` (who acts, nesting the earlier actors) and
``may_act`` (who the subject allows to act for it).

Pure functions over claim dicts, shared by the token-exchange grant and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: claims that identify an actor (RFC 8693 §4.1: "sub" and, usually, "iss"; mockidp adds client_id)
ACTOR_CLAIMS = ("iss", "sub", "client_id")
#: a chain deeper than this is refused before it is even counted (bounded work on hostile input)
MAX_CHAIN = 32


def act_depth(claims: Mapping[str, Any]) -> int:
    """How many actors the ``act`` chain of ``claims`` holds (0: not delegated).

    A malformed or absurdly deep chain counts as deeper than any policy allows.
    """
    depth, node = 0, claims.get("act")
    while node is not None:
        if not isinstance(node, Mapping) or depth >= MAX_CHAIN:
            return MAX_CHAIN + 1
        depth += 1
        node = node.get("act")
    return depth


def nest_act(actor: Mapping[str, Any], subject_claims: Mapping[str, Any]) -> dict[str, Any]:
    """The new ``act``: the current actor, with the subject token's chain nested inside it as
    the prior actors (RFC 8693 §4.1)."""
    act = dict(actor)
    prior = subject_claims.get("act")
    if isinstance(prior, Mapping):
        act["act"] = dict(prior)
    return act


def may_act_allows(subject_claims: Mapping[str, Any], actor: Mapping[str, Any]) -> bool:
    """Whether the subject token's ``may_act`` (RFC 8693 §4.4) names ``actor``: every
    identifying claim it lists must equal the actor's. No ``may_act``: no restriction."""
    may_act = subject_claims.get("may_act")
    if may_act is None:
        return True
    if not isinstance(may_act, Mapping):
        return False
    named = {k: v for k, v in may_act.items() if k in ACTOR_CLAIMS}
    return bool(named) and all(actor.get(k) == v for k, v in named.items())
