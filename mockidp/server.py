"""``MockIdP``: the library entry point, usable with or without pytest.

Sync use (``with MockIdP() as idp:``) runs the server on one shared background event loop,
so starting an IdP costs a socket bind rather than a thread and a loop. Async use
(``async with MockIdP() as idp:``) runs it on the caller's loop.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from aiohttp import web

from . import decisions
from .claims_plan import PlannedClaims
from .clock import MockClock
from .config import ApiConfig, ClientConfig, IdPConfig, UserConfig, load_config
from .defects.plan import PlannedDefects
from .errors import MockIdPError
from .errors import ServerBugError as ServerBugError  # defined here before errors.py held it
from .faults import Fault, make_fault
from .issuance import issue_token
from .journal import RequestRecord
from .keys import SigningKey, load_key_file
from .loading import build
from .misbehaviour import MisbehaviourConfig
from .runtime import AppRuntime
from .state import IdPState
from .tls import LOOPBACK_NAMES, ca_path, server_context
from .web.app import create_app
from .web.listen import advertised_host, http_origin, listen

T = TypeVar("T")

ConfigLike = IdPConfig | Mapping[str, Any] | str | Path | None


def as_config(config: ConfigLike, overrides: Mapping[str, Any] | None = None) -> IdPConfig:
    """Accept a config object, a mapping of config keys, or a YAML path."""
    if config is None:
        result = IdPConfig()
    elif isinstance(config, IdPConfig):
        result = config
    elif isinstance(config, str | Path):
        result = load_config(config)
    else:
        result = IdPConfig.from_dict(config)
    return result.merged(overrides) if overrides else result


class MockIdP(AppRuntime):
    """A strict mock OAuth 2.1 / OpenID Connect authorization server on loopback."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    _already_started = "this MockIdP is already started"

    def __init__(
        self,
        config: ConfigLike = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        key_file: str | os.PathLike[str] | None = None,
        tls: bool = False,
        **overrides: Any,
    ) -> None:
        """``key_file``: sign with the key kept there (made on first use), so tokens verify
        across processes and restarts; by default each IdP gets a fresh key. ``tls``: serve
        https with a certificate from mockidp's local CA (``mockidp.tls``); the issuer is then
        ``https://127.0.0.1:PORT`` and clients trust ``mockidp.ca_path()``."""
        super().__init__()
        self.config = as_config(config, overrides)
        self.host = host
        self.port = port
        self.tls = tls
        key = load_key_file(key_file, self.config.signing_alg) if key_file is not None else None
        self.state = IdPState(self.config, key)

    # --- lifecycle (start/stop, sync and async context managers: mockidp.runtime) ---------------

    async def _listen(self) -> web.AppRunner:
        context = server_context((*LOOPBACK_NAMES, advertised_host(self.host))) if self.tls else None
        runner, self.port = await listen(create_app(self.state), self.host, self.port, context)
        return runner

    def _started(self) -> None:
        self.state.bind(self.base_url)

    def _after_exit(self) -> None:
        self.raise_server_errors()

    def raise_server_errors(self) -> None:
        """Re-raise, in the caller's thread, the first unexpected exception a handler hit."""
        errors = self.state.server_errors.take()
        if errors and isinstance(errors[0], MockIdPError):
            raise errors[0]  # a setup mistake, in mockidp's own words
        if errors:
            raise ServerBugError(f"mockidp handler raised {errors[0]!r}") from errors[0]

    # --- addresses ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def issuer(self) -> str:
        if not self.state.issuer:
            raise MockIdPError("the issuer is known once the MockIdP is started")
        return self.state.issuer

    @property
    def base_url(self) -> str:
        """``http(s)://HOST:PORT``; a wildcard bind is named by the machine's host name, IPv6 in brackets."""
        return http_origin(self.host, self.port, tls=self.tls)

    def url(self, path: str) -> str:
        """An absolute URL on this server, relative to the issuer."""
        return f"{self.issuer.rstrip('/')}/{path.lstrip('/')}"

    @property
    def metadata_url(self) -> str:
        return self.url(".well-known/openid-configuration")

    @property
    def oauth_metadata_url(self) -> str:
        """RFC 8414 location: path-inserted after ``/.well-known/``."""
        path = self.state.issuer_path
        return f"{self.base_url}/.well-known/oauth-authorization-server{path}"

    @property
    def token_endpoint(self) -> str:
        return self.url("token")

    @property
    def jwks_uri(self) -> str:
        return self.url("jwks")

    # --- registrations ------------------------------------------------------------------

    def add_client(self, client: ClientConfig | None = None, /, **fields: Any) -> ClientConfig:
        """Register a client (a ``ClientConfig`` or its keys as keyword arguments)."""
        made = client or build(ClientConfig, fields, "clients")
        # the cross-field checks a config file gets (a public client_credentials client...)
        return self.state.store.add_client(made)

    def add_user(self, user: UserConfig | None = None, /, **fields: Any) -> UserConfig:
        made = user or build(UserConfig, fields, "users")
        return self.state.store.add_user(made)

    def add_api(self, api: ApiConfig | None = None, /, **fields: Any) -> ApiConfig:
        made = api or build(ApiConfig, fields, "apis")
        return self.state.store.add_api(made)

    @property
    def clients(self) -> dict[str, ClientConfig]:
        return self.state.store.clients()

    @property
    def users(self) -> dict[str, UserConfig]:
        return self.state.store.users()

    @property
    def apis(self) -> dict[str, ApiConfig]:
        return self.state.store.apis()

    # --- tokens and keys ------------------------------------------------------------------

    def issue_token(
        self,
        *,
        client_id: str | None = None,
        subject: str | None = None,
        audience: str | Sequence[str] | None = None,
        scope: str | Sequence[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        defects: Sequence[str] | None = None,
    ) -> str:
        """Mint a valid access token without HTTP, validated like a token request.

        ``client_id`` defaults to the first client; ``subject`` to the client id. The body is
        ``mockidp.issuance.issue_token``, shared with the control API's ``POST /_mockidp/tokens``.
        """
        return issue_token(
            self.state,
            client_id=client_id,
            subject=subject,
            audience=audience,
            scope=scope,
            claims=claims,
            defects=defects,
        )

    def plan_defects(
        self,
        defects: Sequence[str],
        *,
        token: Literal["access", "id", "id-jag"] = "access",
        client_id: str | None = None,
        times: int | None = 1,
    ) -> PlannedDefects:
        """Make the token endpoint break its next ``times`` tokens (``None``: every one).

        ``token`` picks access or ID tokens, ``client_id`` one client (default: any). Plans are
        used first-planned first; :meth:`reset` goes back to the configured ``token_defects``.
        """
        return self.state.defect_plan.add(defects, token=token, client_id=client_id, times=times)

    def plan_claims(
        self, claims: Mapping[str, Any], *, times: int | None = 1, client_id: str | None = None
    ) -> PlannedClaims:
        """Add ``claims`` to the next ``times`` access tokens of the token endpoint (``None``: every one).

        ``client_id`` limits the plan to one client. Registered claims (``iss``, ``sub``,
        ``aud``, ``scope``...) are refused. Every matching plan applies; :meth:`reset` goes
        back to the configured ``token_claims``. The journal records what each token request got.
        """
        return self.state.claims_plan.add(claims, times=times, client_id=client_id)

    @property
    def planned_claims(self) -> list[PlannedClaims]:
        """The claims plans that still have uses left."""
        return self.state.claims_plan.pending

    def rotate_keys(self, keep: int = 1, *, publish_first: bool = False) -> SigningKey:
        """Make a new signing key; the previous ``keep`` stay in the JWKS.

        With ``publish_first`` the new key is published at once but signs only after the JWKS
        listing it has been served, as a careful IdP rolls keys over; without it, it signs at
        once (an abrupt rotation, which an API must survive by refetching on an unknown kid).
        """
        return self.state.keys.rotate(keep, publish_first=publish_first)

    def add_key(self) -> SigningKey:
        """Publish a new key that signs nothing until :meth:`activate_key`."""
        return self.state.keys.add()

    def activate_key(self, kid: str) -> SigningKey:
        """Sign with the published key ``kid`` from now on; the previous key stays published."""
        return self.state.keys.activate(kid)

    def retire_key(self, kid: str) -> None:
        """Remove ``kid`` from the JWKS (not the current key): tokens it signed stop verifying."""
        self.state.keys.retire(kid)

    @property
    def signing_key(self) -> SigningKey:
        return self.state.keys.current

    def jwks(self) -> dict[str, Any]:
        """The public JWKS as served at ``jwks_uri``, for apps that take keys without HTTP."""
        return self.state.keys.jwks()

    def env(self, audience: str | None = None, client_id: str | None = None) -> dict[str, str]:
        """The ``MOCKIDP_*`` settings an app under test needs to trust (or use) this IdP.

        ``MOCKIDP_AUDIENCE`` is ``audience`` or the first configured API; ``MOCKIDP_CLIENT_ID``
        and ``MOCKIDP_CLIENT_SECRET`` name ``client_id`` or the first confidential client that may
        use client credentials; ``MOCKIDP_CA_FILE`` the local CA when serving https. Keys with
        nothing to name are left out.
        """
        values = {
            "MOCKIDP_ISSUER": self.issuer,
            "MOCKIDP_METADATA_URL": self.metadata_url,
            "MOCKIDP_JWKS_URI": self.jwks_uri,
            "MOCKIDP_TOKEN_ENDPOINT": self.token_endpoint,
        }
        if self.tls:
            values["MOCKIDP_CA_FILE"] = ca_path()  # the app must trust the local CA for https
        apis = self.apis
        chosen_api = audience if audience is not None else next(iter(apis), None)
        if chosen_api is not None:
            values["MOCKIDP_AUDIENCE"] = chosen_api
        clients = self.clients
        if client_id is not None:
            client = clients.get(client_id)
            if client is None:
                raise MockIdPError(f"no client {client_id!r} is registered")
        else:
            client = next(
                (
                    c
                    for c in clients.values()
                    if c.client_secret and "client_credentials" in c.allowed_grant_types
                ),
                None,
            )
        if client is not None:
            values["MOCKIDP_CLIENT_ID"] = client.client_id
            if client.client_secret:
                values["MOCKIDP_CLIENT_SECRET"] = client.client_secret
        return values

    # --- state ----------------------------------------------------------------------------

    @property
    def clock(self) -> MockClock:
        return self.state.clock

    @property
    def requests(self) -> list[RequestRecord]:
        """The journal: every request received so far, secrets redacted."""
        return self.state.journal.snapshot()

    # --- the person behind the device flow and CIBA (mockidp.decisions) -----------------------

    def polled_requests(self) -> list[dict[str, Any]]:
        """The device-flow and CIBA requests so far, oldest first (no secrets)."""
        return decisions.polled_requests(self.state)

    def approve(self, subject: str | None = None, **selector: str) -> dict[str, Any]:
        """Approve a waiting request (by ``id``, ``user_code``, ``device_code`` or
        ``auth_req_id``; none: the only one waiting) as ``subject`` (default: the hinted user)."""
        return decisions.decide(self.state, "approve", selector, subject=subject)

    def deny(self, **selector: str) -> dict[str, Any]:
        """Deny a waiting request: its polls answer ``access_denied``."""
        return decisions.decide(self.state, "deny", selector)

    def expire_request(self, **selector: str) -> dict[str, Any]:
        """Time a request out now: its polls answer ``expired_token``."""
        return decisions.expire(self.state, selector)

    def reset(self) -> None:
        """Back to the configured state: registrations, issued tokens, journal, clock."""
        self.state.reset()

    def reconfigure(self, config: ConfigLike = None, /, **overrides: Any) -> IdPConfig:
        """Switch this running IdP to another config (same arguments as the constructor) and reset.

        The issuer and ``dynamic_registration`` are fixed once started; changing them raises
        :class:`MockIdPError`. Returns the config now in force.
        """
        new = as_config(config if config is not None else self.config, overrides)
        self.state.reload(new)
        self.config = new
        return new

    # --- faults and misbehaviour ------------------------------------------------------------

    def add_fault(self, endpoint: str, kind: str, **params: Any) -> Fault:
        """Queue a fault: ``idp.add_fault("token", "unavailable", retry_after=2, times=3)``.

        ``params`` are the fields of :class:`mockidp.faults.Fault` (status, body, retry_after,
        delay, times: 1 by default, None or "always" for every request).
        """
        return self.state.faults.add(make_fault(endpoint, kind, **params))

    def clear_faults(self) -> None:
        self.state.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The faults still queued, in the order they are matched."""
        return [fault for fault, _ in self.state.faults.pending()]

    def misbehave(self, **switches: Any) -> MisbehaviourConfig:
        """Turn protocol misbehaviour on or off: ``idp.misbehave(metadata_issuer="https://evil")``.

        Switches not named keep their value; ``idp.misbehave()`` alone changes nothing.
        """
        return self.state.misbehaviour.set(**switches)
