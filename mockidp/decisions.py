"""The person behind the polled grants, for tests: list the waiting device-flow and CIBA
requests, approve, deny, or let one time out.

``MockIdP`` and the control API (``/_mockidp/polled-requests``) both call these. A request is
picked by its ``id`` (from the listing), ``user_code``, ``device_code`` or ``auth_req_id``, or,
with none of them, as the only request still waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import MockIdPError
from .polling import Decision, PolledRequest, SignIn
from .state import IdPState

SELECTORS = ("id", "user_code", "device_code", "auth_req_id")


def polled_requests(state: IdPState) -> list[dict[str, Any]]:
    """Every remembered device-flow and CIBA request, oldest first (no secrets)."""
    now = state.clock.now()
    return [r.to_dict(now) for r in state.store.polls.snapshot()]


def select(state: IdPState, selector: Mapping[str, str | None]) -> PolledRequest:
    """The request ``selector`` names (one of :data:`SELECTORS`), or the only waiting one."""
    given = {k: v for k, v in selector.items() if v is not None}
    unknown = sorted(set(given) - set(SELECTORS))
    if unknown:
        raise MockIdPError(f"unknown selector {unknown[0]!r} (use one of {', '.join(SELECTORS)})")
    polls = state.store.polls
    if len(given) > 1:
        raise MockIdPError(f"name the request by one of {', '.join(SELECTORS)}, not several")
    if not given:
        waiting = polls.awaiting(state.clock.now())
        if len(waiting) != 1:
            raise MockIdPError(f"{len(waiting)} requests are waiting; name one by {', '.join(SELECTORS)}")
        return waiting[0]
    name, value = next(iter(given.items()))
    found = {
        "id": lambda: polls.find(request_id=value),
        "user_code": lambda: polls.find(user_code=value),
        "device_code": lambda: polls.find(secret=value),
        "auth_req_id": lambda: polls.find(secret=value),
    }[name]()
    if found is None:
        raise MockIdPError(f"no device-flow or CIBA request has this {name}")
    return found


def decide(
    state: IdPState, decision: Decision, selector: Mapping[str, str | None], *, subject: str | None = None
) -> dict[str, Any]:
    """Approve (as ``subject``: a sub or username; default the hinted user, else the first) or
    deny; refused when the request is no longer waiting."""
    request = select(state, selector)
    now = state.clock.now()
    by = None
    if decision == "approve":
        name = subject or request.subject or request.login_hint
        user = state.store.user_by_login(name) if name else next(iter(state.store.users().values()), None)
        if user is None:
            raise MockIdPError(f"no user {name!r} to approve as" if name else "no users are configured")
        by = SignIn(user.sub, now, request.acr)
    if not state.store.polls.decide(request, decision, now, by=by):
        raise MockIdPError(f"the request is no longer waiting (it is {request.to_dict(now)['status']})")
    return request.to_dict(now)


def expire(state: IdPState, selector: Mapping[str, str | None]) -> dict[str, Any]:
    """Time the request out now: its next poll answers ``expired_token``."""
    request = select(state, selector)
    now = state.clock.now()
    state.store.polls.expire(request, now)
    return request.to_dict(now)
