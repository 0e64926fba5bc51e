"""The polling engine shared by the device flow (RFC 8628) and CIBA poll mode (CIBA Core 1.0).

Both grants hand the client a secret (``device_code``, ``auth_req_id``) and make it poll the
token endpoint until a person decides. One engine answers every poll the same way:
``authorization_pending`` while undecided, ``slow_down`` (and 5 more seconds of interval from
then on, RFC 8628 section 3.5, CIBA section 11) when polled faster than the interval,
``access_denied`` once denied, ``expired_token`` after ``expires_in``, and the approved request
exactly once. A poll counts as soon enough when the interval has passed by the wall clock or by
the IdP's clock (so a test that advances a frozen clock need not sleep).

The requests live here, behind one private lock, bounded in number (the oldest go first) and
emptied on reset; nothing else touches them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import AccessDenied, AuthorizationPending, ExpiredToken, InvalidGrant, OAuthError, SlowDown
from .grants import new_id, token_key

#: at most this many polled requests (device and CIBA together); the oldest are dropped first
MAX_REQUESTS = 1000
#: at most this many verification-page transactions
MAX_PAGES = 1000
#: RFC 8628 section 3.5 / CIBA section 11: the increase after each ``slow_down``
SLOW_DOWN_STEP = 5
#: a poll this much early still counts as on time (timer granularity on the client)
POLL_LEEWAY = 0.1
#: RFC 8628 section 6.1: consonants only (no vowels: no words), unambiguous when read aloud
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
#: an expired request is forgotten this long after it expired (polls meanwhile: expired_token)
FORGET_AFTER = 600
#: each request remembers at most this many polls (check-agent judges the spacing)
MAX_ANSWERS = 100

Kind = Literal["device", "ciba"]
Status = Literal["pending", "approved", "denied", "issued"]
Decision = Literal["approve", "deny"]


@dataclass(slots=True, kw_only=True)
class PolledRequest:
    """One device authorization or CIBA request, from its start to its single redemption."""

    kind: Kind
    client_id: str
    scopes: tuple[str, ...]
    audiences: tuple[str, ...]
    expires_at: float
    interval: int
    #: a handle for the control API and the pages; not a credential
    id: str = field(default_factory=lambda: new_id("poll"))
    #: the person who approves (set at the start when a hint names them, else on approval)
    subject: str | None = None
    #: RFC 9396 authorization details, carried into the tokens and introspection
    authorization_details: tuple[Mapping[str, Any], ...] | None = None
    #: CIBA: the text the person's device shows next to the request
    binding_message: str | None = None
    #: device flow: the code the person types (formatted ``XXXX-XXXX``)
    user_code: str | None = None
    login_hint: str | None = None
    #: the sign-in level asked for (``acr_values``), when the IdP has levels
    acr: str | None = None
    #: the automatic decision and after how many polls it comes (None: a person or the control API)
    auto: Decision | None = None
    decide_after_polls: int = 0
    status: Status = "pending"
    auth_time: float | None = None
    #: well-spaced polls so far (a ``slow_down`` does not count)
    polls: int = 0
    #: (monotonic, IdP clock) of the previous poll
    last_poll: tuple[float, float] | None = None
    #: this many more polls answer ``slow_down`` however well spaced (a busy server's right)
    forced_slow_downs: int = 0
    #: (IdP clock, answer, the interval from then on) of each poll, oldest first
    answers: list[tuple[float, str, int]] = field(default_factory=list)

    def to_dict(self, now: float) -> dict[str, Any]:
        """What the control API shows (never the device code or auth_req_id)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "client_id": self.client_id,
            "status": "expired" if self.status == "pending" and now >= self.expires_at else self.status,
            "subject": self.subject,
            "login_hint": self.login_hint,
            "scope": " ".join(self.scopes),
            "user_code": self.user_code,
            "binding_message": self.binding_message,
            "authorization_details": list(self.authorization_details)
            if self.authorization_details is not None
            else None,
            "interval": self.interval,
            "polls": self.polls,
            "expires_in": max(0, int(self.expires_at - now)),
            "answers": [
                {"at": at, "answer": answer, "interval": interval} for at, answer, interval in self.answers
            ],
        }


