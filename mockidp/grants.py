"""What the user flows remember between requests: codes, refresh tokens, sign-ins, consents.

Kept apart from the token records in ``store.py`` because these are keyed by secrets the
client holds (a code, a refresh token, a session cookie, a transaction id) and have their
own lifetimes. ``Store.load()`` (and so ``reset()``) empties them.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

#: a pending sign-in (login and consent pages) lives this long
TRANSACTION_TTL = 600
#: at most this many pending sign-ins; the oldest are dropped first (bounded memory)
MAX_TRANSACTIONS = 1000


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def token_key(token: str) -> str:
    """The store key for an opaque token, so the raw secret is not what the registries index."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """A validated authorization request (everything a code must stay bound to)."""

    client_id: str
    redirect_uri: str
    #: whether the client sent ``redirect_uri`` (then the token request must repeat it)
    redirect_uri_sent: bool
    scopes: tuple[str, ...]
    audiences: tuple[str, ...]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    login_hint: str | None = None
    prompt: tuple[str, ...] = ()
    #: OIDC ``max_age``: a sign-in older than this many seconds must be repeated
    max_age: int | None = None
    #: ``sub`` of a valid ``id_token_hint``: the user the client expects to be signed in
    hinted_subject: str | None = None
    #: the sign-in levels asked for, preferred first (``acr_values``, or the ``claims`` parameter)
    acr_values: tuple[str, ...] = ()
    #: claims the ``claims`` parameter asks for (OIDC Core 5.5), beyond what the scopes release
    id_token_claims: tuple[str, ...] = ()
    userinfo_claims: tuple[str, ...] = ()
    #: RFC 9449 §10: the DPoP key the code's token request must prove (``dpop_jkt``)
    dpop_jkt: str | None = None

    @property
    def is_oidc(self) -> bool:
        return "openid" in self.scopes


@dataclass(slots=True, kw_only=True)
class AuthorizationCode:
    """An issued code: single use, short-lived, bound to client, redirect URI and PKCE."""

    request: AuthorizationRequest
    subject: str
    auth_time: float
    expires_at: float
    #: every token issued from this code (and its refresh family) carries this grant id
    grant_id: str
    used: bool = False
    #: the sign-in level (``acr``), when the IdP has levels
    acr: str | None = None


@dataclass(slots=True, kw_only=True)
class RefreshRecord:
    """One refresh token of a family; ``rotated`` once it has been exchanged."""

    family: str
    client_id: str
    subject: str
    #: the ceiling a refresh may narrow but never widen
    scopes: tuple[str, ...]
    audiences: tuple[str, ...]
    auth_time: float
    expires_at: float
    jti: str
    rotated: bool = False
    acr: str | None = None
    #: RFC 9449 §5: the DPoP key a public client's refresh token is bound to
    jkt: str | None = None
    #: claims the ``claims`` request parameter asked for in the ID token (OIDC Core 5.5): a
    #: refreshed ID token carries them too
    id_token_claims: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class LoginSession:
    """A signed-in browser (the ``mockidp_session`` cookie) and what it consented to."""

    subject: str
    auth_time: float
    consents: dict[str, set[str]] = field(default_factory=dict)
    acr: str | None = None

    def has_consented(self, client_id: str, scopes: tuple[str, ...]) -> bool:
        return set(scopes) <= self.consents.get(client_id, set())


@dataclass(slots=True, kw_only=True)
class PendingAuthorization:
    """An authorization waiting on the login and consent pages, keyed by a transaction id."""

    request: AuthorizationRequest
    expires_at: float
    subject: str | None = None
    auth_time: float | None = None
    acr: str | None = None
    #: hash of the browser key cookie set when it started: only that browser may finish it
    browser: str | None = None


class Grants:
    """The registries of the user flows, behind one private lock: callers use the methods,
    which make each check-and-mark (a code's single use, a refresh rotation) atomic."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._codes: dict[str, AuthorizationCode] = {}
        self._refresh: dict[str, RefreshRecord] = {}
        self._sessions: dict[str, LoginSession] = {}
        self._pending: OrderedDict[str, PendingAuthorization] = OrderedDict()
        #: grant id -> the claims its ``claims`` parameter asked for at userinfo
        self._userinfo_claims: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._userinfo_claims.clear()
            self._codes.clear()
            self._refresh.clear()
            self._sessions.clear()
            self._pending.clear()

    def prune(self, now: float) -> None:
        """Forget expired codes and refresh records: an expired one is refused either way."""
        with self._lock:
            self._codes = {k: c for k, c in self._codes.items() if c.expires_at >= now}
            self._refresh = {k: r for k, r in self._refresh.items() if r.expires_at >= now}

    def add_code(self, code: str, record: AuthorizationCode) -> None:
        with self._lock:
            self._codes[token_key(code)] = record

    def code(self, code: str) -> AuthorizationCode | None:
        with self._lock:
            return self._codes.get(token_key(code))

    def consume_code(self, record: AuthorizationCode) -> bool:
        """Mark the code used; returns whether it already was (a replay)."""
        with self._lock:
            replay = record.used
            record.used = True
            return replay

    def codes(self) -> dict[str, AuthorizationCode]:
        """A snapshot of the live codes (keyed by the code's hash)."""
        with self._lock:
            return dict(self._codes)

    def add_refresh(self, token: str, record: RefreshRecord) -> None:
        with self._lock:
            self._refresh[token_key(token)] = record

    def refresh_record(self, token: str) -> RefreshRecord | None:
        with self._lock:
            return self._refresh.get(token_key(token))

    def rotate_refresh(self, record: RefreshRecord) -> bool:
        """Mark the refresh token exchanged; returns whether it already was (a reuse)."""
        with self._lock:
            reused = record.rotated
            record.rotated = True
            return reused

    def start(self, pending: PendingAuthorization) -> str:
        """Remember a pending authorization; returns its transaction id."""
        txn = new_id("txn")
        with self._lock:
            self._pending[txn] = pending
            while len(self._pending) > MAX_TRANSACTIONS:
                self._pending.popitem(last=False)
        return txn

    def transaction(self, txn: str, now: float) -> PendingAuthorization | None:
        with self._lock:
            pending = self._pending.get(txn)
            if pending is not None and pending.expires_at <= now:
                del self._pending[txn]
                return None
            return pending

    def finish(self, txn: str) -> None:
        with self._lock:
            self._pending.pop(txn, None)

    def sign_in(self, subject: str, auth_time: float, acr: str | None = None) -> str:
        sid = new_id("sid")
        with self._lock:
            self._sessions[sid] = LoginSession(subject=subject, auth_time=auth_time, acr=acr)
        return sid

    def remember_userinfo_claims(self, grant_id: str, names: tuple[str, ...]) -> None:
        """What userinfo releases beyond the scopes for ``grant_id`` (bounded like pending)."""
        with self._lock:
            self._userinfo_claims[grant_id] = names
            while len(self._userinfo_claims) > MAX_TRANSACTIONS * 10:
                self._userinfo_claims.popitem(last=False)

    def requested_userinfo_claims(self, grant_id: str | None) -> tuple[str, ...]:
        with self._lock:
            return self._userinfo_claims.get(grant_id or "", ())

    def session(self, sid: str | None) -> LoginSession | None:
        if not sid:
            return None
        with self._lock:
            return self._sessions.get(sid)

    def sessions(self) -> dict[str, LoginSession]:
        """A snapshot of the signed-in browsers, by session id."""
        with self._lock:
            return dict(self._sessions)

    def add_consent(self, session: LoginSession, client_id: str, scopes: tuple[str, ...]) -> None:
        """Remember that the session's user consented to ``scopes`` for ``client_id``."""
        with self._lock:
            session.consents.setdefault(client_id, set()).update(scopes)

    def sign_out(self, sid: str | None = None, *, subject: str | None = None) -> int:
        """End one session, or every session of ``subject``; returns how many ended."""
        with self._lock:
            doomed = [
                key
                for key, value in self._sessions.items()
                if key == sid or (subject is not None and value.subject == subject)
            ]
            for key in doomed:
                del self._sessions[key]
            return len(doomed)
