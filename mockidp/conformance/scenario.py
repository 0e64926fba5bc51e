"""The scenario format (``version: 1``): frozen dataclasses read from YAML with line numbers.

A scenario holds an IdP config, one target (an ``api`` checked like ``check-api`` or an
``agent`` checked like ``check-agent``), extra trials, and what the run is expected to find.
The JSON Schema shipped in ``mockidp/schemas/`` is generated from these classes
(:mod:`mockidp.conformance.schema`), and so is ``docs/scenarios.md``; field docs live in
``metadata={"doc": ...}`` so all three say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import IdPConfig
from ..defects.plan import check_planned_defects
from ..errors import ConfigError, ScenarioError
from ..loading import Source, build, parse_yaml

Flow = Literal["client_credentials", "authorization_code", "device_code"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Expect:
    """What the run must find. By default every case passes."""

    failing: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": "Cases that must fail (a known gap, or a negative example): defect names for an API, "
            "`trial/check` for an agent. Every other case must pass."
        },
    )


KeyStep = Literal["rotate", "publish-first"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiTrial:
    """One extra request to the API, with the token and the reaction this scenario wants."""

    name: str = field(metadata={"doc": "Case name in reports."})
    defects: tuple[str, ...] = field(
        default=(), metadata={"doc": "Catalog defects applied to the token (none: a valid token)."}
    )
    scope: str | None = field(
        default=None, metadata={"doc": "Scopes of the token (default: the target's scope)."}
    )
    method: str | None = field(default=None, metadata={"doc": "HTTP method (default: the target's method)."})
    no_token: bool = field(default=False, metadata={"doc": "Send no Authorization header at all."})
    keys: KeyStep | None = field(
        default=None,
        metadata={
            "doc": "Roll the IdP's signing key over before this trial's token is minted (the "
            "change stays for later trials): `rotate` signs with a new key at once (the API must "
            "refetch the JWKS for the unknown `kid`); `publish-first` publishes a new key that "
            "signs only once a JWKS listing it has been served, as careful IdPs roll over."
        },
    )
    status: int = field(default=200, metadata={"doc": "Expected HTTP status."})
    error: str | None = field(
        default=None, metadata={"doc": "Expected `error` in the `WWW-Authenticate: Bearer` challenge."}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiTarget:
    """A resource server to check, as `mockidp check-api` does."""

    url: str | None = field(
        default=None, metadata={"doc": "The endpoint to call. Required unless `builtin` is set."}
    )
    builtin: str | None = field(
        default=None,
        metadata={
            "doc": "Check one of mockidp's own mock APIs (`inventory`, `billing`) instead of `url`: "
            "a reference resource server, useful to learn the format."
        },
    )
    audience: str | None = field(
        default=None, metadata={"doc": "The audience the API expects (default: the URL)."}
    )
    scope: str | None = field(
        default=None, metadata={"doc": "Scopes the call needs (default for `builtin`: `<name>:read`)."}
    )
    method: str = field(default="GET", metadata={"doc": "HTTP method of the call."})
    start: str | None = field(
        default=None,
        metadata={
            "doc": "Shell command that starts the API, run in the scenario file's directory; stopped "
            "(whole process group) at the end. `{python}` and `{scenario_dir}` are replaced as in "
            "`agent.run`."
        },
    )
    port: int = field(default=0, metadata={"doc": "Port of the IdP (0: a free port)."})
    strict: bool = field(default=False, metadata={"doc": "`should` failures count like `must` failures."})
    defects: tuple[str, ...] | None = field(
        default=None,
        metadata={
            "doc": "Catalog defects to send (default: every access-token defect, plus `token-in-query`, "
            "`token-in-body` and `expired-after-cache`). A list sends exactly these."
        },
    )
    expiry_wait: bool = field(
        default=True,
        metadata={
            "doc": "Send `expired-after-cache`, which waits about 2.5 s (only with the whole catalog)."
        },
    )
    allow_token_in: tuple[Literal["query", "body"], ...] = field(
        default=(),
        metadata={
            "doc": "Where the API documents that it also takes tokens (`query`, `body`): accepting a token "
            "there is then no finding."
        },
    )
    dpop: bool = field(
        default=False,
        metadata={
            "doc": "The API requires DPoP (RFC 9449): every token is bound to a key and sent with a "
            "proof, and the DPoP request defects are sent too (`check-api --dpop`)."
        },
    )
    dpop_nonce: bool = field(
        default=False,
        metadata={"doc": "With `dpop`: the API demands its own DPoP nonce (`check-api --dpop-nonce`)."},
    )
    resource_metadata: bool = field(
        default=False,
        metadata={
            "doc": "Also check RFC 9728: metadata at `/.well-known/oauth-protected-resource{path}` "
            "naming this resource and the IdP, and `resource_metadata` in the 401 challenge "
            "(MCP servers must)."
        },
    )
    trials: tuple[ApiTrial, ...] = field(
        default=(), metadata={"doc": "Extra requests with their expected reactions."}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTrial:
    """One run of the agent against a fresh IdP set up to misbehave in a given way."""

    name: str = field(metadata={"doc": "Trial name in reports."})
    description: str = field(default="", metadata={"doc": "What the trial shows."})
    idp: Mapping[str, Any] = field(
        default_factory=dict,
        metadata={"doc": "IdP config keys for this trial only, e.g. `faults` or `misbehaviour`."},
    )
    id_token_defects: tuple[str, ...] = field(
        default=(), metadata={"doc": "Catalog defects planned for the next ID token."}
    )
    reject_first_token: tuple[str, ...] = field(
        default=(), metadata={"doc": "Mock APIs that answer the first valid token with 401 invalid_token."}
    )
    require_acr: str | None = field(
        default=None,
        metadata={
            "doc": "Every mock API demands a sign-in at this `acr` (RFC 9470 step-up); "
            "set `acr_levels` in `idp`."
        },
    )
    exit: Literal["zero", "nonzero"] = field(
        default="zero", metadata={"doc": "The agent's expected exit status."}
    )
    checks: tuple[str, ...] | None = field(
        default=None, metadata={"doc": "Checks to apply (default: those of the flow)."}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTarget:
    """An agent command to check, as `mockidp check-agent` does."""

    run: str = field(
        metadata={
            "doc": "Shell command that runs the agent once (it reads MOCKIDP_* variables), in the "
            "scenario file's directory; `{python}` is replaced by this interpreter, "
            "`{scenario_dir}` by the file's directory."
        },
    )
    flow: Flow = field(default="client_credentials", metadata={"doc": "How the agent gets tokens."})
    profile: Literal["oauth", "mcp"] = field(
        default="oauth",
        metadata={
            "doc": "`mcp`: an MCP client, given only MOCKIDP_MCP_URL and MOCKIDP_REDIRECT_URI (and, in "
            "the basic-cimd trial, MOCKIDP_CLIENT_METADATA_URL), run through the MCP trials (flow: "
            "authorization_code); its extra trials meet MCP servers too."
        },
    )
    client_id: str | None = field(
        default=None,
        metadata={"doc": "Registered client the agent uses (default: the built-in agent client)."},
    )
    auth: Literal["client_secret", "private_key_jwt"] = field(
        default="client_secret",
        metadata={
            "doc": "How the agent authenticates: its secret, or private_key_jwt with a key pair made "
            "for the run (MOCKIDP_CLIENT_KEY, MOCKIDP_CLIENT_KEY_FILE) and the assertion checks."
        },
    )
    timeout: int = field(default=30, metadata={"doc": "Seconds one agent run may take."})
    apis: tuple[str, ...] = field(default=("inventory", "billing"), metadata={"doc": "Mock APIs to host."})
    trials: tuple[str, ...] | None = field(
        default=None, metadata={"doc": "Built-in trials to run (default: every one of the flow)."}
    )
    extra_trials: tuple[AgentTrial, ...] = field(default=(), metadata={"doc": "Trials defined here."})


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A conformance scenario: an IdP, one target, trials and expectations."""

    version: Literal[1] = field(metadata={"doc": "Format version; always 1."})
    name: str | None = field(default=None, metadata={"doc": "Name in reports (default: the file name)."})
    description: str = field(default="", metadata={"doc": "What the scenario checks, for people."})
    idp: Mapping[str, Any] = field(
        default_factory=dict, metadata={"doc": "IdP configuration: the keys of a mockidp config file."}
    )
    api: ApiTarget | None = field(default=None, metadata={"doc": "Check a resource server."})
    agent: AgentTarget | None = field(default=None, metadata={"doc": "Check an agent."})
    expect: Expect = field(default_factory=Expect, metadata={"doc": "What the run must find."})


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A scenario plus where it came from, so failures can point at lines."""

    scenario: Scenario
    file: str
    idp_config: IdPConfig
    lines: Mapping[str, int]

    @property
    def name(self) -> str:
        return self.scenario.name or Path(self.file).stem

    def line(self, key_path: str) -> int | None:
        return Source(self.file, dict(self.lines)).line(key_path)

    def where(self, key_path: str) -> str:
        line = self.line(key_path)
        return f"{self.file}:{line}" if line else self.file


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and check a scenario file; a ConfigError names the file, key path and line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read scenario: {exc}", file=name) from None
    return parse_scenario(text, file=name)


def parse_scenario(text: str, *, file: str = "<scenario>") -> LoadedScenario:
    data, src = parse_yaml(text, file=file)
    if data is None:
        raise ConfigError("empty scenario: expected `version: 1` and a target", file=file)
    scenario = build(Scenario, data, "", src)
    _check(scenario, src)
    idp_config = build(IdPConfig, dict(scenario.idp), "idp", src)
    check_planned_defects(idp_config)
    for i, trial in enumerate(scenario.agent.extra_trials if scenario.agent else ()):
        extra = build(IdPConfig, {**scenario.idp, **trial.idp}, f"agent.extra_trials[{i}].idp", src)
        check_planned_defects(extra)
    return LoadedScenario(scenario, file, idp_config, src.lines)


def _check(scenario: Scenario, src: Source) -> None:
    if (scenario.api is None) == (scenario.agent is None):
        raise src.error("a scenario has exactly one target: `api` or `agent`", "")
    api = scenario.api
    if api is not None:
        if (api.url is None) == (api.builtin is None):
            raise src.error("set exactly one of `url` and `builtin`", "api")
        if api.url is not None and api.scope is None:
            raise src.error("missing required key 'scope'", "api")
    agent = scenario.agent
    if agent is not None and agent.timeout <= 0:
        raise src.error("must be a positive number of seconds", "agent.timeout")


def check_names(loaded: LoadedScenario, names: Mapping[str, str], known: set[str], what: str) -> None:
    """Raise ScenarioError (with the line) for a name in ``names`` (key path -> name) not in ``known``."""
    for path, value in names.items():
        if value not in known:
            raise ScenarioError(f"{loaded.where(path)}: unknown {what} {value!r}")
