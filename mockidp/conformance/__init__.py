"""Conformance runs: ``check-api`` and ``check-agent``, YAML scenarios, reports.

check_api.check_api(ApiTarget(...))        every catalog defect against one API endpoint
check_agent.check_agent(command, flow)     an agent, once per trial, against misbehaving IdPs
scenario.load_scenario(path)               a ``version: 1`` YAML file, validated with lines
runner.run_scenario(loaded)                either run, compared with the scenario's expectations
"""

from .case import Case
from .check_api import ApiTarget
from .report import AgentReport, ApiReport, TrialReport
from .runner import ScenarioResult, run_scenario
from .scenario import LoadedScenario, Scenario, load_scenario, parse_scenario

__all__ = [
    "AgentReport",
    "ApiReport",
    "ApiTarget",
    "Case",
    "LoadedScenario",
    "Scenario",
    "ScenarioResult",
    "TrialReport",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]
