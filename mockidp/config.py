"""The configuration model: frozen dataclasses built from YAML or Python values.

One model serves the YAML file, the ``@pytest.mark.mockidp(...)`` marker, the control API and
plain Python, so every surface accepts exactly the same keys. Building never does I/O beyond
reading the named file; a wrong key or type raises :class:`ConfigError` with file, key path and
line.
Loading itself (YAML, key paths, lines, type checks) is :mod:`mockidp.loading`; the checks that
need the defect catalog run when the IdP is built. This module imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from .claim_templates import check_claims
from .clock import ClockConfig
from .errors import ConfigError
from .faults import Fault
from .loading import Origin, Source, build, parse_yaml, to_dict
from .misbehaviour import MisbehaviourConfig

SigningAlg = Literal["RS256", "PS256", "ES256", "EdDSA", "Ed25519"]
LoginMode = Literal["auto", "form"]
AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
GrantType = Literal["client_credentials", "authorization_code", "refresh_token"]

SIGNING_ALGS: tuple[str, ...] = get_args(SigningAlg)
GRANT_TYPES: tuple[str, ...] = get_args(GrantType)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """A registered OAuth client. No ``client_secret`` means a public client."""

    client_id: str
    client_secret: str | None = None
    #: ``None`` accepts client_secret_basic and client_secret_post (or none for public clients)
    token_endpoint_auth_method: AuthMethod | None = None
    #: ``None`` means client_credentials for confidential clients, the code flow for public ones
    grant_types: tuple[GrantType, ...] | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: the scopes it may get, OIDC scopes included; empty (not listed): no API scope, and
    #: every OIDC scope in the user flows (what a client without a list always had)
    scopes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    #: opt-outs for testing legacy clients; strict by default
    require_pkce: bool = True
    allow_plain_pkce: bool = False
    client_name: str | None = None
    #: public keys for ``private_key_jwt`` (RFC 7523 section 2.2), a JWK Set ``{keys: [...]}``
    jwks: Mapping[str, Any] | None = None
    #: where to fetch those keys instead (mutually exclusive with ``jwks``)
    jwks_uri: str | None = None
    #: custom access-token claims for this client (templates allowed; see ``claim_templates``)
    access_token_claims: Mapping[str, Any] = field(default_factory=dict)
    #: RFC 9449 §5.2: every token request must carry a DPoP proof (no Bearer tokens for it)
    dpop_bound_access_tokens: bool = False

    def __post_init__(self) -> None:
        check_claims(self.access_token_claims, "access_token_claims")

    @property
    def is_public(self) -> bool:
        """No credential at all: neither a secret nor keys for ``private_key_jwt``."""
        return self.client_secret is None and self.token_endpoint_auth_method != "private_key_jwt"

    @property
    def allowed_grant_types(self) -> tuple[str, ...]:
        if self.grant_types is not None:
            return self.grant_types
        if self.is_public:
            return ("authorization_code", "refresh_token")
        return ("client_credentials",)

    @property
    def auth_methods(self) -> tuple[str, ...]:
        if self.token_endpoint_auth_method is not None:
            return (self.token_endpoint_auth_method,)
        if self.is_public:
            return ("none",)
        return ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True, slots=True, kw_only=True)
class UserConfig:
    """A person who can sign in. ``claims`` are OpenID Connect standard or custom claims."""

    sub: str
    username: str | None = None
    password: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    #: custom access-token claims when this user signed in (``claims`` go to ID token/userinfo)
    access_token_claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_claims(self.access_token_claims, "access_token_claims")

    @property
    def login_name(self) -> str:
        return self.username or self.sub


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    """A protected API (resource server): its resource identifier and the scopes it defines."""

    audience: str
    scopes: tuple[str, ...] = ()
    #: custom claims of every access token for this API (templates allowed)
    access_token_claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_claims(self.access_token_claims, "access_token_claims")


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenDefectsConfig:
    """Planned token defects (``mockidp.defects``): break ``token`` tokens ``times`` times."""

    defects: tuple[str, ...]
    token: Literal["access", "id"] = "access"
    #: ``None``: tokens for every client
    client_id: str | None = None
    #: ``None`` (the default here): every matching token, after every reset too
    times: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenClaimsConfig:
    """Planned claims (``mockidp.claims_plan``): add ``claims`` to access tokens ``times`` times."""

    claims: Mapping[str, Any]
    #: ``None``: tokens for every client
    client_id: str | None = None
    #: ``None`` (the default here): every matching token, after every reset too
    times: int | None = None

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ConfigError("must be positive (leave it out for every token)", key_path="times")
        if not self.claims:
            raise ConfigError("must name at least one claim", key_path="claims")
        check_claims(self.claims, "claims")


@dataclass(frozen=True, slots=True, kw_only=True)
class DPoPConfig:
    """DPoP (RFC 9449) at the token endpoint; always on, these only tighten it."""

    #: demand a server nonce (RFC 9449 §8): a proof without the current one gets ``use_dpop_nonce``
    nonce: bool = False
    #: how far a proof's ``iat`` may be from the IdP's clock, either way (RFC 9449 §4.3 check 11)
    proof_max_age: int = 60

    def __post_init__(self) -> None:
        if self.proof_max_age <= 0:
            raise ConfigError("must be a positive number of seconds", key_path="proof_max_age")


@dataclass(frozen=True, slots=True, kw_only=True)
class IdPConfig:
    """Everything that shapes one mock IdP."""

    #: ``None``: ``http://<host>:<port>``; a bare path such as ``/tenant-a`` is appended to that
    issuer: str | None = None
    login: LoginMode = "auto"
    #: sign-in levels (``acr`` values), weakest first, e.g. ``[pwd, mfa, hwk]``; ``acr_values``
    #: at /authorize picks one, the first is the default; empty: no ``acr``/``amr`` at all
    acr_levels: tuple[str, ...] = ()
    signing_alg: SigningAlg = "RS256"
    access_token_ttl: int = 300
    id_token_ttl: int = 300
    refresh_token_ttl: int = 86400
    code_ttl: int = 60
    clients: tuple[ClientConfig, ...] = ()
    users: tuple[UserConfig, ...] = ()
    apis: tuple[ApiConfig, ...] = ()
    #: seed for the generated users when ``users`` is empty
    seed: int = 0
    generated_users: int = 3
    #: serve the RFC 7591 dynamic client registration endpoint ``{issuer}/register``
    dynamic_registration: bool = True
    #: endpoint faults queued at start and after every reset (see ``mockidp.faults``)
    faults: tuple[Fault, ...] = ()
    #: protocol misbehaviour switches (see ``mockidp.misbehaviour``)
    misbehaviour: MisbehaviourConfig = field(default_factory=MisbehaviourConfig)
    #: the clock at start and after every reset, e.g. ``{frozen_at: 1700000000}``
    clock: ClockConfig = field(default_factory=ClockConfig)
    #: defective tokens from the token endpoint, e.g. ``[{defects: [expired], token: id}]``
    token_defects: tuple[TokenDefectsConfig, ...] = ()
    #: claims added to access tokens from the token endpoint, e.g. ``[{claims: {roles: [admin]}}]``
    token_claims: tuple[TokenClaimsConfig, ...] = ()
    #: the journal keeps the newest this many requests, so a long-running server stays bounded
    journal_limit: int = 10_000
    #: DPoP (RFC 9449) settings, e.g. ``{nonce: true}``
    dpop: DPoPConfig = field(default_factory=DPoPConfig)
    #: where this config was read from, so the checks made when the IdP is built (defect names
    #: need the catalog) name the file and line; not a config key
    origin: Origin | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_config(self)

    def merged(self, overrides: Mapping[str, Any]) -> IdPConfig:
        """A copy with top-level keys replaced, validated like a file.

        Keys that were not replaced keep their file and lines for later errors.
        """
        data = to_dict(self)
        data.update(overrides)
        merged = IdPConfig.from_dict(data)
        if self.origin is not None:
            kept = frozenset(data) - frozenset(overrides)
            object.__setattr__(merged, "origin", Origin(self.origin.source, self.origin.path, kept))
        return merged

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> IdPConfig:
        return build(cls, data, "", Source(file, {}))

    @classmethod
    def from_yaml(cls, path: str | Path) -> IdPConfig:
        return load_config(path)


def load_config(path: str | Path) -> IdPConfig:
    """Read a YAML config file; every error names the file, the key path and the line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", file=name) from None
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8 text", file=name) from None
    return parse_config(text, file=name)


