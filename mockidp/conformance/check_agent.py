"""``check-agent``: run an agent once per trial against a fresh IdP and fresh mock APIs.

The agent learns everything from its environment (``MOCKIDP_ISSUER``, ``MOCKIDP_CLIENT_ID``,
``MOCKIDP_CLIENT_SECRET`` for a confidential client, ``MOCKIDP_REDIRECT_URI`` in the code flow,
``MOCKIDP_API_<NAME>_URL``). With ``auth="private_key_jwt"`` the client authenticates with a key
pair mockidp makes for the run (``MOCKIDP_CLIENT_KEY``, ``MOCKIDP_CLIENT_KEY_FILE``: see
agent_assertions.py) instead of a secret, and every trial also checks its assertions. Each
trial's checks read the IdP journal and the APIs' call records after the agent has exited.

The ``mcp`` profile (mcp_trials.py) runs an MCP client instead: the APIs are MCP servers and
the agent gets only ``MOCKIDP_MCP_URL`` and ``MOCKIDP_REDIRECT_URI``; it finds the IdP from the
server's 401 and registers itself, as MCP clients do. In the ``basic-cimd`` trial it also gets
``MOCKIDP_CLIENT_METADATA_URL``: its client ID metadata document, which check-agent hosts over
https (client_document_host.py), to use instead of registering.
"""

from __future__ import annotations

import functools
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from ..config import DEVICE_GRANT, ClientConfig, IdPConfig
from ..errors import ScenarioError
from ..faults import Fault
from ..resources import DEFAULT_APIS, McpOptions, MockApis
from ..server import ConfigLike, MockIdP, as_config
from ..tls import client_env
from .agent_assertions import ASSERTION_CHECKS, AUTH_METHODS, AgentKey, provision, signed_config
from .agent_checks import CHECKS, Evidence
from .agent_trials import BY_NAME, Trial, check_known, trials_for
from .client_document_host import ClientDocumentHost
from .mcp_trials import MCP_APIS, MCP_BY_NAME, MCP_CONTROL, MCP_REDIRECT_URI, MCP_TRIALS
from .processes import run_once
from .report import AgentReport, TrialReport
from .scenario import AgentTarget, LoadedScenario

Profile = Literal["oauth", "mcp"]
PROFILES: tuple[Profile, ...] = ("oauth", "mcp")

#: the IdP an agent meets unless it brings a config: one client per flow, one person
AGENT_CONFIG: Mapping[str, Any] = {
    "login": "auto",
    "clients": [
        {"client_id": "agent", "client_secret": "agent-secret", "grant_types": ["client_credentials"]},
        {
            "client_id": "agent-app",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["http://127.0.0.1/callback"],
            "scopes": ["openid", "profile", "email", "offline_access"],
            # lenient on purpose: the pkce-s256 check names what is missing, not an IdP error
            "require_pkce": False,
            "allow_plain_pkce": True,
        },
        {
            "client_id": "agent-device",
            "grant_types": [DEVICE_GRANT, "refresh_token"],
            "scopes": ["openid", "profile", "email", "offline_access"],
        },
    ],
    "users": [
        {"sub": "alice", "username": "alice", "password": "alice-pw", "claims": {"name": "Alice Example"}}
    ],
    # the device flow: a public client; alice approves after one authorization_pending
    "device": {"interval": 1, "approve_after_polls": 1},
}
#: the grant type each flow needs in a client's grant_types
GRANT_OF: Mapping[str, str] = {"device_code": DEVICE_GRANT}


def agent_config(config: ConfigLike = None) -> IdPConfig:
    return as_config(AGENT_CONFIG if config is None else config)


def pick_client(config: IdPConfig, flow: str, client_id: str | None) -> ClientConfig:
    for client in config.clients:
        if client_id is not None and client.client_id != client_id:
            continue
        if GRANT_OF.get(flow, flow) in client.allowed_grant_types:
            return client
    who = f"client {client_id!r}" if client_id else "no client"
    raise ScenarioError(f"{who} in the config can use the {flow} flow")


