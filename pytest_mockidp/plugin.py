"""Fixtures and the ``mockidp`` marker, registered through the ``pytest11`` entry point.

``@pytest.mark.mockidp(...)`` takes exactly the keyword arguments of ``MockIdP(...)``: a
``config`` (object, mapping or YAML path) plus top-level config keys that override it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from . import collect

if TYPE_CHECKING:
    # Only for annotations: importing mockidp (aiohttp, joserfc, the catalog) at plugin load
    # would cost every pytest session where mockidp is installed, used or not. Each fixture
    # imports what it needs when it first runs.
    from mockidp import IdPConfig, MockIdP, WorkloadIssuer
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


T = TypeVar("T")


def _marker_kwargs(node: pytest.Item) -> dict[str, Any]:
    """The ``mockidp`` markers' keywords, the closest marker winning."""
    kwargs: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers("mockidp"))):
        if marker.args:
            raise pytest.UsageError(f"{node.nodeid}: @pytest.mark.mockidp takes keyword arguments only")
        kwargs.update(marker.kwargs)
    return kwargs


def _apply_marker(node: pytest.Item, apply: Callable[[], T]) -> T:
    """Run ``apply``; a wrong marker fails the test in one line at its file:line, no traceback."""
    from mockidp.errors import ConfigError, MockIdPError

    try:
        return apply()
    except MockIdPError as exc:
        where = _where(node)
        if isinstance(exc, ConfigError) and exc.file is None:
            key = f" at '{exc.key_path}'" if exc.key_path else ""
            message = f"{where}: @pytest.mark.mockidp{key}: {exc.message}"
        else:
            message = f"{where}: @pytest.mark.mockidp: {exc}"
    # outside the except block, so no "during handling of the above exception" chain is shown
    pytest.fail(message, pytrace=False)


def _where(node: pytest.Item) -> str:
    """``path:line`` of the test function (its first decorator: where the marker usually is)."""
    function = getattr(node, "function", None)
    code = getattr(function, "__code__", None)
    if code is not None:
        try:
            path = Path(code.co_filename).relative_to(node.config.rootpath)
        except ValueError:
            path = Path(code.co_filename)
        return f"{path}:{code.co_firstlineno}"
    return node.nodeid


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A marker on a test that only uses the session IdP would be silently ignored: refuse it."""
    names = set(getattr(item, "fixturenames", ()))
    only_session = "mockidp_session" in names and not {"mockidp", "mockidp_shared"} & names
    if only_session and item.get_closest_marker("mockidp") is not None:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.mockidp cannot configure mockidp_session, which all tests "
            "share unchanged; use mockidp_shared (applies the marker for this test) or mockidp"
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
    kwargs = _marker_kwargs(request.node)
    config = kwargs.pop("config", mockidp_config)
    from mockidp import MockIdP

    idp = _apply_marker(request.node, lambda: MockIdP(config, **kwargs))
    with idp:
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
def mockidp_shared(request: pytest.FixtureRequest, mockidp_session: MockIdP) -> Iterator[MockIdP]:
    """The session IdP, reset to its config before this test (no state from earlier tests).

    A ``mockidp`` marker applies to this test only: the IdP is switched to the marker's config
    and back to the session config afterwards (the issuer and ``dynamic_registration`` cannot
    change on a running IdP: use ``mockidp`` for those).
    """
    kwargs = _marker_kwargs(request.node)
    base = mockidp_session.config
    if kwargs:
        config = kwargs.pop("config", base)
        _apply_marker(request.node, lambda: mockidp_session.reconfigure(config, **kwargs))
    else:
        mockidp_session.reset()
    try:
        yield mockidp_session
        mockidp_session.raise_server_errors()
    finally:
        if mockidp_session.config is not base:
            mockidp_session.reconfigure(base)


@pytest.fixture
def mockidp_env(mockidp: MockIdP, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the app under test at this test's IdP: sets the ``MOCKIDP_*`` environment variables
    of :meth:`mockidp.MockIdP.env` (issuer, JWKS URI, token endpoint, audience, credentials)."""
    values = mockidp.env()
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def mockidp_workload(mockidp: MockIdP) -> WorkloadIssuer:
    """A workload platform this test's ``mockidp`` trusts (a ``trusted_issuers`` entry for every
    configured API and scope): ``.mint(sub, audience=mockidp.issuer)`` makes the JWTs the
    jwt-bearer grant redeems (workload identity federation)."""
    from mockidp import WorkloadIssuer

    issuer = WorkloadIssuer(clock=mockidp.clock)
    apis = list(mockidp.apis.values())
    entry = issuer.trusted_issuer(
        audiences=[a.audience for a in apis], scopes=sorted({s for a in apis for s in a.scopes})
    )
    mockidp.reconfigure(trusted_issuers=[*mockidp.config.trusted_issuers, entry])
    return issuer
