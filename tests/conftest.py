"""Shared test helpers. The ``mockidp`` fixtures themselves come from the installed plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain HTTP client that never follows redirects (tests look at them)."""
    with requests.Session() as session:
        session.trust_env = False  # loopback only: ignore any proxy settings
        yield session
