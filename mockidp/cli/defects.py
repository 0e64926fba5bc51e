"""``mockidp defects``: the token defect catalog, as a table or as JSON for other tools."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..defects import CATALOG


def register(sub: Any) -> None:
    p = sub.add_parser("defects", help="list the catalog of deliberately broken tokens")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(run=run)


def table() -> str:
    """One line per defect: name, group, expected reaction, severity, description."""
    rows = [
        (d.name, d.group, f"{d.expected_status} {d.expected_error}", d.severity, d.description)
        for d in CATALOG.values()
    ]
    head = ("NAME", "GROUP", "EXPECTED", "SEVERITY", "DESCRIPTION")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = []
    for row in [head, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        lines.append("  ".join([*cells, row[4]]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([d.summary() for d in CATALOG.values()], indent=2, ensure_ascii=False))
    else:
        print(table())
    return 0