def parse_config(text: str, *, file: str | None = None) -> IdPConfig:
    """Parse YAML text into an :class:`IdPConfig`."""
    data, source = parse_yaml(text, file=file)
    return build(IdPConfig, {} if data is None else data, "", source)


# --- cross-field checks -----------------------------------------------------------------------


def _check_config(config: IdPConfig) -> None:
    for name in ("access_token_ttl", "id_token_ttl", "refresh_token_ttl", "code_ttl"):
        if getattr(config, name) <= 0:
            raise ConfigError("must be a positive number of seconds", key_path=name)
    if config.journal_limit < 1:
        raise ConfigError("must be at least 1", key_path="journal_limit")
    if config.generated_users < 0:
        raise ConfigError("must not be negative", key_path="generated_users")
    if config.issuer is not None:
        _check_issuer(config.issuer)
    _unique([c.client_id for c in config.clients], "clients", "client_id")
    _unique([u.sub for u in config.users], "users", "sub")
    _unique([u.login_name for u in config.users], "users", "username")
    _unique([a.audience for a in config.apis], "apis", "audience")
    known_audiences = {a.audience for a in config.apis}
    for i, client in enumerate(config.clients):
        _check_client(client, f"clients[{i}]", known_audiences)
    for i, plan in enumerate(config.token_defects):
        _check_token_defects(plan, f"token_defects[{i}]")
    _check_claims_config(config)


