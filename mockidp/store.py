"""In-memory state of one IdP: registrations, and everything issued from them.

The registries start from the config and can grow at run time (``add_client`` and friends);
``reset()`` returns them to the config. Nothing is shared between IdPs.

Every reader and writer goes through the methods below: the dicts and the lock are private,
so the test thread and the server's loop thread never see a half-made change, and every path
that registers a client (library, control API, RFC 7591, mock APIs) gets the same checks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import ApiConfig, ClientConfig, IdPConfig, UserConfig, _check_client
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
    """Clients, users, APIs and issued tokens, behind one private lock (read by the test thread)."""

    def __init__(self, config: IdPConfig) -> None:
        self._lock = threading.RLock()
        self._clients: dict[str, ClientConfig] = {}
        self._users: dict[str, UserConfig] = {}
        self._apis: dict[str, ApiConfig] = {}
        self._tokens: dict[str, IssuedToken] = {}
        #: grants revoked so far: a token of one remembered later (a grant still being issued on
        #: another thread when a replay revoked it) is born revoked
        self._revoked_grants: set[str] = set()
        self._prune_at = PRUNE_AT
        #: one-time identifiers seen so far ((scope, jti) -> until when), e.g. DPoP proofs' ``jti``
        self._jtis: dict[tuple[str, str], float] = {}
        self._jti_prune_at = PRUNE_AT
        #: codes, refresh tokens, sign-ins and pending authorizations of the user flows
        self.grants = Grants()
        self.load(config)

    def load(self, config: IdPConfig) -> None:
        with self._lock:
            self._clients = {c.client_id: c for c in config.clients}
            users: Iterable[UserConfig] = config.users or generated_users(config.seed, config.generated_users)
            self._users = {u.sub: u for u in users}
            self._apis = {a.audience: a for a in config.apis}
            self._tokens = {}
            self._revoked_grants = set()
            self._jtis = {}
            self._jti_prune_at = PRUNE_AT
            self.grants.clear()

    # --- registrations: lookups -------------------------------------------------------------

    def client(self, client_id: str) -> ClientConfig | None:
        with self._lock:
            return self._clients.get(client_id)

    def user(self, sub: str) -> UserConfig | None:
        with self._lock:
            return self._users.get(sub)

    def api(self, audience: str) -> ApiConfig | None:
        with self._lock:
            return self._apis.get(audience)

    def clients(self) -> dict[str, ClientConfig]:
        """A snapshot, in registration order (later changes do not show in it)."""
        with self._lock:
            return dict(self._clients)

    def users(self) -> dict[str, UserConfig]:
        """A snapshot, in registration order."""
        with self._lock:
            return dict(self._users)

    def apis(self) -> dict[str, ApiConfig]:
        """A snapshot, in registration order."""
        with self._lock:
            return dict(self._apis)

    def apis_for(self, audiences: Iterable[str]) -> list[ApiConfig]:
        """The registered APIs among ``audiences``, in that order (others, such as the issuer, skipped)."""
        with self._lock:
            return [self._apis[a] for a in audiences if a in self._apis]

    def api_scopes(self) -> set[str]:
        """Every scope some registered API defines."""
        with self._lock:
            return {s for api in self._apis.values() for s in api.scopes}

    def user_by_login(self, name: str) -> UserConfig | None:
        """A user by ``sub`` or ``username``."""
        with self._lock:
            if name in self._users:
                return self._users[name]
            for user in self._users.values():
                if user.login_name == name:
                    return user
            return None

    # --- registrations: changes -------------------------------------------------------------

    def check_client(self, client: ClientConfig, path: str = "clients") -> None:
        """The cross-field checks a config file's client gets (a public ``client_credentials``
        client, audiences that are not registered APIs...); raises ``ConfigError`` at ``path``."""
        with self._lock:
            _check_client(client, path, set(self._apis))

    def add_client(self, client: ClientConfig, path: str = "clients") -> ClientConfig:
        """Register (or replace) ``client`` once it passes :meth:`check_client`."""
        with self._lock:
            self.check_client(client, path)
            self._clients[client.client_id] = client
        return client

    def add_user(self, user: UserConfig) -> UserConfig:
        with self._lock:
            self._users[user.sub] = user
        return user

    def add_api(self, api: ApiConfig) -> ApiConfig:
        with self._lock:
            self._apis[api.audience] = api
        return api

    def remove_client(self, client_id: str) -> ClientConfig | None:
        """Forget a client (its issued tokens stay as they are); returns it, if it was there."""
        with self._lock:
            return self._clients.pop(client_id, None)

    def remove_user(self, sub: str) -> UserConfig | None:
        with self._lock:
            return self._users.pop(sub, None)

    def remove_api(self, audience: str) -> ApiConfig | None:
        with self._lock:
            return self._apis.pop(audience, None)

    # --- issued tokens ----------------------------------------------------------------------

    def remember(self, token: IssuedToken) -> None:
        """Keep ``token``; past a high-water mark, forget what has expired (a long-running server
        under load would otherwise grow without bound). Expired tokens are inactive anyway, so
        forgetting them changes no answer."""
        with self._lock:
            if token.grant_id is not None and token.grant_id in self._revoked_grants:
                token.revoked = True
            self._tokens[token.jti] = token
            if len(self._tokens) >= self._prune_at:
                self.prune(token.issued_at)

    def token(self, jti: str) -> IssuedToken | None:
        """The record of an issued token (its ``revoked`` flag changes only through this store)."""
        with self._lock:
            return self._tokens.get(jti)

    def tokens(self) -> dict[str, IssuedToken]:
        """A snapshot of the remembered tokens, by ``jti``."""
        with self._lock:
            return dict(self._tokens)

    def prune(self, now: float) -> None:
        """Forget tokens, codes and refresh records that expired before ``now``."""
        with self._lock:
            self._tokens = {jti: t for jti, t in self._tokens.items() if t.expires_at >= now}
            self._prune_at = max(PRUNE_AT, 2 * len(self._tokens))
        self.grants.prune(now)

    def revoke_token(self, jti: str) -> bool:
        """Revoke one token; returns whether it was known and still active."""
        with self._lock:
            token = self._tokens.get(jti)
            if token is None or token.revoked:
                return False
            token.revoked = True
            return True

    def revoke_grant(self, grant_id: str) -> int:
        """Revoke every token of a grant; returns how many were still active."""
        count = 0
        with self._lock:
            self._revoked_grants.add(grant_id)
            for token in self._tokens.values():
                if token.grant_id == grant_id and not token.revoked:
                    token.revoked = True
                    count += 1
        return count

    def remember_jti(self, scope: str, jti: str, expires_at: float, now: float | None = None) -> bool:
        """Note a one-time ``jti`` within ``scope`` (one endpoint, one API) until ``expires_at``.

        Returns False when it was already seen there and is still remembered: a replay. ``now``
        lets the store forget entries that expired (their age refuses them anyway); memory stays
        bounded by forgetting the oldest past a high-water mark.
        """
        key = (scope, jti)
        with self._lock:
            if now is not None:
                if key in self._jtis and self._jtis[key] < now:
                    del self._jtis[key]
                if len(self._jtis) >= self._jti_prune_at:  # amortised: the threshold doubles
                    self._jtis = {k: t for k, t in self._jtis.items() if t >= now}
                    self._jti_prune_at = max(PRUNE_AT, 2 * len(self._jtis))
            if key in self._jtis:
                return False
            if len(self._jtis) >= 10 * PRUNE_AT:  # a hard bound: forget the oldest half
                keep = sorted(self._jtis.items(), key=lambda item: item[1])[len(self._jtis) // 2 :]
                self._jtis = dict(keep)
            self._jtis[key] = expires_at
            return True

    def is_revoked(self, jti: str) -> bool:
        with self._lock:
            token = self._tokens.get(jti)
            return token is not None and token.revoked
