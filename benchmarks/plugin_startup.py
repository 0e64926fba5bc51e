"""What an installed but unused mockidp plugin adds to a pytest session's start-up.

Runs one trivial test file in fresh pytest subprocesses, alternating a session with the plugin
and one with ``-p no:mockidp``; the overhead is the difference of the medians. Also prints the
plugin module's own import time (``python -X importtime``). Target: 30 ms or less.

    .venv/bin/python benchmarks/plugin_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def session(directory: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, "test_trivial.py"],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def plugin_import_ms() -> float:
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest, pytest_mockidp.plugin"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    for line in err.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*pytest_mockidp\.plugin$", line)
        if match:
            return int(match.group(1)) / 1000
    raise SystemExit("pytest_mockidp.plugin not in the import-time listing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "test_trivial.py").write_text("def test_trivial():\n    pass\n")
        session(directory)  # warm the file cache
        with_plugin, without = [], []
        for _ in range(args.repeat):
            with_plugin.append(session(directory))
            without.append(session(directory, "-p", "no:mockidp"))
    a, b = statistics.median(with_plugin), statistics.median(without)
    print(f"pytest session, plugin loaded:     median {a * 1000:7.1f} ms ({args.repeat} runs)")
    print(f"pytest session, -p no:mockidp:     median {b * 1000:7.1f} ms")
    print(f"added by the plugin:               {(a - b) * 1000:7.1f} ms (target <= 30 ms)")
    print(f"import of pytest_mockidp.plugin:   {plugin_import_ms():7.1f} ms (cumulative, after pytest)")


if __name__ == "__main__":
    main()
