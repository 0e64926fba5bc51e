"""The plugin costs nothing until used: loading it imports no part of mockidp."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.slow

UNUSED = """
import sys

def test_nothing_of_mockidp_loaded():
    loaded = sorted(m for m in sys.modules if m == "mockidp" or m.startswith("mockidp."))
    assert loaded == [], loaded
    assert "aiohttp" not in sys.modules
"""

USED = """
def test_fixture_still_works(mockidp):
    assert mockidp.issuer.startswith("http://127.0.0.1:")
"""


def test_an_unused_plugin_imports_no_mockidp_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_unused=UNUSED)
    # a subprocess: this test's own process has mockidp imported already
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=1)


def test_the_fixture_loads_mockidp_when_first_used(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_used=USED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_importing_the_plugin_module_imports_only_pytest() -> None:
    code = (
        "import sys; import pytest_mockidp.plugin; heavy = ('mockidp', 'aiohttp', 'yaml', 'joserfc'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


SHARED = """
import pytest

@pytest.mark.mockidp(clients=[{"client_id": "only-here", "client_secret": "s"}], signing_alg="ES256")
def test_1_marker_applies(mockidp_shared):
    assert list(mockidp_shared.clients) == ["only-here"]
    assert mockidp_shared.signing_key.alg == "ES256"

def test_2_nothing_leaks(mockidp_shared):
    assert "only-here" not in mockidp_shared.clients
    assert "demo-agent" in mockidp_shared.clients
    assert mockidp_shared.signing_key.alg == "RS256"

@pytest.mark.mockidp(issuer="/tenant")
def test_3_fixed_field(mockidp_shared):
    pass

@pytest.mark.mockidp(login="form")
def test_4_session_ignores_markers(mockidp_session):
    pass

def test_5_still_clean(mockidp_shared):
    assert mockidp_shared.config.issuer is None
"""


def test_marker_on_shared_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shared=SHARED)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=3, errors=2)
    out = result.stdout.str()
    assert "test_shared.py:13: @pytest.mark.mockidp: issuer cannot change on a running IdP" in out
    assert "test_shared.py::test_4_session_ignores_markers: @pytest.mark.mockidp cannot configure" in out


TYPOS = """
import pytest

@pytest.mark.mockidp(clients=[{"client_id": "a", "client_secrte": "s"}])
def test_key_typo(mockidp):
    pass

@pytest.mark.mockidp(token_defects=[{"defects": ["expird"]}])
def test_defect_typo(mockidp):
    pass
"""


def test_marker_typos_are_one_line_at_the_test_with_a_suggestion(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_typos=TYPOS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "test_typos.py:3: @pytest.mark.mockidp at 'clients[[]0[]].client_secrte': unknown key"
            " 'client_secrte' (did you mean 'client_secret'?)*",
            "test_typos.py:7: @pytest.mark.mockidp at 'token_defects[[]0[]].defects': unknown defect"
            " 'expird' (did you mean 'expired'?)*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "during handling" not in result.stdout.str().lower()


PLANS = """
import pytest

@pytest.mark.mockidp(token_defects=[{"defects": ["expired"], "times": 1}])
def test_1_marker_plan_applies(mockidp_shared):
    assert mockidp_shared.state.defect_plan.pending

def test_2_no_plan_leaks(mockidp_shared):
    assert not mockidp_shared.state.defect_plan.pending
"""


def test_marker_defect_plans_on_the_shared_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plans=PLANS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)