def _check_claims_config(config: IdPConfig) -> None:
    """Sign-in levels: unique words (custom claims check themselves, see ``_check_custom_claims``)."""
    _unique(list(config.acr_levels), "acr_levels", "")
    for i, level in enumerate(config.acr_levels):
        if not level or level != level.strip() or " " in level:
            raise ConfigError(
                "a sign-in level must be a non-empty word without spaces", key_path=f"acr_levels[{i}]"
            )


def _check_token_defects(plan: TokenDefectsConfig, path: str) -> None:
    """The form of a plan; its defect names are checked against the catalog when the IdP is built
    (``mockidp.defects.check_planned_defects``), as the catalog sits above this module."""
    if plan.times is not None and plan.times < 1:
        raise ConfigError("must be positive (leave it out for every token)", key_path=f"{path}.times")


def _check_issuer(issuer: str) -> None:
    from urllib.parse import urlsplit

    if issuer.startswith("/"):
        if "?" in issuer or "#" in issuer:
            raise ConfigError("issuer path must not have a query or fragment", key_path="issuer")
        return
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("issuer must be an http(s) URL or a path such as /tenant-a", key_path="issuer")
    if parts.query or parts.fragment or "?" in issuer or "#" in issuer:
        raise ConfigError("issuer must not have a query or fragment (RFC 8414 section 2)", key_path="issuer")


def _unique(values: list[str], section: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            where = f"{section}[{i}].{key}" if key else f"{section}[{i}]"
            raise ConfigError(f"duplicate {key or 'value'} {value!r}", key_path=where)
        seen.add(value)


def _check_client(client: ClientConfig, path: str, known_audiences: set[str]) -> None:
    if not client.client_id:
        raise ConfigError("client_id must not be empty", key_path=f"{path}.client_id")
    method = client.token_endpoint_auth_method
    if client.is_public and method not in (None, "none"):
        raise ConfigError(f"{method} needs a client_secret", key_path=f"{path}.token_endpoint_auth_method")
    if not client.is_public and method == "none":
        raise ConfigError(
            "a client with a secret cannot use 'none'", key_path=f"{path}.token_endpoint_auth_method"
        )
    if method == "private_key_jwt" and (client.jwks is None) == (client.jwks_uri is None):
        raise ConfigError("private_key_jwt needs either jwks or jwks_uri", key_path=f"{path}.jwks")
    if method != "private_key_jwt" and (client.jwks is not None or client.jwks_uri is not None):
        raise ConfigError(
            "jwks and jwks_uri are for token_endpoint_auth_method: private_key_jwt",
            key_path=f"{path}.{'jwks' if client.jwks is not None else 'jwks_uri'}",
        )
    if client.is_public and "client_credentials" in client.allowed_grant_types:
        raise ConfigError(
            "client_credentials needs a confidential client (set client_secret)",
            key_path=f"{path}.grant_types",
        )
    for j, audience in enumerate(client.audiences):
        if known_audiences and audience not in known_audiences:
            raise ConfigError(
                f"audience {audience!r} is not one of the configured apis",
                key_path=f"{path}.audiences[{j}]",
            )
    for j, uri in enumerate(client.redirect_uris):
        if "#" in uri:
            raise ConfigError("redirect URIs must not have a fragment", key_path=f"{path}.redirect_uris[{j}]")
