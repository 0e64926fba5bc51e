"""Shared test helpers. The ``mockidp`` fixtures themselves come from the installed plugin."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
import requests

# mockidp's local CA (``--tls``, ``issue_cert``) lives in the user cache dir: point it at a
# temporary one for the whole run, subprocesses included, so no test writes to the real home.
if not os.environ.get("MOCKIDP_CACHE_DIR", "").startswith(tempfile.gettempdir()):
    _cache = tempfile.mkdtemp(prefix="mockidp-cache-")
    os.environ["MOCKIDP_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

# The plugin imports mockidp lazily. In-process pytester runs (runpytest) unload every module
# first imported during the inner run; cryptography's bindings do not survive being imported a
# second time in one process, so load the whole stack here, before any inner run.
import mockidp.conformance.check_api
import mockidp.resources
import mockidp.server  # noqa: F401
from pytest_mockidp.collect import ScenarioItem

#: the browser tests' fixtures (``chromium``, ``page``, ``shot``): one Chromium set-up for all
pytest_plugins = ["headless"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """YAML scenarios that run an agent or ``start`` an API run subprocesses: mark them slow."""
    for item in items:
        if isinstance(item, ScenarioItem):
            api = item.loaded.scenario.api
            if api is None or api.start:
                item.add_marker(pytest.mark.slow)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain HTTP client that never follows redirects (tests look at them)."""
    with requests.Session() as session:
        session.trust_env = False  # loopback only: ignore any proxy settings
        yield session


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    """``http`` for a whole module: what Hypothesis tests use (a function-scoped fixture is not
    reset between a test's examples)."""
    with requests.Session() as shared:
        shared.trust_env = False
        yield shared
