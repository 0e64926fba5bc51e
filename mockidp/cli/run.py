"""``mockidp run FILE...``: run YAML scenarios, with the same tables and reports as check-api/-agent."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..conformance.junit import junit_xml
from ..conformance.runner import ScenarioResult, run_scenario
from ..conformance.scenario import load_scenario


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run YAML conformance scenarios",
        description="Exit status: 0 every scenario found what it expects, 1 one did not, "
        "2 a scenario is invalid or its target cannot be reached.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (version: 1)")
    p.add_argument("--report-json", metavar="FILE", help="write the JSON reports (a list, one per scenario)")
    p.add_argument("--junit-xml", metavar="FILE", help="write JUnit XML (one testsuite per scenario)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = [load_scenario(f) for f in args.files]  # validate every file before running any
    results: list[ScenarioResult] = []
    for scenario in loaded:
        result = run_scenario(scenario)
        results.append(result)
        print(result.report.table())
        print(f"scenario {scenario.name}: {'as expected' if result.passed else 'NOT as expected'}")
        if not result.passed:
            print(result.explain())
        print()
    if args.report_json:
        data = [
            {"scenario": r.loaded.name, "file": r.loaded.file, "as_expected": r.passed, **r.report.to_dict()}
            for r in results
        ]
        Path(args.report_json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if args.junit_xml:
        runs = [(r.report, f"mockidp.run.{r.loaded.name}") for r in results]
        Path(args.junit_xml).write_text(junit_xml(runs), encoding="utf-8")
    return 0 if all(r.passed for r in results) else 1
