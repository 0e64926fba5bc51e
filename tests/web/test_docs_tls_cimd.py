"""docs/tls.md and docs/client-id-metadata-documents.md show real files verbatim, and they pass."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = {"tls.md": "test_tls.py", "client-id-metadata-documents.md": "test_cimd.py"}


@pytest.mark.parametrize(("page", "example"), sorted(PAGES.items()))
def test_page_shows_its_example_verbatim(page: str, example: str) -> None:
    text = (DOCS / page).read_text("utf-8")
    code = (DOCS / "examples" / example).read_text("utf-8")
    assert f"```python\n{code}```" in text, f"docs/{page} must show docs/examples/{example} verbatim"


@pytest.mark.slow
def test_examples_pass(pytester: pytest.Pytester) -> None:
    for example in PAGES.values():
        pytester.makepyfile(**{f"{example[:-3]}_example": (DOCS / "examples" / example).read_text("utf-8")})
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=3)
