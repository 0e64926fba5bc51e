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
GrantType = Literal[
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:openid:params:grant-type:ciba",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
]
CibaAuto = Literal["approve", "deny", "none"]

SIGNING_ALGS: tuple[str, ...] = get_args(SigningAlg)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
GRANT_TYPES: tuple[str, ...] = get_args(GrantType)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeConfig:
    """What a client may get by token exchange (RFC 8693): its ``exchange`` policy.

    ``audiences`` lists registered APIs it may exchange into and, for ID-JAGs, the issuers of
    resource authorization servers; ``scopes`` caps the scopes (they only ever narrow).
    """

    audiences: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    #: how many actors an ``act`` chain may hold (1: the actor only, no earlier delegation)
    max_act_depth: int = 1

    def __post_init__(self) -> None:
        if self.max_act_depth < 1:
            raise ConfigError("must be at least 1", key_path="max_act_depth")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedIssuerConfig:
    """An external issuer whose JWTs this IdP accepts as grants (RFC 7523 jwt-bearer) and as
    token-exchange subject tokens: a workload platform, or an enterprise IdP's ID-JAGs."""

    issuer: str
    #: what it vouches with at the jwt-bearer grant: ``workload`` JWTs (workload identity
    #: federation) only, or ID-JAGs (``typ: oauth-id-jag+jwt``) only from an ``enterprise-idp``;
    #: unset: either, told apart by ``typ`` (a JWT with a ``client_id`` claim must be an ID-JAG)
    kind: Literal["workload", "enterprise-idp"] | None = None
    #: its public keys inline, a JWK Set ``{keys: [...]}`` (or ``jwks_uri``, not both)
    jwks: Mapping[str, Any] | None = None
    jwks_uri: str | None = None
    #: accept an ``http://`` ``jwks_uri`` on a loopback address (local tests); https otherwise
    allow_http_loopback: bool = False
    #: the registered APIs its tokens may be exchanged for
    audiences: tuple[str, ...] = ()
    #: the scopes they may carry
    scopes: tuple[str, ...] = ()
    #: the ``sub`` values accepted, shell-style patterns (``repo:acme/*``); empty: any subject
    subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.issuer:
            raise ConfigError("must not be empty", key_path="issuer")
        if (self.jwks is None) == (self.jwks_uri is None):
            raise ConfigError("a trusted issuer needs either jwks or jwks_uri", key_path="jwks")
        if self.jwks is not None and not isinstance(self.jwks.get("keys"), list):
            raise ConfigError("must be a JWK Set: {keys: [...]}", key_path="jwks")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """A registered OAuth client. No ``client_secret`` means a public client."""

    #: Unique, non-empty.
    client_id: str
    #: Without a secret the client is public.
    client_secret: str | None = None
    #: Restricts the client to one method; any other method gets ``invalid_client``. ``none``
    #: requires a public client, the secret methods a confidential one, ``private_key_jwt`` (no
    #: secret) ``jwks`` or ``jwks_uri`` (docs/flows/private-key-jwt.md). ``None`` (the default)
    #: accepts client_secret_basic and client_secret_post (or none for public clients).
    token_endpoint_auth_method: AuthMethod | None = None
    #: Grants the client may use; others get ``unauthorized_client``. A public client may not use
    #: ``client_credentials`` or CIBA. ``None`` (the default): ``[client_credentials]`` for
    #: confidential clients, ``[authorization_code, refresh_token]`` for public ones.
    grant_types: tuple[GrantType, ...] | None = None
    #: Exact-match redirect URIs (no fragment). Loopback ``http://127.0.0.1/...`` and
    #: ``http://localhost/...`` match any port (RFC 8252).
    redirect_uris: tuple[str, ...] = ()
    #: Where RP-initiated logout may send the browser back.
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: Scopes the client may get, OpenID Connect scopes (``openid``, ``profile``, ``email``,
    #: ``address``, ``phone``, ``offline_access``) included. A requested scope outside this list is
    #: ``invalid_scope``. A client that lists no scopes (the default, or ``[]``) may have every OIDC
    #: scope in the authorization code and refresh flows and no API scope, so configurations without
    #: scope lists keep working. A ``resource`` narrows the scopes further to those its API defines
    #: (RFC 8707 section 2.2).
    scopes: tuple[str, ...] = ()
    #: APIs (their ``audience``) the client may get tokens for; each must be one of ``apis``.
    #: Without ``resource``/``audience`` in the request, the first one is used.
    audiences: tuple[str, ...] = ()
    #: Opt-out for testing legacy clients; strict by default.
    require_pkce: bool = True
    #: Opt-in to the ``plain`` PKCE method (never advertised).
    allow_plain_pkce: bool = False
    #: Shown on the consent page.
    client_name: str | None = None
    #: The public keys of a ``private_key_jwt`` client (RFC 7523 section 2.2), a JWK Set
    #: ``{keys: [...]}``; public members only.
    jwks: Mapping[str, Any] | None = None
    #: Where to fetch those keys instead (exactly one of ``jwks``, ``jwks_uri``): https, or
    #: ``http`` to a loopback address (a test's own key host).
    jwks_uri: str | None = None
    #: custom access-token claims for this client (templates allowed; see ``claim_templates``)
    access_token_claims: Mapping[str, Any] = field(default_factory=dict)
    #: what token exchange may give it (RFC 8693); ``None``: its own ``audiences`` and ``scopes``
    exchange: ExchangeConfig | None = None
    #: RFC 9449 §5.2: every token request must carry a DPoP proof (no Bearer tokens for it)
    dpop_bound_access_tokens: bool = False

    def __post_init__(self) -> None:
        check_claims(self.access_token_claims, "access_token_claims")

    @property
    def exchange_policy(self) -> ExchangeConfig:
        """The token-exchange policy, defaulting to what the client may have anyway."""
        if self.exchange is not None:
            return self.exchange
        return ExchangeConfig(audiences=self.audiences, scopes=self.scopes)

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

    #: Subject identifier, unique.
    sub: str
    #: Login name, unique; ``None`` (the default): the ``sub``.
    username: str | None = None
    #: Without a password the user can only be picked without a form.
    password: str | None = None
    #: OpenID Connect standard or custom claims (``name``, ``email``, ...). They go to the ID token
    #: and userinfo (by scope, or as the ``claims`` request parameter asks), never to access tokens.
    claims: Mapping[str, Any] = field(default_factory=dict)
    #: Custom claims of the access tokens this user's sign-ins get (authorization code and refresh;
    #: templates allowed); ``"${user.claims.roles}"`` copies a claim. The user's ``claims`` go to
    #: the ID token and userinfo instead.
    access_token_claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_claims(self.access_token_claims, "access_token_claims")

    @property
    def login_name(self) -> str:
        return self.username or self.sub


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    """A protected API (resource server): its resource identifier and the scopes it defines."""

    #: Resource identifier (RFC 8707); may be a URL. Becomes the token's ``aud``. A ``resource`` or
    #: ``audience`` request parameter that is not a registered API, or not in the client's
    #: ``audiences``, gets ``invalid_target``.
    audience: str
    #: Scopes the API defines. A requested API scope the target API does not define is
    #: ``invalid_scope``.
    scopes: tuple[str, ...] = ()
    #: custom claims of every access token for this API (templates allowed)
    access_token_claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_claims(self.access_token_claims, "access_token_claims")


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenDefectsConfig:
    """Planned token defects (``mockidp.defects``): break ``token`` tokens ``times`` times."""

    #: Names from the defect catalog (``mockidp defects``, docs/defects.md), checked when the IdP is
    #: built.
    defects: tuple[str, ...]
    #: Which tokens to break: access tokens, ID tokens, or the ID-JAGs of token exchange.
    token: Literal["access", "id", "id-jag"] = "access"
    #: ``None``: tokens for every client
    client_id: str | None = None
    #: ``None`` (the default here): every matching token, after every reset too
    times: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenClaimsConfig:
    """Planned claims (``mockidp.claims_plan``): add ``claims`` to access tokens ``times`` times."""

    #: Claims to add (templates allowed); the registered claims are refused.
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


def _is_ipv6(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class CimdConfig:
    """Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): an https
    ``client_id`` URL is fetched and its document becomes the client (``mockidp.client_documents``)."""

    #: Fetch an https ``client_id`` URL's document instead of refusing an unknown client, and
    #: advertise ``client_id_metadata_document_supported``.
    enabled: bool = True
    #: Also accept ``http://`` documents on a loopback address (``http://127.0.0.1:PORT/...``,
    #: local tests without TLS); every other http URL stays refused.
    allow_http_loopback: bool = False
    #: Only documents on these hosts (exact, lower-case host names or addresses). Empty (the
    #: default): any public or loopback host; private, link-local and other non-public
    #: addresses are always refused.
    trusted_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for i, host in enumerate(self.trusted_hosts):
            if (
                not host
                or host != host.strip().lower()
                or any(c in host for c in "/@?#[] ")
                or (":" in host and not _is_ipv6(host))
            ):
                raise ConfigError(
                    "a trusted host is a lower-case host name or address, without scheme or port",
                    key_path=f"trusted_hosts[{i}]",
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceConfig:
    """The device authorization grant (RFC 8628): ``{issuer}/device_authorization`` and ``/device``."""

    #: Serve ``{issuer}/device_authorization`` and the verification pages ``{issuer}/device``,
    #: accept the grant, and advertise ``device_authorization_endpoint``; ``false``: 404 and
    #: ``unsupported_grant_type``, nothing advertised.
    enabled: bool = True
    #: ``login: auto``: the first this many polls answer ``authorization_pending``, the next gets
    #: the tokens (0: approved at once). The approving user is the device authorization request's
    #: ``login_hint`` (``sub`` or ``username``), else the first user. ``login: form``: the person
    #: approves on the pages.
    approve_after_polls: int = 0
    #: The ``interval`` answered, in seconds; a poll sooner than that after the previous one gets
    #: ``slow_down`` and 5 s more interval from then on.
    interval: int = 5
    #: Lifetime of a device code and its user code in seconds (``mockidp.clock``); then
    #: ``expired_token``.
    expires_in: int = 600
    #: The first this many polls answer ``slow_down`` however well spaced (a busy server may), to
    #: test that a client adds 5 s (RFC 8628 section 3.5).
    slow_down_polls: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CibaConfig:
    """Client-initiated backchannel authentication, poll mode (OpenID CIBA Core 1.0)."""

    #: Serve ``{issuer}/bc-authorize``, accept the grant, advertise
    #: ``backchannel_authentication_endpoint``, ``backchannel_token_delivery_modes_supported:
    #: [poll]`` and ``backchannel_user_code_parameter_supported: false``.
    enabled: bool = True
    #: What the simulated person decides; ``none``: nobody answers until the control API or the
    #: library does, or the request expires.
    auto: CibaAuto = "approve"
    #: the first this many polls answer ``authorization_pending`` before ``auto`` decides
    after_polls: int = 0
    #: the minimum seconds between polls (``interval``); a faster poll gets ``slow_down``
    interval: int = 5
    #: the lifetime of an ``auth_req_id`` in seconds (``requested_expiry`` may ask for less)
    expires_in: int = 600


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

    #: The issuer, exactly as it appears in ``iss`` and the metadata. ``None`` (the default):
    #: ``http://<host>:<port>``. A bare path such as ``/tenant-a`` is appended to the listening
    #: address; an absolute URL may carry a path (``http://127.0.0.1:9400/realms/test``). An
    #: ``http`` issuer on a loopback host whose port is not the one the IdP listens on (a fixture,
    #: ``--port 0``) is moved to the bound port, keeping host and path; other issuers are used as
    #: written. No query or fragment. Endpoints live below it; RFC 8414 path insertion applies to
    #: the metadata.
    issuer: str | None = None
    #: How the authorization endpoint signs people in: ``auto`` picks the user without a page
    #: (``login_hint`` or the first user), ``form`` shows a login form. ``mockidp serve`` defaults
    #: to ``form``.
    login: LoginMode = "auto"
    #: Sign-in levels (``acr`` values), weakest first, e.g. ``[pwd, mfa, hwk]``. ``acr_values`` at
    #: /authorize picks the level (the first value that is a level; else the weakest); ``login:
    #: form`` offers them on the sign-in page. Tokens then carry ``acr`` and ``amr`` (the level and
    #: every weaker one), the metadata advertises ``acr_values_supported``, and a signed-in session
    #: weaker than the request asks for signs in again (step-up). Empty: no ``acr``/``amr`` at all.
    #: See docs/howto-claims.md.
    acr_levels: tuple[str, ...] = ()
    #: Signature algorithm of every token. Keys come from a per-process pool: no test pays for key
    #: generation. (``Ed25519`` uses the same key type under its fully-specified RFC 9864 name.)
    #: Every token, ID tokens included, uses this one algorithm, and the metadata advertises only
    #: it: OpenID Connect Discovery wants ``RS256`` listed too, so an RP that insists on that needs
    #: the default.
    signing_alg: SigningAlg = "RS256"
    #: Lifetime of access tokens in seconds (``exp - iat``, ``expires_in``); positive.
    access_token_ttl: int = 300
    #: Lifetime of ID tokens in seconds; positive.
    id_token_ttl: int = 300
    #: Lifetime of refresh tokens in seconds; positive.
    refresh_token_ttl: int = 86400
    #: Lifetime of authorization codes in seconds; positive.
    code_ttl: int = 60
    #: Registered OAuth clients (``clients[]``).
    clients: tuple[ClientConfig, ...] = ()
    #: People who can sign in (``users[]``). Empty: ``generated_users`` fake users.
    users: tuple[UserConfig, ...] = ()
    #: Protected APIs (resource servers) tokens can be issued for (``apis[]``).
    apis: tuple[ApiConfig, ...] = ()
    #: External issuers whose JWTs are accepted: workload JWTs at the jwt-bearer grant, ID-JAGs,
    #: and subject tokens of token exchange (docs/flows/workload-identity.md).
    trusted_issuers: tuple[TrustedIssuerConfig, ...] = ()
    #: Seed of the generated users (Faker), so they are the same on every run.
    seed: int = 0
    #: How many users to generate when ``users`` is empty; not negative.
    generated_users: int = 3
    #: Serve the RFC 7591 dynamic client registration endpoint ``{issuer}/register`` and advertise
    #: it as ``registration_endpoint``.
    dynamic_registration: bool = True
    #: Client ID metadata documents: an https ``client_id`` URL names a JSON document that
    #: registers the client (see client-id-metadata-documents.md).
    cimd: CimdConfig = field(default_factory=CimdConfig)
    #: Endpoint faults queued at start and after every reset (``faults[]``, docs/faults.md).
    faults: tuple[Fault, ...] = ()
    #: Protocol misbehaviour switches for client testing, all off by default (``misbehaviour``,
    #: docs/faults.md).
    misbehaviour: MisbehaviourConfig = field(default_factory=MisbehaviourConfig)
    #: The clock at start and after every reset: ``{frozen_at: <epoch seconds>}`` freezes it (1970
    #: to the end of year 9999); real time by default.
    clock: ClockConfig = field(default_factory=ClockConfig)
    #: Deliberately defective tokens from the token endpoint, e.g. ``[{defects: [expired], token:
    #: id}]`` (``token_defects[]``, docs/defects.md).
    token_defects: tuple[TokenDefectsConfig, ...] = ()
    #: Claims added to access tokens from the token endpoint, e.g. ``[{claims: {roles: [admin]},
    #: client_id: demo-agent, times: 2}]``. Every matching plan applies, later ones winning per
    #: claim. Restored by every reset; also the marker's ``token_claims=`` and
    #: ``MockIdP.plan_claims()``. Registered claims are refused.
    token_claims: tuple[TokenClaimsConfig, ...] = ()
    #: The device authorization grant (RFC 8628), e.g. ``{approve_after_polls: 2, interval: 1}``
    #: (docs/flows/device-flow.md).
    device: DeviceConfig = field(default_factory=DeviceConfig)
    #: CIBA poll mode, e.g. ``{auto: deny, after_polls: 1}`` (docs/flows/ciba.md).
    ciba: CibaConfig = field(default_factory=CibaConfig)
    #: How many received requests the journal (``idp.requests``, ``GET /_mockidp/journal``) keeps,
    #: at least 1; older ones are dropped so a long-running server stays bounded.
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
    _unique([t.issuer for t in config.trusted_issuers], "trusted_issuers", "issuer")
    for i, trusted in enumerate(config.trusted_issuers):
        for j, audience in enumerate(trusted.audiences):
            if known_audiences and audience not in known_audiences:
                raise ConfigError(
                    f"audience {audience!r} is not one of the configured apis",
                    key_path=f"trusted_issuers[{i}].audiences[{j}]",
                )
    for i, plan in enumerate(config.token_defects):
        _check_token_defects(plan, f"token_defects[{i}]")
    _check_claims_config(config)
    _check_polling(config)


def _check_polling(config: IdPConfig) -> None:
    """Polling grants: positive lifetimes and intervals, a non-negative poll count."""
    for section, part in (("device", config.device), ("ciba", config.ciba)):
        for name in ("interval", "expires_in"):
            if getattr(part, name) <= 0:
                raise ConfigError("must be a positive number of seconds", key_path=f"{section}.{name}")
    for name in ("approve_after_polls", "slow_down_polls"):
        if getattr(config.device, name) < 0:
            raise ConfigError("must not be negative", key_path=f"device.{name}")
    if config.ciba.after_polls < 0:
        raise ConfigError("must not be negative", key_path="ciba.after_polls")


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


#: JWK members of a private or symmetric key: a client's ``jwks`` is public keys only
_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def _check_client_keys(client: ClientConfig, path: str) -> None:
    """A ``jwks`` of public JWK objects, or a ``jwks_uri`` that is https (http only to loopback)."""
    if client.jwks is not None:
        keys = client.jwks.get("keys")
        if not isinstance(keys, list | tuple) or not keys:
            raise ConfigError(
                "jwks must be a JWK Set: {keys: [...]} with at least one key", key_path=f"{path}.jwks"
            )
        for j, key in enumerate(keys):
            where = f"{path}.jwks.keys[{j}]"
            if not isinstance(key, Mapping) or not isinstance(key.get("kty"), str):
                raise ConfigError("each key must be a JWK object with a kty", key_path=where)
            if any(m in key for m in _PRIVATE_JWK_MEMBERS):
                raise ConfigError("a private or symmetric key: give the public key only", key_path=where)
    if client.jwks_uri is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(client.jwks_uri)
        host = parts.hostname or ""
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        if not (parts.scheme == "https" or (parts.scheme == "http" and loopback)) or not host:
            raise ConfigError(
                "jwks_uri must be https (http only to a loopback address)", key_path=f"{path}.jwks_uri"
            )


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
        raise ConfigError("private_key_jwt needs exactly one of jwks and jwks_uri", key_path=f"{path}.jwks")
    if method == "private_key_jwt":
        _check_client_keys(client, path)
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
    if client.is_public and CIBA_GRANT in client.allowed_grant_types:
        raise ConfigError(
            "CIBA needs a confidential client (CIBA Core section 7.1: the client authenticates)",
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
