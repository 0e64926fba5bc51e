"""Everything one running IdP knows, handed to every handler through ``app[STATE]``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from .claims_plan import ClaimsPlan, PlannedClaims
from .client_keys import ClientKeys
from .clock import MockClock
from .config import IdPConfig
from .defects.attacker import AttackerKeys
from .defects.plan import DefectPlan, PlannedDefects, check_planned_defects
from .dpop import Nonces
from .errors import MockIdPError
from .faults import FaultQueue
from .journal import Journal
from .keys import Key, KeyRing
from .misbehaviour import Misbehaviour
from .outbound import DocumentCache
from .store import Store
from .trusted_issuers import TrustedIssuers


@dataclass(slots=True)
class ServerErrors:
    """Unexpected exceptions raised inside handlers: bugs, surfaced to the test that hit them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[BaseException] = field(default_factory=list)

    def add(self, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(exc)

    def take(self) -> list[BaseException]:
        with self.lock:
            taken, self.errors = self.errors, []
            return taken


_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _on_bound_port(issuer: str, base_url: str) -> str:
    """A loopback issuer (of the scheme served) that names another port than the one bound is unreachable as
    written (``--port 0``, a fixture, a copied example): point it at the bound port, keeping its
    host and path. Any other issuer is kept as configured (it may sit behind a proxy)."""
    wanted, bound = urlsplit(issuer), urlsplit(base_url)
    loopback = wanted.hostname in _LOOPBACK_NAMES or (wanted.hostname or "").startswith("127.")
    if wanted.scheme != bound.scheme or not loopback or wanted.port is None or wanted.port == bound.port:
        return issuer
    host = f"[{wanted.hostname}]" if ":" in (wanted.hostname or "") else wanted.hostname
    return urlunsplit((bound.scheme, f"{host}:{bound.port}", wanted.path, "", ""))


class IdPState:
    """Config, registries, keys, clock and journal of one IdP."""

    def __init__(self, config: IdPConfig, signing_key: Key | None = None) -> None:
        check_planned_defects(config)
        self.config = config
        self.store = Store(config)
        self.keys = KeyRing(config.signing_alg, signing_key)
        self.clock = MockClock()
        self.journal = Journal(config.journal_limit)
        self.server_errors = ServerErrors()
        self.misbehaviour = Misbehaviour(config.misbehaviour)
        self.faults = FaultQueue()
        self.faults.load(config.faults)
        config.clock.apply(self.clock)
        #: token defects planned for the token endpoint, and the attacker keys defects sign with
        self.defect_plan = DefectPlan()
        self.defect_plan.configure(
            PlannedDefects(p.defects, p.token, p.client_id, p.times) for p in config.token_defects
        )
        self.attacker = AttackerKeys()
        #: claims planned for the access tokens of the token endpoint
        self.claims_plan = ClaimsPlan()
        self.claims_plan.configure(
            PlannedClaims(dict(p.claims), p.client_id, p.times) for p in config.token_claims
        )
        #: ``private_key_jwt`` clients' keys (``jwks_uri`` documents cached)
        self.client_keys = ClientKeys()
        #: client ID metadata documents fetched so far, each kept for its HTTP cache lifetime
        self.client_documents = DocumentCache()
        #: the keys of ``config.trusted_issuers`` (jwt-bearer grant, token exchange)
        self.trusted = TrustedIssuers()
        #: DPoP server nonces (RFC 9449 §8), when ``dpop.nonce`` demands them
        self.dpop_nonces = Nonces()
        self.issuer = ""

    def bind(self, base_url: str) -> None:
        """Fix the issuer once the listening address is known."""
        configured = self.config.issuer
        if configured is None:
            self.issuer = base_url
        elif configured.startswith("/"):
            self.issuer = base_url + configured.rstrip("/")
        else:
            self.issuer = _on_bound_port(configured, base_url)

    @property
    def issuer_path(self) -> str:
        """The issuer's path ('' or '/tenant-a'); endpoints live below it. Known before binding."""
        configured = self.config.issuer
        if configured is None:
            return ""
        if configured.startswith("/"):
            return configured.rstrip("/")
        return urlsplit(configured).path.rstrip("/")

    def endpoint(self, name: str) -> str:
        return f"{self.issuer.rstrip('/')}/{name}"

    #: config fields fixed when the app is built (its routes depend on them)
    FIXED_AT_START = ("issuer", "dynamic_registration")

    def reload(self, config: IdPConfig) -> None:
        """Take another config and reset to it (a marker on the shared fixture).

        Refuses changes to :attr:`FIXED_AT_START`: the running app's routes were built from them.
        """
        check_planned_defects(config)
        fixed = [f for f in self.FIXED_AT_START if getattr(config, f) != getattr(self.config, f)]
        if fixed:
            raise MockIdPError(
                f"{', '.join(fixed)} cannot change on a running IdP; use a fresh one (the mockidp fixture)"
            )
        if config.signing_alg != self.config.signing_alg:
            self.keys = KeyRing(config.signing_alg)
        if config.journal_limit != self.config.journal_limit:
            self.journal = Journal(config.journal_limit)
        self.config = config
        self.claims_plan.configure(
            PlannedClaims(dict(p.claims), p.client_id, p.times) for p in config.token_claims
        )
        self.defect_plan.configure(
            PlannedDefects(p.defects, p.token, p.client_id, p.times) for p in config.token_defects
        )
        self.reset()

    def reset(self) -> None:
        """Back to the config: registrations, issued tokens, keys, journal, clock, faults, misbehaviour."""
        self.store.load(self.config)
        self.client_documents.clear()
        self.keys.reset()
        self.journal.clear()
        self.config.clock.apply(self.clock)
        self.misbehaviour.load(self.config.misbehaviour)
        self.faults.load(self.config.faults)
        self.defect_plan.reset()
        self.claims_plan.reset()
        self.client_keys.clear()
        self.trusted.clear()
        self.server_errors.take()
