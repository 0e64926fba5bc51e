"""How long check-api takes to send the whole catalog to a local API (target: at most 2 s).

Measures ``run_cases`` only (the API's own start is not counted), against two local APIs:
mockidp's built-in ``inventory`` mock API and the test corpus's correct PyJWT resource server.

    .venv/bin/python benchmarks/check_api_catalog.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from mockidp import MockIdP
from mockidp.conformance.check_api import ApiTarget, access_token_catalog, prepare, run_cases
from mockidp.resources import MockApis

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "conformance"))
from broken_rs import Settings, serve

TARGET = 2.0


def builtin_round() -> tuple[float, int]:
    with MockIdP() as idp, MockApis(idp, ["inventory"], clients=()) as apis:
        url = apis["inventory"].url
        target = ApiTarget(url=url, audience=url, scope="inventory:read")
        prepare(idp, target)
        start = time.perf_counter()
        report = run_cases(idp, target, access_token_catalog())
        elapsed = time.perf_counter() - start
    assert report.passed, report.table()
    return elapsed, len(report.cases)


def corpus_round() -> tuple[float, int]:
    audience = "https://api.example/items"
    with MockIdP() as idp:
        prepare(idp, ApiTarget(url="", audience=audience, scope="items:read"))
        with serve(Settings(idp.issuer, idp.jwks_uri, audience, "items:read")) as url:
            target = ApiTarget(url=url, audience=audience, scope="items:read")
            start = time.perf_counter()
            report = run_cases(idp, target, access_token_catalog())
            elapsed = time.perf_counter() - start
    assert report.passed, report.table()
    return elapsed, len(report.cases)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    worst = 0.0
    for name, fn in (("builtin inventory API", builtin_round), ("corpus correct RS (PyJWT)", corpus_round)):
        times = []
        cases = 0
        for _ in range(args.rounds):
            elapsed, cases = fn()
            times.append(elapsed)
        worst = max(worst, max(times))
        print(
            f"{name}: {cases} cases, median {statistics.median(times):.3f} s, "
            f"max {max(times):.3f} s over {args.rounds} rounds"
        )
    print(f"target <= {TARGET} s: {'met' if worst <= TARGET else 'MISSED'}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
