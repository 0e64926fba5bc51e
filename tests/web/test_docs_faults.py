"""The fault how-to's Python blocks are one real test module; the control API page lists every route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockidp.web.control import PREFIX, ROUTES

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


@pytest.mark.slow
def test_faults_howto_examples_pass(pytester: pytest.Pytester) -> None:
    blocks = python_blocks((DOCS / "faults.md").read_text("utf-8"))
    assert len(blocks) >= 4
    pytester.makepyfile(test_howto="\n\n".join(blocks))
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=6)


def test_control_api_page_lists_every_route() -> None:
    page = (DOCS / "control-api.md").read_text("utf-8")
    missing = [f"{m} {PREFIX}{p}" for m, p, _ in ROUTES if f"`{m} {PREFIX}{p}`" not in page]
    assert missing == []
