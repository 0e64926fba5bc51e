"""Run a loaded scenario and compare what it found with what it expects.

A scenario passes when every case not listed in ``expect.failing`` passed and every listed one
failed; each mismatch carries the YAML key path of the entry it came from, for its line.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ScenarioError, TargetUnreachable
from ..resources import MockApis
from ..server import MockIdP
from .case import Case
from .check_api import (
    ApiTarget,
    Catalog,
    RunOptions,
    access_token_catalog,
    environment,
    keys_kept,
    mint,
    prepare,
    run_cases,
    send_case,
)
from .processes import host_port, port_open, started
from .report import ApiReport, Report
from .resource_metadata import metadata_cases
from .scenario import ApiTarget as ApiSpec
from .scenario import ApiTrial, LoadedScenario


@dataclass(frozen=True, slots=True)
class Mismatch:
    case: str
    expected: str  # "pass" | "fail"
    detail: str
    key_path: str


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    loaded: LoadedScenario
    report: Report
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def explain(self) -> str:
        """Each mismatch with the file and line it comes from."""
        lines = [f"scenario {self.loaded.name!r} ({self.loaded.file}):"]
        for m in self.mismatches:
            verdict = "should have failed but passed" if m.expected == "fail" else "failed"
            lines.append(
                f"  {self.loaded.where(m.key_path)}: {m.case} {verdict}"
                + (f": {m.detail}" if m.detail else "")
            )
        return "\n".join(lines)


def run_scenario(loaded: LoadedScenario) -> ScenarioResult:
    scenario = loaded.scenario
    if scenario.api is not None:
        report: Report = run_api_scenario(loaded, scenario.api)
        # a defect the file names points at its own line, not at `api:`
        origins = {name: f"api.defects[{i}]" for i, name in enumerate(scenario.api.defects or ())}
        origins.update({t.name: f"api.trials[{i}]" for i, t in enumerate(scenario.api.trials)})
        default = "api"
        strict = scenario.api.strict
    else:
        from .check_agent import run_agent_scenario

        assert scenario.agent is not None
        report = run_agent_scenario(loaded, scenario.agent)
        origins = {name: f"agent.trials[{i}]" for i, name in enumerate(scenario.agent.trials or ())}
        extra = scenario.agent.extra_trials
        origins.update({t.name: f"agent.extra_trials[{i}]" for i, t in enumerate(extra)})
        default = "agent"
        strict = True
    return ScenarioResult(loaded, report, tuple(_compare(loaded, report.cases, strict, origins, default)))


def _compare(
    loaded: LoadedScenario, cases: tuple[Case, ...], strict: bool, origins: dict[str, str], default: str
) -> Iterator[Mismatch]:
    failing = loaded.scenario.expect.failing
    names = {c.name for c in cases}
    for i, name in enumerate(failing):
        if name not in names:
            yield Mismatch(name, "fail", "no case has this name", f"expect.failing[{i}]")
    for case in cases:
        failed = not case.passed and case.counts(strict)
        if case.name in failing and not failed:
            # a check-agent case with nothing to look at neither passed nor failed: say so
            why = f"it was not-applicable: {case.detail}" if case.result == "not-applicable" else ""
            yield Mismatch(case.name, "fail", why, f"expect.failing[{failing.index(case.name)}]")
        elif case.name not in failing and failed:
            path = origins.get(case.name, origins.get(case.name.split("/")[0], default))
            detail = f"{case.result}: {case.detail}" if case.outcome and case.detail else case.detail
            yield Mismatch(case.name, "pass", detail, path)


def _catalog(loaded: LoadedScenario, spec: ApiSpec) -> Catalog:
    full = access_token_catalog(everything=spec.defects is not None)
    wanted = {f"api.defects[{i}]": n for i, n in enumerate(spec.defects or ())}
    for i, trial in enumerate(spec.trials):
        wanted.update({f"api.trials[{i}].defects[{j}]": n for j, n in enumerate(trial.defects)})
    for path, name in wanted.items():
        if name not in full:
            raise ScenarioError(f"{loaded.where(path)}: unknown access-token defect {name!r}")
    return full if spec.defects is None else {n: full[n] for n in spec.defects}


def run_api_scenario(loaded: LoadedScenario, spec: ApiSpec) -> ApiReport:
    catalog = _catalog(loaded, spec)
    with MockIdP(loaded.idp_config, port=spec.port) as idp, _target(idp, spec, loaded) as target:
        prepare(idp, target, [s for t in spec.trials for s in (t.scope or "").split(" ")])
        if not port_open(*host_port(target.url), timeout=2.0):
            raise TargetUnreachable(f"nothing accepts connections at {target.url}")
        whole = spec.defects is None  # a `defects` list names exactly what is sent
        options = RunOptions(
            placement=whole,
            expiry_wait=whole and spec.expiry_wait,
            allow_token_in=frozenset(spec.allow_token_in),
            dpop=spec.dpop or spec.dpop_nonce,
            dpop_nonce=spec.dpop_nonce,
        )
        report = run_cases(idp, target, catalog, strict=spec.strict, options=options)
        extra = list(report.cases)
        if spec.resource_metadata:
            extra += metadata_cases(target, idp.issuer)
        for trial in spec.trials:
            with keys_kept(idp):
                extra.append(_trial_case(idp, target, trial))
        return ApiReport(target=report.target, cases=tuple(extra), strict=spec.strict)


@contextlib.contextmanager
def _target(idp: MockIdP, spec: ApiSpec, loaded: LoadedScenario) -> Iterator[ApiTarget]:
    if spec.builtin is not None:
        with MockApis(idp, [spec.builtin], clients=()) as apis:
            url = apis[spec.builtin].url
            yield ApiTarget(
                url=url,
                audience=spec.audience or url,
                scope=spec.scope or f"{spec.builtin}:read",
                method=spec.method,
            )
        return
    assert spec.url is not None and spec.scope is not None
    target = ApiTarget(url=spec.url, audience=spec.audience or spec.url, scope=spec.scope, method=spec.method)
    if spec.start is None:
        yield target
        return
    from .check_agent import expand, scenario_dir

    with started(expand(spec.start, loaded), environment(idp, target), target.url, cwd=scenario_dir(loaded)):
        yield target


def _trial_case(idp: MockIdP, target: ApiTarget, trial: ApiTrial) -> Case:
    method = (trial.method or target.method).upper()
    scoped = ApiTarget(
        url=target.url, audience=target.audience, scope=trial.scope or target.scope, method=method
    )
    if trial.keys is not None:
        idp.rotate_keys(publish_first=trial.keys == "publish-first")
    token = None if trial.no_token else mint(idp, scoped, trial.defects)
    expected = None if 200 <= trial.status < 300 else trial.status
    case = send_case(
        scoped, trial.name, token, expected, trial.error, "must", "scenario trial", cause="trial"
    )
    if case.result == "refused-differently":
        # the scenario spelled out the reaction it wants: another one fails, whatever the challenge rule
        return dataclasses.replace(case, outcome="failed", cause="trial")
    return case