def agent_env(
    idp: MockIdP, client: ClientConfig, flow: str, apis: MockApis, key: AgentKey | None = None
) -> dict[str, str]:
    env = {"MOCKIDP_ISSUER": idp.issuer, "MOCKIDP_CLIENT_ID": client.client_id, **apis.env()}
    if key is not None:
        env.update(key.env())
    if idp.tls:
        env.update(client_env())  # MOCKIDP_CA_FILE, SSL_CERT_FILE...: trust the local CA
    if client.client_secret is not None and flow == "client_credentials":
        env["MOCKIDP_CLIENT_SECRET"] = client.client_secret
    if flow == "authorization_code":
        if not client.redirect_uris:
            raise ScenarioError(f"client {client.client_id!r} has no redirect_uris for the code flow")
        env["MOCKIDP_REDIRECT_URI"] = client.redirect_uris[0]
    return env


def profile_trials(profile: str, flow: str, names: tuple[str, ...] | None = None) -> list[Trial]:
    """The built-in trials of a profile (or the named ones, which must exist)."""
    if profile == "oauth":
        return trials_for(flow, names)
    if profile != "mcp":
        raise ScenarioError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    if flow != "authorization_code":
        raise ScenarioError("the mcp profile runs the authorization_code flow (MCP clients sign users in)")
    if names is None:
        return list(MCP_TRIALS)
    for name in names:
        if name not in MCP_BY_NAME:
            raise ScenarioError(f"unknown trial {name!r} in the mcp profile; known: {', '.join(MCP_BY_NAME)}")
    return [MCP_BY_NAME[name] for name in names]


def mcp_env(apis: MockApis, document: ClientDocumentHost | None = None) -> dict[str, str]:
    """What an MCP client is told: the server's URL (the first API), where its browser returns
    and, when the trial hosts one, the URL of its client ID metadata document."""
    first = next(iter(apis.apis.values()))
    env = {"MOCKIDP_MCP_URL": first.url, "MOCKIDP_REDIRECT_URI": MCP_REDIRECT_URI, **apis.env()}
    if document is not None:
        env["MOCKIDP_CLIENT_METADATA_URL"] = document.url
    return env


def observe_mcp(
    command: str,
    base: IdPConfig,
    trial: Trial,
    *,
    timeout: float,
    apis: Sequence[str],
    control: Evidence | None = None,
    cwd: str | Path | None = None,
) -> Evidence:
    """One MCP trial: a fresh IdP (and a second one for the migration), the APIs as MCP servers
    and, for ``basic-cimd``, the agent's document host."""
    assert trial.mcp is not None
    config = base.merged(dict(trial.idp)) if trial.idp else base
    configured = {c.client_id for c in config.clients}
    with ExitStack() as stack:
        idp = stack.enter_context(MockIdP(config))
        successor = stack.enter_context(MockIdP(config)) if trial.mcp.migrate else None
        hosted = stack.enter_context(MockApis(idp, apis, clients=[], mcp=trial.mcp, successor=successor))
        document = (
            stack.enter_context(ClientDocumentHost(MCP_REDIRECT_URI)) if trial.client_document else None
        )
        finished = run_once(command, mcp_env(hosted, document), timeout, cwd=cwd)
        url = document.url if document is not None else None
        return Evidence(
            flow="authorization_code",
            expect_exit=trial.expect_exit,
            requests=idp.requests,
            calls=hosted.calls,
            apis=hosted.apis,
            finished=finished,
            timeout=timeout,
            control=control,
            issuer=idp.issuer,
            mcp=trial.mcp,
            metadata_requests=list(hosted.metadata_requests),
            # a document client is resolved, not registered
            registered=[c for cid, c in idp.clients.items() if cid not in configured and cid != url],
            successor_requests=successor.requests if successor is not None else (),
            client_metadata_url=url,
            document_fetches=document.fetches if document is not None else 0,
        )


def _retry_after(faults: Sequence[Fault]) -> float | None:
    for fault in faults:
        if fault.endpoint in ("token", "*") and fault.kind in ("unavailable", "rate_limited"):
            return float(fault.retry_after or 1)
    return None


