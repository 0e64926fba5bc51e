"""``mockidp defects``: the token defect catalog, as a table or as JSON for other tools."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..defects import CATALOG, DPOP_CATALOG


def register(sub: Any) -> None:
    p = sub.add_parser("defects", help="list the catalog of deliberately broken tokens")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument(
        "--dpop", action="store_true", help="list the DPoP request defects (check-api --dpop) instead"
    )
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


def dpop_table() -> str:
    """One line per DPoP request defect: name, expected reaction, severity, description."""
    rows = [
        (d.name, f"{d.expected_status} {'|'.join(d.expected_errors)}", d.severity, d.description)
        for d in DPOP_CATALOG.values()
    ]
    head = ("NAME", "EXPECTED", "SEVERITY", "DESCRIPTION")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]])
        for row in [head, *rows]
    )


def run(args: argparse.Namespace) -> int:
    if args.dpop:
        if args.json:
            print(json.dumps([d.summary() for d in DPOP_CATALOG.values()], indent=2, ensure_ascii=False))
        else:
            print(dpop_table())
        return 0
    if args.json:
        print(json.dumps([d.summary() for d in CATALOG.values()], indent=2, ensure_ascii=False))
    else:
        print(table())
    return 0
