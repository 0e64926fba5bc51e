"""``check-agent``: run an agent once per trial against a fresh IdP and fresh mock APIs.

The agent learns everything from its environment (``MOCKIDP_ISSUER``, ``MOCKIDP_CLIENT_ID``,
``MOCKIDP_CLIENT_SECRET`` for a confidential client, ``MOCKIDP_REDIRECT_URI`` in the code flow,
``MOCKIDP_API_<NAME>_URL``). Each trial's checks read the IdP journal and the APIs' call
records after the agent has exited.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import ClientConfig, IdPConfig
from ..errors import ScenarioError
from ..faults import Fault
from ..resources import DEFAULT_APIS, MockApis
from ..server import ConfigLike, MockIdP, as_config
from .agent_checks import CHECKS, Evidence
from .agent_trials import BY_NAME, Trial, check_known, trials_for
from .processes import run_once
from .report import AgentReport, TrialReport
from .scenario import AgentTarget, LoadedScenario

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
    ],
    "users": [
        {"sub": "alice", "username": "alice", "password": "alice-pw", "claims": {"name": "Alice Example"}}
    ],
}


def agent_config(config: ConfigLike = None) -> IdPConfig:
    return as_config(AGENT_CONFIG if config is None else config)


def pick_client(config: IdPConfig, flow: str, client_id: str | None) -> ClientConfig:
    for client in config.clients:
        if client_id is not None and client.client_id != client_id:
            continue
        if flow in client.allowed_grant_types:
            return client
    who = f"client {client_id!r}" if client_id else "no client"
    raise ScenarioError(f"{who} in the config can use the {flow} flow")


def agent_env(idp: MockIdP, client: ClientConfig, flow: str, apis: MockApis) -> dict[str, str]:
    env = {"MOCKIDP_ISSUER": idp.issuer, "MOCKIDP_CLIENT_ID": client.client_id, **apis.env()}
    if client.client_secret is not None and flow == "client_credentials":
        env["MOCKIDP_CLIENT_SECRET"] = client.client_secret
    if flow == "authorization_code":
        if not client.redirect_uris:
            raise ScenarioError(f"client {client.client_id!r} has no redirect_uris for the code flow")
        env["MOCKIDP_REDIRECT_URI"] = client.redirect_uris[0]
    return env


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
) -> Evidence:
    """Run the agent once against a fresh IdP and APIs set up as ``trial`` says; keep what they saw."""
    config = base.merged(dict(trial.idp)) if trial.idp else base
    client = pick_client(config, flow, client_id)
    rejected = tuple(apis) if "*" in trial.reject_first_token else trial.reject_first_token
    with MockIdP(config) as idp, MockApis(idp, apis, clients=[client.client_id]) as hosted:
        for name, api in hosted.apis.items():
            api.reject_valid = 1 if name in rejected else 0
            api.pages, api.page_delay = trial.pages, trial.page_delay
            if trial.require_acr is not None:
                api.require(acr=trial.require_acr)
            if trial.require_dpop:
                api.require_dpop(nonce=trial.dpop_nonce)
        if trial.id_token_defects:
            idp.plan_defects(trial.id_token_defects, token="id", client_id=client.client_id, times=1)
        finished = run_once(command, agent_env(idp, client, flow, hosted), timeout, cwd=cwd)
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
        )


def judge(trial: Trial, evidence: Evidence, *, strict: bool = False) -> TrialReport:
    keys = trial.check_keys(evidence.flow)
    check_known(keys)
    return TrialReport(
        name=trial.name,
        description=trial.description,
        cases=tuple(CHECKS[key](evidence) for key in keys),
        exit_status=evidence.finished.status,
        output=evidence.finished.output,
        strict=strict,
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
    apis: Sequence[str] = DEFAULT_APIS,
    strict: bool = False,
    cwd: str | Path | None = None,
) -> AgentReport:
    """Run ``command`` (in ``cwd``: a scenario's directory) once per trial of ``flow``; the
    report says which checks failed.

    A trial where the agent must stop is judged against a control: the baseline run (made
    once more, unreported, when it is not among the chosen trials), which shows whether the
    agent gets past the point where it stopped when nothing is wrong.
    """
    base = agent_config(config)
    chosen = trials_for(flow, tuple(trials) if trials is not None else None) + list(extra_trials)
    for trial in chosen:
        check_known(trial.check_keys(flow))
    pick_client(base, flow, client_id)

    def look(trial: Trial, control: Evidence | None = None) -> Evidence:
        return observe(
            command,
            flow,
            base,
            trial,
            timeout=timeout,
            client_id=client_id,
            apis=apis,
            control=control,
            cwd=cwd,
        )

    baseline = next((t for t in chosen if t.name == "baseline" and t is BY_NAME["baseline"]), None)
    seen: dict[int, Evidence] = {}
    control = None
    if any(t.expect_exit == "nonzero" for t in chosen):
        control = look(baseline or BY_NAME["baseline"])
        if baseline is not None:
            seen[id(baseline)] = control
    reports = []
    for trial in chosen:
        evidence = seen.get(id(trial)) or look(trial, control if trial.expect_exit == "nonzero" else None)
        reports.append(judge(trial, evidence, strict=strict))
    return AgentReport(target=command, flow=flow, trials=tuple(reports), strict=strict)


def _check_names(loaded: LoadedScenario, spec: AgentTarget) -> None:
    """Unknown trial or check names, reported with their YAML line before anything runs."""
    for i, name in enumerate(spec.trials or ()):
        trial = BY_NAME.get(name)
        if trial is None or spec.flow not in trial.flows:
            fits = [t.name for t in trials_for(spec.flow)]
            raise ScenarioError(
                f"{loaded.where(f'agent.trials[{i}]')}: no trial {name!r} in the {spec.flow} flow "
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
    )


__all__ = ["agent_config", "check_agent"]
