"""``check-api --dpop``: present tokens the DPoP way, and send the DPoP request defects.

In a DPoP run every token check-api mints is bound to the run's key (``cnf.jkt``) and sent with
``Authorization: DPoP`` and a fresh proof (:class:`DPoPSender`, which follows the API's
``DPoP-Nonce`` like a real client: one retry on ``use_dpop_nonce``). So the whole catalog still
applies, and on top the API gets each entry of :data:`mockidp.defects.dpop.DPOP_CATALOG`: a valid
bound token presented wrongly. A DPoP-requiring API passes only when it refuses every one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ..clock import wall_time
from ..defects.dpop import DPOP_CATALOG, DPoPDefect, DPoPRequest, ProofKey, ProofKit, valid_request
from ..errors import TargetUnreachable, Unreachable
from .api_send import BEARER_OR_DPOP, ApiTarget, judge
from .case import Case
from .probe import Answer, send

if TYPE_CHECKING:
    from ..server import MockIdP

NONCE_ERROR = "use_dpop_nonce"


def htu(url: str) -> str:
    """The proof's ``htu``: the URL without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


@dataclass(slots=True)
class DPoPSender:
    """Sends tokens as a DPoP client does: one fresh proof per request, the API's nonce followed."""

    key: ProofKey = field(default_factory=ProofKey)
    #: the API's latest ``DPoP-Nonce``
    nonce: str | None = None
    #: the API has asked for a nonce at least once
    nonce_demanded: bool = False

    def kit(self, url: str, method: str, token: str) -> ProofKit:
        return ProofKit(
            key=self.key, token=token, method=method, url=htu(url), now=int(wall_time()), nonce=self.nonce
        )

    def deliver(self, url: str, method: str, request: DPoPRequest) -> Answer:
        headers = {"DPoP": request.proofs[0]} if request.proofs else {}
        answer = send(url, method, request.token, scheme=request.scheme, extra_headers=headers)
        if answer.error == NONCE_ERROR and answer.nonce:
            self.nonce_demanded = True
        if answer.nonce:
            self.nonce = answer.nonce
        return answer

    def send(self, url: str, method: str, token: str | None) -> Answer:
        """A valid DPoP request (no ``Authorization`` when ``token`` is None); one nonce retry."""
        if token is None:
            return send(url, method, None)
        answer = self.deliver(url, method, valid_request(self.kit(url, method, token)))
        if answer.status == 401 and answer.error == NONCE_ERROR and answer.nonce:
            answer = self.deliver(url, method, valid_request(self.kit(url, method, token)))
        return answer


def dpop_cases(
    target: ApiTarget, sender: DPoPSender, bound_token: Callable[[], str], *, nonce: bool = False
) -> list[Case]:
    """One case per DPoP request defect; ``dpop-nonce-missing`` only against an API that demands
    a nonce (``nonce``, or it asked for one during the run)."""
    cases = []
    for defect in DPOP_CATALOG.values():
        if defect.needs_nonce and not (nonce or sender.nonce_demanded):
            continue
        try:
            cases.append(_case(target, sender, defect, bound_token()))
        except Unreachable as exc:
            raise TargetUnreachable(str(exc)) from None
    return cases


def _case(target: ApiTarget, sender: DPoPSender, defect: DPoPDefect, token: str) -> Case:
    url, method = target.url, target.method
    base = Case(
        name=defect.name,
        passed=False,
        severity=defect.severity,
        expected_status=defect.expected_status,
        expected_error=" or ".join(defect.expected_errors),
        spec=defect.spec,
    )
    if defect.needs_nonce and sender.nonce is None:  # get one first, as a client would
        sender.send(url, method, token)
    request = defect.build(sender.kit(url, method, token))
    if request.replay:
        first = sender.deliver(url, method, request)
        if first.error == NONCE_ERROR:  # a stale nonce: the replay starts over with the new one
            request = defect.build(sender.kit(url, method, token))
            first = sender.deliver(url, method, request)
        if not 200 <= first.status < 300:
            detail = f"not judged: the valid request to be replayed was refused ({first.describe()})"
            return dataclasses.replace(
                base, passed=True, outcome="passed", got=first.describe(), detail=detail
            )
    answer = sender.deliver(url, method, request)
    if answer.error == NONCE_ERROR and not defect.needs_nonce and not request.replay:
        # refused for a stale nonce, not for the defect: rebuild with the new nonce, once
        answer = sender.deliver(url, method, defect.build(sender.kit(url, method, token)))
    verdict = judge(answer, defect.expected_status, defect.expected_errors, defect.check, BEARER_OR_DPOP)
    detail = verdict.detail
    if verdict.outcome == "accepted":
        detail = f"accepted with {answer.status}: {defect.consequence}"
    return dataclasses.replace(
        base,
        passed=verdict.outcome == "passed",
        detail=detail,
        status=answer.status,
        got=answer.describe() if answer.status else answer.failure,
        broken=verdict.outcome == "crashed",
        outcome=verdict.outcome,
        cause=verdict.cause,
    )


def bound_minter(idp: MockIdP, key: ProofKey, client_id: str) -> Callable[[ApiTarget, tuple[str, ...]], str]:
    """Mints check-api's tokens bound to ``key``, broken by the named catalog defects."""

    def mint(target: ApiTarget, defects: tuple[str, ...]) -> str:
        return idp.issue_token(
            client_id=client_id,
            audience=target.audience,
            scope=target.scope,
            claims={"cnf": {"jkt": key.jkt}},
            defects=list(defects),
        )

    return mint
