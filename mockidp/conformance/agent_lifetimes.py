"""Token lifetimes as the agent sees them: is a token reused while valid, and renewed in time?

The agent learns a token's lifetime from ``expires_in``, counted from when the response reached
it, not from the token's ``iat`` (a whole second, rounded down). So a token's deadline here is
the journal time of the token response that carried it plus its lifetime: an agent that renews
right at the end of ``expires_in`` is never blamed for the IdP's rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..journal import RequestRecord
from ..resources import ApiCall
from .agent_evidence import Evidence, claim_time, not_applicable, verdict
from .case import Case

#: network and scheduling slack: a token that arrives this much after its deadline was sent in time
LATE_TOLERANCE = 0.25
#: a new token for an API while the last one still had more than this share of its life is waste
REUSE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Held:
    """One access token as the agent held it: when it got it, when it expired, when it was used."""

    jti: str
    api: str
    received: float
    lifetime: float
    first_use: float

    @property
    def deadline(self) -> float:
        return self.received + self.lifetime


def _received(claims: Mapping[str, Any], used: float, tokens: Sequence[RequestRecord]) -> float:
    """The latest successful token response that can have carried this token (the most lenient)."""
    iat = claim_time(claims, "iat") or used
    fits = [r.time for r in tokens if r.status == 200 and iat <= r.time < iat + 1.5 and r.time <= used]
    return max(fits) if fits else iat + 1.0


def held_tokens(ev: Evidence) -> dict[str, Held]:
    """Every access token a valid API call carried, by ``jti``, in order of first use."""
    held: dict[str, Held] = {}
    tokens = ev.token_requests
    for call in ev.valid_calls:
        assert call.claims is not None
        jti = str(call.claims.get("jti"))
        if jti in held:
            continue
        iat, exp = claim_time(call.claims, "iat"), claim_time(call.claims, "exp")
        lifetime = exp - iat if exp is not None and iat is not None else float("inf")
        held[jti] = Held(jti, call.api, _received(call.claims, call.time, tokens), lifetime, call.time)
    return held


def _jti(call: ApiCall) -> str:
    return str(call.claims.get("jti")) if call.claims else ""


def token_reuse(ev: Evidence) -> Case:
    """One token per API, reused while it is valid (a ``should``: waste, not a hole)."""
    name = "token-reuse"
    held = held_tokens(ev)
    problems, seen = [], []
    for api in dict.fromkeys(c.api for c in ev.valid_calls):
        calls = [c for c in ev.valid_calls if c.api == api]
        if len(calls) < 2:
            continue
        tokens = [h for h in held.values() if h.api == api]
        refused = {_jti(c) for c in ev.calls if c.api == api and c.status == 401}
        wasted = [
            (old, new)
            for old, new in pairwise(tokens)
            if old.jti not in refused and old.deadline - new.first_use > old.lifetime * REUSE_SHARE
        ]
        seen.append(f"{api}: {len(calls)} calls with {len(tokens)} token{'s' if len(tokens) > 1 else ''}")
        if wasted:
            old, new = wasted[0]
            problems.append(
                f"{api}: {len(calls)} calls with {len(tokens)} tokens; a new token while the last one "
                f"had {old.deadline - new.first_use:.0f} s of its {old.lifetime:g} s left"
            )
    if not seen:
        return not_applicable(name, "no API was called twice with a valid token", severity="should")
    return verdict(name, problems, "; ".join(seen), severity="should")


def expiry(ev: Evidence) -> Case:
    """No token sent after its ``expires_in`` ran out; renewal shown by calls past the first deadline."""
    name = "expiry"
    held = held_tokens(ev)
    if not held:
        return not_applicable(name, "no API call with a valid token")
    problems = []
    for token in held.values():
        late = [
            c for c in ev.valid_calls if _jti(c) == token.jti and c.time > token.deadline + LATE_TOLERANCE
        ]
        if late:
            problems.append(
                f"{late[0].api} got a token {late[0].time - token.deadline:.1f} s after its "
                f"expires_in ({token.lifetime:g} s) ran out"
            )
    if problems:
        return verdict(name, problems)
    first_deadline = min(t.deadline for t in held.values())
    last_call = max(c.time for c in ev.valid_calls)
    if last_call <= first_deadline:
        return not_applicable(
            name,
            f"every call came within the first token's {min(t.lifetime for t in held.values()):g} s: "
            "nothing showed whether the agent renews",
        )
    span = last_call - min(t.received for t in held.values())
    return verdict(name, [], f"{len(held)} tokens over {span:.1f} s, none sent after it expired")
