"""JUnit XML for CI systems: one testsuite per run, one testcase per case.

A failed case names its outcome (``accepted``, ``refused-differently``, ``crashed``, ...) in
the ``type`` attribute and at the start of the message.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .report import Report


def testsuite(report: Report, suite: str) -> ET.Element:
    cases = report.cases
    strict = getattr(report, "strict", False)
    failed = [c for c in cases if not c.passed and c.counts(strict)]
    node = ET.Element("testsuite", name=suite, tests=str(len(cases)), failures=str(len(failed)), errors="0")
    scenario_of = getattr(report, "scenario_of", None)
    for case in cases:
        item = ET.SubElement(node, "testcase", classname=f"{suite}.{report.target}", name=case.name)
        scenario = scenario_of(case.name) if scenario_of else ""
        if scenario:  # the MCP conformance suite's name for the same test
            properties = ET.SubElement(item, "properties")
            ET.SubElement(properties, "property", name="scenario", value=scenario)
        if not case.passed:
            # a should finding without --strict is reported, not failed: "skipped" in CI tabs
            tag = "failure" if case.counts(strict) else "skipped"
            message = case.detail or f"got {case.got}"
            if case.outcome is not None:
                message = f"{case.result}: {message}"
            ET.SubElement(item, tag, message=message, type=case.result).text = message
    return node


def junit_xml(runs: Sequence[tuple[Report, str]]) -> str:
    """One ``<testsuites>`` document holding a ``<testsuite>`` per (report, suite name)."""
    root = ET.Element("testsuites")
    root.extend(testsuite(report, suite) for report, suite in runs)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: str | Path, suite: str) -> None:
    Path(path).write_text(junit_xml([(report, suite)]), encoding="utf-8")