def observe(
    command: str,
    flow: str,
    base: IdPConfig,
    trial: Trial,
    *,
    timeout: float,
    client_id: str | None,
    apis: Sequence[str],
    control: Evidence | None = None,
    cwd: str | Path | None = None,
    key: AgentKey | None = None,
    tls: bool = False,
) -> Evidence:
    """Run the agent once against a fresh IdP and APIs set up as ``trial`` says; keep what they saw."""
    config = base.merged(dict(trial.idp)) if trial.idp else base
    client = pick_client(config, flow, client_id)
    if key is not None:
        config = signed_config(config, client, key)
        client = pick_client(config, flow, client.client_id)
    rejected = tuple(apis) if "*" in trial.reject_first_token else trial.reject_first_token
    with MockIdP(config, tls=tls) as idp, MockApis(idp, apis, clients=[client.client_id]) as hosted:
        for name, api in hosted.apis.items():
            api.reject_valid = 1 if name in rejected else 0
            api.pages, api.page_delay = trial.pages, trial.page_delay
            if trial.require_acr is not None:
                api.require(acr=trial.require_acr)
            if trial.require_dpop:
                api.require_dpop(nonce=trial.dpop_nonce)
        if trial.id_token_defects:
            idp.plan_defects(trial.id_token_defects, token="id", client_id=client.client_id, times=1)
        finished = run_once(command, agent_env(idp, client, flow, hosted, key), timeout, cwd=cwd)
        return Evidence(
            flow=flow,
            expect_exit=trial.expect_exit,
            requests=idp.requests,
            calls=hosted.calls,
            apis=hosted.apis,
            finished=finished,
            timeout=timeout,
            retry_after=_retry_after(config.faults),
            rejected_apis=rejected,
            client_secret=client.client_secret if flow == "client_credentials" else None,
            control=control,
            issuer=idp.issuer,
            polled=idp.polled_requests(),
            signed=key is not None,
        )


def judge(trial: Trial, evidence: Evidence, *, strict: bool = False) -> TrialReport:
    keys = trial.check_keys(evidence.flow)
    if evidence.signed:
        keys = (*keys, *(k for k in ASSERTION_CHECKS if k not in keys))
    check_known(keys)
    return TrialReport(
        name=trial.name,
        description=trial.description,
        cases=tuple(CHECKS[key](evidence) for key in keys),
        exit_status=evidence.finished.status,
        output=evidence.finished.output,
        strict=strict,
        scenario=trial.scenario,
        spec=trial.spec,
    )


def run_trial(
    command: str,
    flow: str,
    base: IdPConfig,
    trial: Trial,
    *,
    timeout: float,
    client_id: str | None,
    apis: Sequence[str],
    control: Evidence | None = None,
    strict: bool = False,
) -> TrialReport:
    evidence = observe(
        command, flow, base, trial, timeout=timeout, client_id=client_id, apis=apis, control=control
    )
    return judge(trial, evidence, strict=strict)


def check_agent(
    command: str,
    flow: str,
    *,
    config: ConfigLike = None,
    timeout: float = 30.0,
    trials: Sequence[str] | None = None,
    extra_trials: Sequence[Trial] = (),
    client_id: str | None = None,
    apis: Sequence[str] | None = None,
    strict: bool = False,
    cwd: str | Path | None = None,
    auth: str = "client_secret",
    tls: bool = False,
    profile: Profile = "oauth",
) -> AgentReport:
    """Run ``command`` (in ``cwd``: a scenario's directory) once per trial of ``flow`` (of the
    ``profile``: ``mcp`` for MCP clients); the report says which checks failed.
    ``auth="private_key_jwt"``: the agent signs client assertions with a key pair made for this
    run, and the assertion checks are added.

    A trial where the agent must stop is judged against a control: the baseline run (made
    once more, unreported, when it is not among the chosen trials), which shows whether the
    agent gets past the point where it stopped when nothing is wrong. ``tls``: the IdP and the
    APIs serve https from mockidp's local CA, and the agent's environment trusts it.
    """
    if auth not in AUTH_METHODS:
        raise ScenarioError(f"auth must be one of {', '.join(AUTH_METHODS)}, not {auth!r}")
    if profile == "mcp" and (auth != "client_secret" or tls):
        raise ScenarioError("the mcp profile runs over http with dynamic registration: no --auth, no --tls")
    base = agent_config(config)
    chosen = profile_trials(profile, flow, tuple(trials) if trials is not None else None) + list(extra_trials)
    for trial in chosen:
        check_known(trial.check_keys(flow))
    names = tuple(apis) if apis is not None else MCP_APIS if profile == "mcp" else DEFAULT_APIS
    if profile == "oauth":
        pick_client(base, flow, client_id)
    run = functools.partial(
        _run_trials,
        command,
        flow,
        base,
        chosen,
        timeout=timeout,
        client_id=client_id,
        names=names,
        strict=strict,
        cwd=cwd,
        tls=tls,
        honest=MCP_CONTROL if profile == "mcp" else BY_NAME["baseline"],
    )
    if auth == "private_key_jwt":
        with tempfile.TemporaryDirectory(prefix="mockidp-agent-key-") as directory:
            return run(key=provision(Path(directory)))
    return run(key=None)


