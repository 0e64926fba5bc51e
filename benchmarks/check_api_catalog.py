"""How long check-api takes to send the whole catalog to a local API (target: at most 2 s).

Measures ``run_cases`` only (the API's own start is not counted), with ``expired-after-cache``
skipped (it waits about 2.5 s by design), against three local APIs: mockidp's built-in
``inventory`` mock API, the test corpus's correct PyJWT resource server, and the hardened
Starlette + PyJWKClient API of the verdict tests.

    .venv/bin/python benchmarks/check_api_catalog.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from mockidp import MockIdP
from mockidp.conformance.check_api import ApiTarget, RunOptions, access_token_catalog, prepare, run_cases
from mockidp.resources import MockApis

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "conformance"))
import careful_api
from broken_rs import Settings, serve

TARGET = 2.0
FAST = RunOptions(expiry_wait=False)


def builtin_round() -> tuple[float, int]:
    with MockIdP() as idp, MockApis(idp, ["inventory"], clients=()) as apis:
        url = apis["inventory"].url
        target = ApiTarget(url=url, audience=url, scope="inventory:read")
        prepare(idp, target)
        start = time.perf_counter()
        report = run_cases(idp, target, access_token_catalog(), options=FAST)
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
            report = run_cases(idp, target, access_token_catalog(), options=FAST)
            elapsed = time.perf_counter() - start
    assert report.passed, report.table()
    return elapsed, len(report.cases)


def starlette_round() -> tuple[float, int]:
    audience = "https://api.example/items"
    with MockIdP() as idp:
        prepare(idp, ApiTarget(url="", audience=audience, scope="items:read"))
        with careful_api.serve(careful_api.Settings(idp.issuer, idp.jwks_uri, audience)) as url:
            target = ApiTarget(url=url, audience=audience, scope="items:read")
            start = time.perf_counter()
            report = run_cases(idp, target, access_token_catalog(), strict=True, options=FAST)
            elapsed = time.perf_counter() - start
    assert report.passed, report.table()
    return elapsed, len(report.cases)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    worst = 0.0
    rounds = (
        ("builtin inventory API", builtin_round),
        ("corpus correct RS (PyJWT)", corpus_round),
        ("hardened Starlette API (PyJWKClient)", starlette_round),
    )
    for name, fn in rounds:
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
