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
from .polling import PollingRequests

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


@dataclass(frozen=True, slots=True)
class RegistrationRecord:
    """What RFC 7592 needs of a registered client: its registration access token (kept here
    only: the journal redacts it) and its client information as last registered."""

    access_token: str
    metadata: dict[str, Any]


class Store:
    """Clients, users, APIs and issued tokens, behind one private lock (read by the test thread)."""

    def __init__(self, config: IdPConfig) -> None:
        self._lock = threading.RLock()
        self._clients: dict[str, ClientConfig] = {}
        #: clients resolved from client ID metadata documents (``mockidp.client_documents``)
        self._document_clients: dict[str, ClientConfig] = {}
        self._users: dict[str, UserConfig] = {}
        self._apis: dict[str, ApiConfig] = {}
        self._tokens: dict[str, IssuedToken] = {}
        #: grants revoked so far: a token of one remembered later (a grant still being issued on
        #: another thread when a replay revoked it) is born revoked
        self._revoked_grants: set[str] = set()
        self._prune_at = PRUNE_AT
        #: (issuer, jti) of single-use assertions seen, with when each expires
        self._seen_jtis: dict[tuple[str, str], float] = {}
        #: RFC 7592 registration records of dynamically registered clients, by client_id
        self._registrations: dict[str, RegistrationRecord] = {}
        #: codes, refresh tokens, sign-ins and pending authorizations of the user flows
        self.grants = Grants()
        #: device-flow and CIBA requests waiting for a person (``mockidp.polling``)
        self.polls = PollingRequests()
        self.load(config)

    def load(self, config: IdPConfig) -> None:
        with self._lock:
            self._clients = {c.client_id: c for c in config.clients}
            self._document_clients = {}
            users: Iterable[UserConfig] = config.users or generated_users(config.seed, config.generated_users)
            self._users = {u.sub: u for u in users}
            self._apis = {a.audience: a for a in config.apis}
            self._tokens = {}
            self._revoked_grants = set()
            self._seen_jtis = {}
            self._registrations = {}
            self.grants.clear()
            self.polls.clear()

    # --- registrations: lookups -------------------------------------------------------------

    def client(self, client_id: str) -> ClientConfig | None:
        """A registered client, else the last client resolved from a metadata document."""
        with self._lock:
            return self._clients.get(client_id) or self._document_clients.get(client_id)

    def is_registered(self, client_id: str) -> bool:
        """Registered (config, library, control API, RFC 7591), not resolved from a document."""
        with self._lock:
            return client_id in self._clients

    def is_document_client(self, client_id: str) -> bool:
        with self._lock:
            return client_id not in self._clients and client_id in self._document_clients

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

    def remember_document_client(self, client: ClientConfig) -> ClientConfig:
        """Keep the client a metadata document resolved to (replacing its earlier version); it
        gets the checks a config file's client gets. Not listed by :meth:`clients`."""
        with self._lock:
            self.check_client(client, client.client_id)
            self._document_clients[client.client_id] = client
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
            self._registrations.pop(client_id, None)
            return self._clients.pop(client_id, None)

    # --- dynamic registrations (RFC 7591 / 7592) ---------------------------------------------

    def add_registration(self, client: ClientConfig, record: RegistrationRecord) -> ClientConfig:
        """Register (or update) a dynamically registered client together with its RFC 7592 record."""
        with self._lock:
            self.add_client(client)
            self._registrations[client.client_id] = record
        return client

    def registration(self, client_id: str) -> RegistrationRecord | None:
        """The RFC 7592 record of a dynamically registered client still registered, if any."""
        with self._lock:
            if client_id not in self._clients:
                return None
            return self._registrations.get(client_id)

    # --- single-use ids -----------------------------------------------------------------------

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
        self.polls.prune(now)

    def revoke_token(self, jti: str) -> bool:
        """Revoke one token; returns whether it was known and still active."""
        with self._lock:
            token = self._tokens.get(jti)
            if token is None or token.revoked:
                return False
            token.revoked = True
            return True

    def revoke_client_tokens(self, client_id: str) -> int:
        """Revoke every remembered token issued to ``client_id``; returns how many were active."""
        count = 0
        with self._lock:
            for token in self._tokens.values():
                if token.client_id == client_id and not token.revoked:
                    token.revoked = True
                    count += 1
        return count

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

    def jti_seen(self, issuer: str, jti: str, now: float) -> bool:
        """Whether ``issuer``'s ``jti`` was already used and is still remembered (no change):
        a replay can be refused early, and the ``jti`` spent only once a token is issued."""
        with self._lock:
            seen = self._seen_jtis.get((issuer, jti))
            return seen is not None and seen >= now

    def remember_jti(self, issuer: str, jti: str, expires_at: float, now: float | None = None) -> bool:
        """Record a single-use ``jti`` (RFC 7523 §3 item 7, OIDC Core §9, RFC 9449 §11.1) until it
        expires; ``False`` if ``issuer`` already used it (a replay). Any one-time JWT may use it
        (a jwt-bearer grant, a client assertion, a DPoP proof scoped to one endpoint or API): the
        key is the pair.

        ``now`` (the IdP's clock) lets expired entries be forgotten: the assertion's own ``exp``
        refuses them anyway. Past :data:`PRUNE_AT` entries the soonest-expiring go first.
        """
        with self._lock:
            key = (issuer, jti)
            seen = self._seen_jtis.get(key)
            if seen is not None and (now is None or seen >= now):
                return False
            if len(self._seen_jtis) >= PRUNE_AT:
                live = {k: t for k, t in self._seen_jtis.items() if now is None or t >= now}
                if len(live) >= PRUNE_AT:
                    live = dict(sorted(live.items(), key=lambda item: item[1])[PRUNE_AT // 2 :])
                self._seen_jtis = live
            self._seen_jtis[key] = expires_at
            return True

    def is_revoked(self, jti: str) -> bool:
        with self._lock:
            token = self._tokens.get(jti)
            return token is not None and token.revoked