def _run_trials(
    command: str,
    flow: str,
    base: IdPConfig,
    chosen: list[Trial],
    *,
    timeout: float,
    client_id: str | None,
    names: Sequence[str],
    strict: bool,
    cwd: str | Path | None,
    key: AgentKey | None,
    tls: bool,
    honest: Trial,
) -> AgentReport:
    def look(trial: Trial, control: Evidence | None = None) -> Evidence:
        if trial.mcp is not None:
            return observe_mcp(command, base, trial, timeout=timeout, apis=names, control=control, cwd=cwd)
        return observe(
            command,
            flow,
            base,
            trial,
            timeout=timeout,
            client_id=client_id,
            apis=names,
            control=control,
            cwd=cwd,
            key=key,
            tls=tls,
        )

    baseline = next((t for t in chosen if t is honest), None)
    seen: dict[int, Evidence] = {}
    control = None
    if any(t.expect_exit == "nonzero" for t in chosen):
        control = look(baseline or honest)
        if baseline is not None:
            seen[id(baseline)] = control
    reports = []
    for trial in chosen:
        evidence = seen.get(id(trial)) or look(trial, control if trial.expect_exit == "nonzero" else None)
        reports.append(judge(trial, evidence, strict=strict))
    return AgentReport(target=command, flow=flow, trials=tuple(reports), strict=strict)


def _check_names(loaded: LoadedScenario, spec: AgentTarget) -> None:
    """Unknown trial or check names, reported with their YAML line before anything runs."""
    if spec.profile == "mcp" and spec.flow != "authorization_code":
        raise ScenarioError(f"{loaded.where('agent.flow')}: the mcp profile runs the authorization_code flow")
    known = MCP_BY_NAME if spec.profile == "mcp" else BY_NAME
    for i, name in enumerate(spec.trials or ()):
        trial = known.get(name)
        if trial is None or spec.flow not in trial.flows:
            fits = [t.name for t in profile_trials(spec.profile, spec.flow)]
            raise ScenarioError(
                f"{loaded.where(f'agent.trials[{i}]')}: no trial {name!r} in the {spec.flow} flow "
                f"{'of the mcp profile ' if spec.profile == 'mcp' else ''}"
                f"(known: {', '.join(fits)})"
            )
    for i, extra in enumerate(spec.extra_trials):
        for j, key in enumerate(extra.checks or ()):
            if key not in CHECKS:
                where = loaded.where(f"agent.extra_trials[{i}].checks[{j}]")
                raise ScenarioError(f"{where}: unknown check {key!r} (known: {', '.join(CHECKS)})")


def scenario_dir(loaded: LoadedScenario) -> Path:
    """Where a scenario's commands run: its file's directory, so relative paths mean the same
    wherever ``mockidp run`` or pytest is started."""
    return Path(loaded.file).resolve().parent


def expand(command: str, loaded: LoadedScenario) -> str:
    """``{python}``: this interpreter; ``{scenario_dir}``: the scenario file's directory."""
    here = str(scenario_dir(loaded))
    return command.replace("{python}", shlex.quote(sys.executable)).replace(
        "{scenario_dir}", shlex.quote(here)
    )


def run_agent_scenario(loaded: LoadedScenario, spec: AgentTarget) -> AgentReport:
    """A scenario's agent target: its built-in trials plus the ones it defines."""
    _check_names(loaded, spec)
    extra = [
        Trial(
            name=t.name,
            description=t.description,
            idp=t.idp,
            id_token_defects=t.id_token_defects,
            reject_first_token=t.reject_first_token,
            require_acr=t.require_acr,
            expect_exit=t.exit,
            checks=t.checks,
            mcp=McpOptions() if spec.profile == "mcp" else None,
        )
        for t in spec.extra_trials
    ]
    config = loaded.idp_config if loaded.scenario.idp else None
    return check_agent(
        expand(spec.run, loaded),
        spec.flow,
        config=config,
        timeout=spec.timeout,
        trials=spec.trials,
        extra_trials=extra,
        client_id=spec.client_id,
        apis=spec.apis,
        cwd=scenario_dir(loaded),
        auth=spec.auth,
        profile=spec.profile,
    )


__all__ = ["agent_config", "check_agent"]