@dataclass(frozen=True, slots=True)
class SignIn:
    """Who approved, when they signed in, and how strongly."""

    subject: str
    auth_time: float
    acr: str | None = None


@dataclass(slots=True, kw_only=True)
class VerificationPage:
    """A person working through the device verification pages in one browser."""

    request_id: str
    #: hash of the browser key cookie: only that browser may finish it
    browser: str
    expires_at: float
    subject: str | None = None
    auth_time: float | None = None
    acr: str | None = None


def new_user_code() -> str:
    chars = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_user_code(typed: str) -> str:
    """What a person typed, as the code was issued: case, dashes and spaces do not matter."""
    chars = "".join(c for c in typed.upper() if c in USER_CODE_ALPHABET)[: USER_CODE_LENGTH + 1]
    return f"{chars[:4]}-{chars[4:]}" if len(chars) == USER_CODE_LENGTH else ""


class PollingRequests:
    """Every polled request of one IdP, keyed by the hash of its secret; one private lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._requests: OrderedDict[str, PolledRequest] = OrderedDict()
        self._by_id: dict[str, str] = {}
        self._by_user_code: dict[str, str] = {}
        self._pages: OrderedDict[str, VerificationPage] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._by_id.clear()
            self._by_user_code.clear()
            self._pages.clear()

    def start(self, request: PolledRequest, prefix: str) -> str:
        """Remember ``request``; returns its secret (the ``device_code`` or ``auth_req_id``)."""
        secret = f"{prefix}_{secrets.token_urlsafe(32)}"
        key = token_key(secret)
        with self._lock:
            if request.kind == "device":
                code = new_user_code()
                while code in self._by_user_code:
                    code = new_user_code()
                request.user_code = code
                self._by_user_code[code] = key
            self._requests[key] = request
            self._by_id[request.id] = key
            while len(self._requests) > MAX_REQUESTS:
                self._forget(next(iter(self._requests)))
        return secret

    def _forget(self, key: str) -> None:
        request = self._requests.pop(key)
        self._by_id.pop(request.id, None)
        if request.user_code is not None:
            self._by_user_code.pop(request.user_code, None)

    def prune(self, now: float) -> None:
        """Forget requests long expired or already redeemed, and stale page transactions."""
        with self._lock:
            doomed = [
                k
                for k, r in self._requests.items()
                if r.status == "issued" or r.expires_at + FORGET_AFTER < now
            ]
            for key in doomed:
                self._forget(key)
            for txn in [t for t, p in self._pages.items() if p.expires_at <= now]:
                del self._pages[txn]

    # --- the token endpoint -----------------------------------------------------------------

    def poll(self, secret: str, kind: Kind, client_id: str, now: float) -> PolledRequest:
        """One poll: the approved request (once), or the error the client must see."""
        with self._lock:
            request = self._requests.get(token_key(secret))
            if request is None or request.kind != kind or request.client_id != client_id:
                raise InvalidGrant(f"unknown {_secret_name(kind)}, or one issued to another client")
            try:
                self._answer(request, now)
            except OAuthError as exc:
                self._record(request, now, exc.error)
                raise
            self._record(request, now, "tokens")
            return request

    @staticmethod
    def _record(request: PolledRequest, now: float, answer: str) -> None:
        if len(request.answers) < MAX_ANSWERS:
            request.answers.append((now, answer, request.interval))

    def _answer(self, request: PolledRequest, now: float) -> None:
        name = _secret_name(request.kind)
        if request.status == "issued":
            raise InvalidGrant(f"the {name} was already redeemed")
        if now >= request.expires_at:
            raise ExpiredToken(f"the {name} has expired; start again")
        if request.status == "denied":
            raise AccessDenied("the person denied the request")
        self._pace(request, now)
        status = self._status_after_poll(request, now)
        if status == "denied":
            raise AccessDenied("the person denied the request")
        if status == "pending":
            raise AuthorizationPending("the person has not decided yet; poll again after the interval")
        request.status = "issued"

    def _status_after_poll(self, request: PolledRequest, now: float) -> Status:
        """The automatic decision comes once ``decide_after_polls`` polls were answered pending."""
        auto = request.auto
        if request.status == "pending" and auto is not None and request.polls > request.decide_after_polls:
            self._decide(request, auto, now)
        return request.status

    def _pace(self, request: PolledRequest, now: float) -> None:
        wall = time.monotonic()
        previous, request.last_poll = request.last_poll, (wall, now)
        if previous is not None:
            soonest = request.interval - POLL_LEEWAY
            if wall - previous[0] < soonest and now - previous[1] < soonest:
                request.interval += SLOW_DOWN_STEP
                raise SlowDown(
                    f"polled sooner than the interval; wait {request.interval} seconds between polls"
                )
        if request.forced_slow_downs > 0:
            request.forced_slow_downs -= 1
            request.interval += SLOW_DOWN_STEP
            raise SlowDown(f"the server is busy; wait {request.interval} seconds between polls")
        request.polls += 1

    @staticmethod
    def _decide(request: PolledRequest, decision: Decision, now: float) -> None:
        if decision == "approve" and request.subject is not None:
            request.status, request.auth_time = "approved", now
        else:
            request.status = "denied"

    # --- the person (pages, control API) ----------------------------------------------------

    def find(
        self, *, request_id: str | None = None, secret: str | None = None, user_code: str | None = None
    ) -> PolledRequest | None:
        with self._lock:
            if request_id is not None:
                key = self._by_id.get(request_id)
            elif secret is not None:
                key = token_key(secret)
            elif user_code is not None:
                key = self._by_user_code.get(normalize_user_code(user_code))
            else:
                return None
            return self._requests.get(key) if key is not None else None

    def awaiting(self, now: float) -> list[PolledRequest]:
        """The requests still waiting for a decision, oldest first."""
        with self._lock:
            return [r for r in self._requests.values() if r.status == "pending" and now < r.expires_at]

    def snapshot(self) -> list[PolledRequest]:
        with self._lock:
            return list(self._requests.values())

    def decide(
        self, request: PolledRequest, decision: Decision, now: float, *, by: SignIn | None = None
    ) -> bool:
        """Approve (as ``by``'s person, else the hinted one) or deny a pending request; False
        when it was no longer pending."""
        with self._lock:
            if request.status != "pending" or now >= request.expires_at:
                return False
            if decision == "approve" and by is not None:
                request.subject, request.acr = by.subject, by.acr or request.acr
            self._decide(request, decision, by.auth_time if by is not None else now)
            return True

    def expire(self, request: PolledRequest, now: float) -> None:
        """Let the request time out now (the next poll answers ``expired_token``)."""
        with self._lock:
            if request.status != "issued":
                request.expires_at = min(request.expires_at, now)

    def open_page(self, page: VerificationPage) -> str:
        """A verification-page transaction for one browser; returns its id."""
        txn = new_id("dtx")
        with self._lock:
            self._pages[txn] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        return txn

    def page(self, txn: str | None, now: float) -> VerificationPage | None:
        with self._lock:
            page = self._pages.get(txn or "")
            if page is not None and page.expires_at <= now:
                del self._pages[txn or ""]
                return None
            return page

    def sign_in_page(self, page: VerificationPage, subject: str, auth_time: float, acr: str | None) -> None:
        with self._lock:
            page.subject, page.auth_time, page.acr = subject, auth_time, acr

    def close_page(self, txn: str) -> None:
        with self._lock:
            self._pages.pop(txn, None)


def _secret_name(kind: Kind) -> str:
    return "device_code" if kind == "device" else "auth_req_id"
