"""The README's test commands and ``.ci/run`` agree: CI runs the suite the way the README says."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pytest_args(text: str) -> list[list[str]]:
    """The arguments after ``python -m pytest`` on each line that runs it."""
    found = re.findall(r"python -m pytest([^\n]*)", text)
    return [shlex.split(line.split("&&")[0]) for line in found]


def test_ci_runs_the_readme_command() -> None:
    readme = pytest_args((ROOT / "README.md").read_text(encoding="utf-8"))
    ci = pytest_args((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert len(ci) == 1
    assert readme[0] == ci[0]
    assert ci[0][:2] == ["-n", "auto"]  # the whole suite, in parallel


def test_fast_loop_deselects_only_registered_markers() -> None:
    readme = pytest_args((ROOT / "README.md").read_text(encoding="utf-8"))
    fast = next(args for args in readme if "-m" in args)
    expression = fast[fast.index("-m") + 1]
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    registered = {line.split(":")[0] for line in ini["ini_options"]["markers"]}
    used = set(re.findall(r"not (\w+)", expression))
    assert used == {"slow", "browser", "interop"}
    assert used <= registered
