"""Scenario files as pytest items: ``scenarios/**/*.yaml`` and the paths in ``mockidp_scenarios``.

One item per file; a failure lists each case that did not go as the scenario expects, with the
YAML line it comes from, followed by the run's table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # The scenario runner pulls in the whole IdP: loaded only once a scenario file is collected.
    from mockidp.conformance.scenario import LoadedScenario

INI = "mockidp_scenarios"
DEFAULT_DIRS = ("scenarios",)
SUFFIXES = (".yaml", ".yml")


def add_ini(parser: pytest.Parser) -> None:
    parser.addini(
        INI, "directories or files collected as mockidp scenarios (default: scenarios)", type="paths"
    )


def _wanted(config: pytest.Config, file_path: Path) -> bool:
    """Under a configured path; by default, under a ``scenarios`` directory inside the rootdir.

    The rootdir itself counts: run from inside ``scenarios/`` without an ini file, pytest makes
    that directory the rootdir, and ``rootdir/scenarios`` would find nothing.
    """
    configured: list[Path] = list(config.getini(INI) or ())
    if configured:
        return any(file_path == root or root in file_path.parents for root in configured)
    root = config.rootpath
    return any(p.name in DEFAULT_DIRS for p in file_path.parents if p == root or root in p.parents)


def _is_scenario(path: Path) -> bool:
    """A mapping with ``version: 1`` and a target; other YAML (compose files, configs) is left alone."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True  # let the loader report the error, with its line
    return isinstance(data, dict) and data.get("version") == 1 and ("api" in data or "agent" in data)


def collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    """The ``pytest_collect_file`` hook body (called by plugin.py)."""
    if file_path.suffix not in SUFFIXES:
        return None
    if not _wanted(parent.config, file_path):
        return None
    if not _is_scenario(file_path):
        return None
    made: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return made


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        from mockidp.conformance.scenario import load_scenario

        loaded = load_scenario(self.path)
        yield ScenarioItem.from_parent(self, name=loaded.name, loaded=loaded)


class ScenarioItem(pytest.Item):
    def __init__(self, *, loaded: LoadedScenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded

    def runtest(self) -> None:
        from mockidp.conformance.runner import run_scenario

        result = run_scenario(self.loaded)
        if not result.passed:
            from mockidp.errors import ScenarioFailure

            raise ScenarioFailure(result.explain(), result.report.table())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        from mockidp.errors import ScenarioError, ScenarioFailure

        if isinstance(excinfo.value, ScenarioFailure):
            return f"{excinfo.value}\n\n{excinfo.value.table}"

        if isinstance(excinfo.value, ScenarioError):
            # an inconclusive run or an unreachable API: what to check, not a traceback
            return f"scenario {self.loaded.name!r} ({self.loaded.file}): {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        target = "api" if self.loaded.scenario.api is not None else "agent"
        line = self.loaded.line(target)
        return self.path, (line - 1 if line else None), f"scenario: {self.loaded.name}"
