"""The generated defect reference is current, and the bad-token how-to's Python blocks pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockidp.defects import CATALOG, POLICY_DEFECTS
from mockidp.defects.docs import main, render

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_defect_reference_is_generated_from_the_catalog() -> None:
    current = (DOCS / "defects.md").read_text("utf-8")
    assert current == render(), "docs/defects.md is stale: run python -m mockidp.defects.docs"
    for name in CATALOG:
        assert f"| `{name}` |" in current


def test_docs_generator_check_mode(tmp_path: Path) -> None:
    out = tmp_path / "defects.md"
    assert main(["--output", str(out), "--check"]) == 1
    assert main(["--output", str(out)]) == 0 and out.read_text("utf-8") == render()
    assert main(["--output", str(out), "--check"]) == 0


@pytest.mark.slow
def test_howto_examples_pass(pytester: pytest.Pytester) -> None:
    page = (DOCS / "howto-test-an-api-with-bad-tokens.md").read_text("utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) == 5
    pytester.makepyfile(test_howto="\n\n".join(blocks))
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    step_up = "insufficient_user_authentication"  # only APIs that enforce step-up notice these
    must = [
        d
        for d in CATALOG.values()
        if "access" in d.applies_to and d.severity == "must" and d.expected_error != step_up
        if not d.positive and d.name not in POLICY_DEFECTS
    ]
    positive = [d for d in CATALOG.values() if d.positive and d.name not in POLICY_DEFECTS]
    result.assert_outcomes(passed=len(must) + len(positive) + 5)
