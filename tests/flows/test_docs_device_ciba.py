"""The device-flow and CIBA pages show their examples verbatim, and the examples pass."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = {"device-flow.md": "test_device_flow_agent.py", "ciba.md": "test_ciba_approval.py"}


@pytest.mark.parametrize(("page", "example"), sorted(PAGES.items()))
def test_page_shows_its_example_verbatim(page: str, example: str) -> None:
    text = (DOCS / "flows" / page).read_text("utf-8")
    code = (DOCS / "examples" / example).read_text("utf-8")
    assert f"```python\n{code}```" in text, f"docs/flows/{page} must show docs/examples/{example} verbatim"
    assert "```text" in text  # each page draws its sequence


@pytest.mark.slow
def test_examples_pass(pytester: pytest.Pytester) -> None:
    for example in PAGES.values():
        pytester.makepyfile(**{example[:-3]: (DOCS / "examples" / example).read_text("utf-8")})
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=5)
