"""The DPoP page's example is a real file, shown verbatim, and it passes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_page_shows_its_example_verbatim() -> None:
    text = (DOCS / "flows" / "dpop.md").read_text("utf-8")
    code = (DOCS / "examples" / "test_dpop.py").read_text("utf-8")
    assert f"```python\n{code}```" in text
    assert "```text" in text


def test_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dpop=(DOCS / "examples" / "test_dpop.py").read_text("utf-8"))
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
