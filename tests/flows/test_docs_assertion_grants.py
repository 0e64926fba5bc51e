"""The assertion-grant pages' examples (workload identity, token exchange, ID-JAG) are real
files, shown verbatim in the docs, and they pass."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = {
    "workload-identity.md": "test_workload_identity.py",
    "token-exchange.md": "test_token_exchange_act.py",
    "enterprise-managed-authorization.md": "test_enterprise_managed_authorization.py",
}


@pytest.mark.parametrize(("page", "example"), sorted(PAGES.items()))
def test_page_shows_its_example_verbatim(page: str, example: str) -> None:
    text = (DOCS / "flows" / page).read_text("utf-8")
    code = (DOCS / "examples" / example).read_text("utf-8")
    assert f"```python\n{code}```" in text, f"docs/flows/{page} must show docs/examples/{example} verbatim"


@pytest.mark.slow
def test_examples_pass(pytester: pytest.Pytester) -> None:
    for example in PAGES.values():
        pytester.makepyfile(**{example[:-3]: (DOCS / "examples" / example).read_text("utf-8")})
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=6)
