"""A pinned loopback issuer follows the port actually bound; any other issuer is kept as written."""

from __future__ import annotations

import pytest
import requests

from mockidp import MockIdP


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("http://127.0.0.1:9400", "http://127.0.0.1:{port}"),
        ("http://127.0.0.1:9400/realms/test", "http://127.0.0.1:{port}/realms/test"),
        ("http://localhost:1/t", "http://localhost:{port}/t"),
    ],
)
def test_loopback_issuer_moves_to_the_bound_port(configured: str, expected: str) -> None:
    with MockIdP(issuer=configured) as idp:
        assert idp.issuer == expected.format(port=idp.port)
        document = requests.get(idp.metadata_url, timeout=5).json()
        assert document["issuer"] == idp.issuer
        assert requests.get(document["jwks_uri"], timeout=5).status_code == 200


@pytest.mark.parametrize("configured", ["https://idp.example/tenant", "https://127.0.0.1:9400"])
def test_other_issuers_are_kept(configured: str) -> None:
    with MockIdP(issuer=configured) as idp:
        assert idp.issuer == configured


@pytest.mark.mockidp(issuer="http://127.0.0.1:9400")
def test_fixture_with_a_pinned_issuer(mockidp: MockIdP) -> None:
    assert mockidp.issuer == f"http://127.0.0.1:{mockidp.port}"
    assert requests.get(mockidp.jwks_uri, timeout=5).status_code == 200
