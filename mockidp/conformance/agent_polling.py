"""``poll-interval``: a device-flow agent waits the interval between polls, 5 s more after each
``slow_down``, and stops polling once told ``access_denied`` or ``expired_token``
(RFC 8628 sections 3.4 and 3.5; the same rules hold for CIBA polling, CIBA Core section 7.3).

Judged on the polls the IdP's polling engine recorded (when each came, what it answered and
the interval in force after it), so the verdict needs no guess about what the agent was told.
A poll that comes early is a ``should``: it only wastes the server's effort, nobody gets in.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from .agent_evidence import Evidence, not_applicable, verdict
from .case import Case

NAME = "poll-interval"
#: a poll this much early still counts as on time (timer granularity, loopback latency)
LEEWAY = 0.1
FINAL = ("access_denied", "expired_token")


def _problems(request: Mapping[str, Any]) -> list[str]:
    answers: Sequence[Mapping[str, Any]] = request.get("answers") or ()
    problems: list[str] = []
    for n, (before, after) in enumerate(itertools.pairwise(answers), start=2):
        gap, wanted = after["at"] - before["at"], before["interval"]
        if before["answer"] in FINAL:
            problems.append(f"poll {n} came after {before['answer']}: polling must stop there")
        elif gap < wanted - LEEWAY:
            told = " (after slow_down)" if before["answer"] == "slow_down" else ""
            problems.append(
                f"poll {n} came {gap:.1f} s after the last one; the interval was {wanted} s{told}"
            )
    return problems


def poll_interval(ev: Evidence) -> Case:
    polled = [r for r in ev.polled if r.get("answers")]
    if not polled:
        return not_applicable(NAME, "the agent polled no device code", severity="should")
    problems = [p for r in polled for p in _problems(r)]
    slow = sum(1 for r in polled for a in r["answers"] if a["answer"] == "slow_down")
    count = sum(len(r["answers"]) for r in polled)
    return verdict(NAME, problems[:5], f"{count} polls, {slow} slow_down", severity="should")
