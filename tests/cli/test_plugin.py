"""The pytest plugin, exercised the way users meet it: through ``pytester`` runs."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

#: in-process runs: the asyncio plugin would warn about its unset ini option in a bare tmp dir
INNER = ("-p", "no:asyncio", "-p", "no:cacheprovider")

ISOLATION = """
import requests

def test_first(mockidp):
    mockidp.add_client(client_id="leaky", client_secret="s")
    mockidp.rotate_keys()
    requests.get(mockidp.jwks_uri, timeout=5)
    assert "leaky" in mockidp.clients

def test_second(mockidp):
    assert "leaky" not in mockidp.clients
    assert mockidp.requests == []
    assert len(mockidp.jwks()["keys"]) == 1
"""


def test_entry_point_is_registered() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("mockidp") == "pytest_mockidp.plugin"


def test_fixture_available_after_install(pytester: pytest.Pytester) -> None:
    """A plain subprocess run, no conftest: only the installed entry point provides the fixture."""
    pytester.makepyfile(
        """
        import requests

        def test_token(mockidp):
            r = requests.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"},
                              auth=("demo-agent", "demo-agent-secret"), timeout=5)
            assert r.status_code == 200
        """
    )
    result = pytester.runpytest_subprocess(*INNER)
    result.assert_outcomes(passed=1)


def test_fresh_idp_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ISOLATION)
    pytester.runpytest(*INNER).assert_outcomes(passed=2)


def test_marker_overrides_config_keys(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockidp(access_token_ttl=42, signing_alg="ES256")
        def test_marked(mockidp):
            assert mockidp.config.access_token_ttl == 42
            assert mockidp.jwks()["keys"][0]["alg"] == "ES256"
            assert "demo-agent" in mockidp.clients  # the rest of the demo config stays

        @pytest.mark.mockidp(clients=[{"client_id": "only", "client_secret": "s"}])
        def test_replaced_clients(mockidp):
            assert list(mockidp.clients) == ["only"]

        @pytest.mark.mockidp(config={"access_token_ttl": 7})
        def test_whole_config(mockidp):
            assert mockidp.config.access_token_ttl == 7
            assert mockidp.clients == {}

        @pytest.mark.mockidp(access_token_ttl="soon")
        def test_bad_key_is_an_error(mockidp):
            pass

        @pytest.mark.mockidp("positional")
        def test_positional_is_an_error(mockidp):
            pass

        def test_unmarked(mockidp):
            assert mockidp.config.access_token_ttl == 300
        """
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(["*access_token_ttl*expected an integer*"])
    result.stdout.fnmatch_lines(["*keyword arguments only*"])


def test_marker_on_class_and_module_merge(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.mockidp(access_token_ttl=10, code_ttl=5)

        @pytest.mark.mockidp(access_token_ttl=20)
        class TestNested:
            @pytest.mark.mockidp(code_ttl=30)
            def test_closest_wins(self, mockidp):
                assert mockidp.config.access_token_ttl == 20
                assert mockidp.config.code_ttl == 30
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


def test_mockidp_config_fixture_override(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from mockidp import IdPConfig

        @pytest.fixture
        def mockidp_config():
            return IdPConfig.from_dict({
                "apis": [{"audience": "orders", "scopes": ["orders:read"]}],
                "clients": [{"client_id": "shop", "client_secret": "s",
                             "scopes": ["orders:read"], "audiences": ["orders"]}],
            })
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_uses_override(mockidp):
            assert list(mockidp.clients) == ["shop"]
            assert mockidp.issue_token(client_id="shop")

        @pytest.mark.mockidp(access_token_ttl=9)
        def test_marker_on_top_of_override(mockidp):
            assert list(mockidp.clients) == ["shop"]
            assert mockidp.config.access_token_ttl == 9
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=2)


def test_ini_option_names_a_yaml_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml",
        idp="clients:\n  - client_id: from-ini\n    client_secret: s\naccess_token_ttl: 11\n",
    )
    pytester.makeini("[pytest]\nmockidp_config = idp.yaml\n")
    pytester.makepyfile(
        """
        def test_ini(mockidp):
            assert list(mockidp.clients) == ["from-ini"]
            assert mockidp.config.access_token_ttl == 11

        def test_shared_uses_ini_too(mockidp_shared):
            assert list(mockidp_shared.clients) == ["from-ini"]
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=2)


def test_bad_ini_config_names_the_file_and_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", idp="access_token_ttl: 1\nlogn: auto\n")
    pytester.makeini("[pytest]\nmockidp_config = idp.yaml\n")
    pytester.makepyfile("def test_it(mockidp):\n    pass\n")
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*idp.yaml:2 at 'logn': unknown key 'logn'*"])


def test_session_variant_is_shared_and_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        ports = []

        def test_one(mockidp_shared):
            ports.append(mockidp_shared.port)
            mockidp_shared.add_client(client_id="temp", client_secret="s")
            mockidp_shared.clock.freeze(5)
            requests.get(mockidp_shared.jwks_uri, timeout=5)

        def test_two(mockidp_shared):
            ports.append(mockidp_shared.port)
            assert ports[0] == ports[1]  # one server for the session
            assert "temp" not in mockidp_shared.clients
            assert mockidp_shared.requests == []
            assert not mockidp_shared.clock.frozen

        def test_same_object(mockidp_session, mockidp_shared):
            assert mockidp_session is mockidp_shared
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=3)


def test_server_bug_surfaces_as_a_test_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def boom():
            raise ZeroDivisionError("handler exploded")

        def test_function_scoped(mockidp):
            mockidp.state.keys.jwks = boom
            r = requests.get(mockidp.jwks_uri, timeout=5)
            assert r.status_code == 500
            assert r.json()["error"] == "server_error"
            assert "Traceback" not in r.text

        def test_shared(mockidp_shared):
            original = mockidp_shared.state.keys.jwks
            mockidp_shared.state.keys.jwks = boom
            try:
                requests.get(mockidp_shared.jwks_uri, timeout=5)
            finally:
                mockidp_shared.state.keys.jwks = original
        """
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*ServerBugError*handler exploded*"])


def test_readme_fixture_example_runs(pytester: pytest.Pytester) -> None:
    """The README's fixture example is a real test file."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)[0]
    pytester.makepyfile(test_readme=example)
    pytester.runpytest(*INNER).assert_outcomes(passed=2)
