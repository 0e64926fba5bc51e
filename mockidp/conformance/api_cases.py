"""The cases check-api adds to the catalog: token placement, a cache past ``exp``, and SSRF.

None of these is a broken token: a valid token sent where it should not be accepted
(RFC 6750 §2.2, §2.3), a short-lived token sent again once expired, and the IdP's journal
watched for requests to the attacker's ``jku``/``x5u`` URLs while each case runs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..clock import wall_time
from ..defects.attacker import ATTACKER_PATH
from ..errors import TargetUnreachable, Unreachable
from .api_send import ApiTarget, Sender, judge, send_case
from .case import Case
from .probe import Where, send

if TYPE_CHECKING:
    from ..server import MockIdP

PLACEMENTS: tuple[tuple[Where, str, str], ...] = (
    ("query", "token-in-query", "RFC 6750 §2.3; OAuth 2.1 §5.2"),
    ("body", "token-in-body", "RFC 6750 §2.2; OAuth 2.1 §5.2"),
)
BODY_METHODS = ("POST", "PUT", "PATCH")
EXPIRY_SPEC = "RFC 9068 §4; RFC 7519 §4.1.4"
SSRF_SPEC = "RFC 8725 §3.10"
#: how long after ``exp`` the expired token is sent again (exp has 1 s resolution)
AFTER_EXP = 0.3


def placement_cases(target: ApiTarget, token: Callable[[], str], allowed: Collection[str]) -> list[Case]:
    """A valid token only as ``?access_token=`` and only as a form field: both must be refused.

    Any refusal passes (a GET endpoint may well answer the form POST with 405); accepting is a
    ``should`` finding unless the API documents that placement (``allowed``).
    """
    cases = []
    for where, name, spec in PLACEMENTS:
        method = target.method if where == "query" or target.method in BODY_METHODS else "POST"
        case = send_case(
            target, name, token(), 401, None, "should", spec, cause=name, where=where, method=method
        )
        if case.result in ("accepted", "refused-differently") and where in allowed:
            case = _passed(case, f"{case.got}: the API documents tokens in the {where} (--allow-token-in)")
        elif case.result == "refused-differently":
            case = _passed(case, "")
        cases.append(case)
    return cases


def _passed(case: Case, detail: str) -> Case:
    return dataclasses.replace(case, passed=True, outcome="passed", detail=detail, cause="")


def expired_after_cache(
    idp: MockIdP,
    target: ApiTarget,
    client_id: str,
    *,
    sender: Sender | None = None,
    claims: Mapping[str, object] | None = None,
) -> Case:
    """A token that lives 1-2 s, accepted, then sent again just after its ``exp`` (< 3 s in all).

    A fresh token with the same ``exp``, never seen before, is sent alongside: if the API
    accepts that one too, its leeway covers the wait and nothing can be judged; if it refuses
    it but accepts the one it saw before, it answered from a cache that outlived ``exp``.
    ``sender`` and ``claims`` present the tokens another way (a DPoP run binds and proves them).
    """
    deliver: Sender = sender or (lambda url, method, token: send(url, method, token))
    now = wall_time()
    exp = int(now) + 2

    def short_lived() -> str:
        times = {**(claims or {}), "exp": exp, "iat": int(now)}
        return idp.issue_token(
            client_id=client_id, audience=target.audience, scope=target.scope, claims=times
        )

    seen, control = short_lived(), short_lived()
    base = Case(
        name="expired-after-cache",
        passed=True,
        severity="must",
        expected_status=401,
        expected_error="invalid_token",
        spec=EXPIRY_SPEC,
        cause="exp-cache",
    )
    try:
        first = deliver(target.url, target.method, seen)
        if not 200 <= first.status < 300:
            verdict = judge(first, None, None)
            if verdict.outcome == "crashed":
                return _crashed(base, verdict.detail, first.describe())
            return dataclasses.replace(
                base,
                outcome="passed",
                got=first.describe(),
                detail="the short-lived token was refused at once",
            )
        time.sleep(max(0.0, exp + AFTER_EXP - wall_time()))
        again = deliver(target.url, target.method, seen)
        fresh = deliver(target.url, target.method, control)
    except Unreachable as exc:
        raise TargetUnreachable(str(exc)) from None
    for answer in (again, fresh):
        verdict = judge(answer, None, None)
        if verdict.outcome == "crashed":
            return _crashed(base, verdict.detail, answer.describe())
    again_ok, fresh_ok = 200 <= again.status < 300, 200 <= fresh.status < 300
    got = f"{again.describe()} (unseen token: {fresh.describe()})"
    if again_ok and not fresh_ok:
        detail = (
            f"accepted {AFTER_EXP:g} s after its exp, while an unseen token with the same exp was "
            "refused: a cached validation outlived exp"
        )
        return dataclasses.replace(base, passed=False, outcome="accepted", got=got, detail=detail)
    detail = "leeway covers the wait: not judged" if again_ok else ""
    return dataclasses.replace(base, outcome="passed", got=got, detail=detail, cause="")


def _crashed(base: Case, detail: str, got: str) -> Case:
    return dataclasses.replace(
        base, passed=False, outcome="crashed", broken=True, detail=detail, got=got, cause="crash"
    )


class AttackerWatch:
    """Spots requests to the attacker URLs (``jku``/``x5u``) in the IdP's journal during a case."""

    def __init__(self, idp: MockIdP) -> None:
        self._idp = idp
        parts = urlsplit(idp.issuer)
        self._origin = f"{parts.scheme}://{parts.netloc}"

    def _fetches(self) -> dict[int, str]:
        return {id(r): r.path for r in self._idp.state.journal.snapshot() if ATTACKER_PATH in r.path}

    def mark(self) -> set[int]:
        return set(self._fetches())

    def judge(self, case: Case, mark: set[int]) -> Case:
        """``case``, failed as a ``must`` when the API fetched an attacker URL since ``mark``."""
        fetched = [path for key, path in self._fetches().items() if key not in mark]
        if not fetched:
            return case
        urls = ", ".join(sorted({self._origin + path for path in fetched}))
        detail = (
            f"fetched {urls}, a URL the token named (server-side request forgery), then answered {case.got}"
        )
        return dataclasses.replace(
            case,
            passed=False,
            outcome="accepted",
            severity="must",
            detail=detail,
            cause="ssrf",
            spec=SSRF_SPEC,
        )
