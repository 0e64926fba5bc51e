"""Fixtures and the ``mockidp`` marker, registered through the ``pytest11`` entry point.

``@pytest.mark.mockidp(...)`` takes exactly the keyword arguments of ``MockIdP(...)``: a
``config`` (object, mapping or YAML path) plus top-level config keys that override it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import collect

if TYPE_CHECKING:
    # Only for annotations: importing mockidp (aiohttp, joserfc, the catalog) at plugin load
    # would cost every pytest session where mockidp is installed, used or not. Each fixture
    # imports what it needs when it first runs.
    from mockidp import IdPConfig, MockIdP
    from mockidp.resources import MockApis


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockidp_config", "YAML config for the mockidp fixtures (default: the built-in demo)")
    collect.add_ini(parser)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """YAML scenarios (``scenarios/**/*.yaml`` or the ``mockidp_scenarios`` paths) become tests."""
    return collect.collect_file(file_path, parent)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockidp(config=None, **keys): configure the mockidp fixture for this test"
    )


def _default_config(pytestconfig: pytest.Config) -> IdPConfig:
    path = pytestconfig.getini("mockidp_config")
    if path:
        from mockidp.server import as_config

        return as_config(Path(pytestconfig.rootpath, str(path)))
    from mockidp.demo import demo_config

    return demo_config()


@pytest.fixture
def mockidp_config(pytestconfig: pytest.Config) -> IdPConfig:
    """The config the ``mockidp`` fixture starts from; override it in a conftest.py."""
    return _default_config(pytestconfig)


@pytest.fixture
def mockidp(request: pytest.FixtureRequest, mockidp_config: IdPConfig) -> Iterator[MockIdP]:
    """A fresh, started IdP for this test, sharing nothing with any other test."""
    kwargs: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("mockidp"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.mockidp takes keyword arguments only")
        kwargs.update(marker.kwargs)
    config = kwargs.pop("config", mockidp_config)
    from mockidp import MockIdP

    with MockIdP(config, **kwargs) as idp:
        yield idp


@pytest.fixture
def mockidp_apis(mockidp: MockIdP) -> Iterator[MockApis]:
    """The mock protected APIs ``inventory`` and ``billing``, trusting ``mockidp``; every client
    may get tokens for them (audience = the API's URL, scopes ``<name>:read``/``<name>:write``)."""
    from mockidp.resources import MockApis

    with MockApis(mockidp) as apis:
        yield apis


@pytest.fixture(scope="session")
def mockidp_session(pytestconfig: pytest.Config) -> Iterator[MockIdP]:
    """One IdP for the whole session; prefer ``mockidp_shared``, which resets it per test."""
    from mockidp import MockIdP

    with MockIdP(_default_config(pytestconfig)) as idp:
        yield idp


@pytest.fixture
def mockidp_shared(mockidp_session: MockIdP) -> Iterator[MockIdP]:
    """The session IdP, reset to its config before this test (no state from earlier tests)."""
    mockidp_session.reset()
    yield mockidp_session
    mockidp_session.raise_server_errors()
