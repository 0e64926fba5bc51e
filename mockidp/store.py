"""In-memory state of one IdP: registrations, and everything issued from them.

The registries start from the config and can grow at run time (``add_client`` and friends);
``reset()`` returns them to the config. Nothing is shared between IdPs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import ApiConfig, ClientConfig, IdPConfig, UserConfig
from .grants import Grants
from .people import generated_users

#: how many issued tokens to keep before forgetting the expired ones
PRUNE_AT = 10_000


@dataclass(slots=True, kw_only=True)
class IssuedToken:
    """What the IdP remembers of a token it issued (for introspection and revocation)."""

    jti: str
    kind: str  # "access" | "refresh" | "id"
    client_id: str
    subject: str
    scope: tuple[str, ...]
    audiences: tuple[str, ...]
    issued_at: int
    expires_at: int
    claims: dict[str, Any] = field(default_factory=dict)
    #: groups tokens that must be revoked together (a code's tokens, a refresh family)
    grant_id: str | None = None
    revoked: bool = False


class Store:
    """Clients, users, APIs and issued tokens, behind one lock (read by the test thread)."""

    def __init__(self, config: IdPConfig) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, ClientConfig] = {}
        self.users: dict[str, UserConfig] = {}
        self.apis: dict[str, ApiConfig] = {}
        self.tokens: dict[str, IssuedToken] = {}
        #: grants revoked so far: a token of one remembered later (a grant still being issued on
        #: another thread when a replay revoked it) is born revoked
        self._revoked_grants: set[str] = set()
        self._prune_at = PRUNE_AT
        #: codes, refresh tokens, sign-ins and pending authorizations of the user flows
        self.grants = Grants()
        self.load(config)

    def load(self, config: IdPConfig) -> None:
        with self.lock:
            self.clients = {c.client_id: c for c in config.clients}
            users: Iterable[UserConfig] = config.users or generated_users(config.seed, config.generated_users)
            self.users = {u.sub: u for u in users}
            self.apis = {a.audience: a for a in config.apis}
            self.tokens = {}
            self._revoked_grants = set()
            self.grants.clear()

    def user_by_login(self, name: str) -> UserConfig | None:
        """A user by ``sub`` or ``username``."""
        with self.lock:
            if name in self.users:
                return self.users[name]
            for user in self.users.values():
                if user.login_name == name:
                    return user
            return None

    def remember(self, token: IssuedToken) -> None:
        """Keep ``token``; past a high-water mark, forget what has expired (a long-running server
        under load would otherwise grow without bound). Expired tokens are inactive anyway, so
        forgetting them changes no answer."""
        with self.lock:
            if token.grant_id is not None and token.grant_id in self._revoked_grants:
                token.revoked = True
            self.tokens[token.jti] = token
            if len(self.tokens) >= self._prune_at:
                self.prune(token.issued_at)

    def prune(self, now: float) -> None:
        """Forget tokens, codes and refresh records that expired before ``now``."""
        with self.lock:
            self.tokens = {jti: t for jti, t in self.tokens.items() if t.expires_at >= now}
            self._prune_at = max(PRUNE_AT, 2 * len(self.tokens))
        self.grants.prune(now)

    def revoke_grant(self, grant_id: str) -> int:
        """Revoke every token of a grant; returns how many were still active."""
        count = 0
        with self.lock:
            self._revoked_grants.add(grant_id)
            for token in self.tokens.values():
                if token.grant_id == grant_id and not token.revoked:
                    token.revoked = True
                    count += 1
        return count

    def is_revoked(self, jti: str) -> bool:
        with self.lock:
            token = self.tokens.get(jti)
            return token is not None and token.revoked
