"""The private_key_jwt page shows its example verbatim, and the example passes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "test_private_key_jwt.py"


def test_page_shows_its_example_verbatim() -> None:
    text = (DOCS / "flows" / "private-key-jwt.md").read_text("utf-8")
    assert f"```python\n{EXAMPLE.read_text('utf-8')}```" in text
    assert "```text" in text


def test_example_passes(pytester: pytest.Pytester) -> None:
    # another name than tests/web/test_private_key_jwt.py, which this in-process run may have imported
    pytester.makepyfile(test_private_key_jwt_example=EXAMPLE.read_text("utf-8"))
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
