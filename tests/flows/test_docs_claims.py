"""docs/howto-claims.md shows its examples verbatim, and they pass against a real IdP."""

from __future__ import annotations

from pathlib import Path

# loaded before the in-process run, which unloads what it imports first (see conftest.py)
import authlib.integrations.requests_client  # noqa: F401
import fastapi.testclient  # noqa: F401
import flask  # noqa: F401
import jwt  # noqa: F401
import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = ("test_claims_fastapi.py", "test_claims_flask.py")


def test_howto_shows_the_examples_verbatim() -> None:
    text = (DOCS / "howto-claims.md").read_text("utf-8")
    for example in EXAMPLES:
        code = (DOCS / "examples" / example).read_text("utf-8")
        assert f"```python\n{code}```" in text, f"docs/howto-claims.md must show docs/examples/{example}"


@pytest.mark.slow
def test_claims_examples_pass(pytester: pytest.Pytester) -> None:
    for example in EXAMPLES:
        pytester.makepyfile(**{example[:-3]: (DOCS / "examples" / example).read_text("utf-8")})
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=6)
