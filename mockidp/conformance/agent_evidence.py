"""What one check-agent trial leaves behind, and the four ways a check can read it.

Evidence is what the IdP journal (``idp.requests``, secrets redacted) and the mock APIs' call
records show, plus the agent's exit status and output. A check comes to one of four outcomes:
``passed``; ``failed`` (the practice was not followed); ``crashed`` (the agent stopped before
the trial could show anything, so a stop it had to make proves nothing); ``not-applicable`` (the
trial gave the check nothing to look at: neither a pass nor a failure).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import ClientConfig
from ..journal import RequestRecord
from ..resources import ApiCall, MockApi
from ..resources.host import MetadataRequest
from ..resources.mcp_options import McpOptions
from .case import Case, Severity
from .processes import Finished

#: a Python interpreter that died of an exception it did not catch says so on stderr
TRACEBACK = "Traceback (most recent call last):"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    flow: str
    expect_exit: str  # "zero" | "nonzero"
    requests: Sequence[RequestRecord]
    calls: Sequence[ApiCall]
    apis: Mapping[str, MockApi]
    finished: Finished
    timeout: float
    #: Retry-After seconds of the fault the trial injected, when it injected one
    retry_after: float | None = None
    rejected_apis: tuple[str, ...] = field(default_factory=tuple)
    #: the agent's client secret: found in any URL parameter, whatever its name, it leaked
    client_secret: str | None = None
    #: the IdP's issuer: an OpenID token names it next to the API (for userinfo); not another API
    issuer: str | None = None
    #: the agent authenticates with ``private_key_jwt`` (check-agent ``--auth``): its assertions are judged
    signed: bool = False
    #: the same agent against an honest IdP (the baseline run), for trials where it must stop:
    #: it shows how far the agent gets when nothing is wrong
    control: Evidence | None = None
    #: the device-flow and CIBA requests, each with its polls (``MockIdP.polled_requests``)
    polled: Sequence[Mapping[str, Any]] = ()
    #: MCP trials: how the APIs behaved as MCP servers, the metadata requests on their host, the
    #: clients the agent registered, and the second authorization server's journal (migration)
    mcp: McpOptions | None = None
    metadata_requests: Sequence[MetadataRequest] = ()
    registered: Sequence[ClientConfig] = ()
    successor_requests: Sequence[RequestRecord] = ()
    #: the basic-cimd trial: the client metadata document URL the agent was given, and how
    #: often the IdP fetched it from the document host
    client_metadata_url: str | None = None
    document_fetches: int = 0

    def at(self, endpoint: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def token_requests(self) -> list[RequestRecord]:
        return self.at("token")

    def first(self, endpoint: str) -> float | None:
        for r in self.requests:
            if r.endpoint == endpoint:
                return r.time
        return None

    @property
    def valid_calls(self) -> list[ApiCall]:
        """API calls whose token the API found valid (its claims are known)."""
        return [c for c in self.calls if c.claims is not None]

    @property
    def crashed(self) -> bool:
        """Killed by a signal, or a Python traceback in its output."""
        status = self.finished.status
        return status is not None and (status < 0 or TRACEBACK in self.finished.output)

    def last_line(self) -> str:
        lines = [line for line in self.finished.output.splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""


Check = Callable[[Evidence], Case]


def form(record: RequestRecord, name: str) -> list[str]:
    return list(record.form.get(name, ())) + list(record.query.get(name, ()))


def claim_time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def verdict(name: str, problems: Sequence[str], ok: str = "", severity: Severity = "must") -> Case:
    """Passed without problems, failed with them (joined into the detail)."""
    if problems:
        return Case(name=name, passed=False, detail="; ".join(problems), severity=severity, outcome="failed")
    return Case(name=name, passed=True, detail=ok, severity=severity, outcome="passed")


def not_applicable(name: str, why: str, severity: Severity = "must") -> Case:
    """Nothing to look at: not a pass (``passed`` is False) and not a failure (it never counts)."""
    return Case(name=name, passed=False, detail=why, severity=severity, outcome="not-applicable")


def crashed(name: str, why: str) -> Case:
    return Case(name=name, passed=False, detail=why, outcome="crashed")


def refusal(
    name: str,
    ev: Evidence,
    problems: list[str],
    *,
    point: str,
    reached: Callable[[Evidence], bool],
    went_on: Callable[[Evidence], bool],
    ok: str,
) -> Case:
    """A stop the trial demands, judged for its reason.

    The agent must have reached ``point`` (where the wrong thing showed) and stopped there,
    while in the honest control run (``ev.control``, when there is one) it ``went_on`` past
    it. An agent that exits before ``point``, or that stops at ``point`` even when nothing is
    wrong, did not refuse anything: it crashed.
    """
    if problems:
        return verdict(name, problems)
    if ev.finished.status is None:
        return verdict(name, [f"the agent did not finish within {ev.timeout:g} s"])
    if not reached(ev):
        said = f" (last output: {ev.last_line()!r})" if ev.last_line() else ""
        return crashed(name, f"the agent exited before {point}, so it never had to refuse anything{said}")
    if ev.control is not None and not went_on(ev.control):
        return crashed(
            name,
            f"against an honest IdP (the baseline run) the agent stops after {point} too: "
            "this stop is no refusal",
        )
    return verdict(name, [], ok)
