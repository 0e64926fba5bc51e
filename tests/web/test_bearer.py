"""The one bearer reader (``mockidp.web.bearer.header_token``), shared by the IdP and the mock APIs."""

from __future__ import annotations

import pytest
import requests

from mockidp import MockIdP
from mockidp.resources import MockApis
from mockidp.web.bearer import header_token


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),  # the scheme is case-insensitive (RFC 9110 §11.1)
        ("BEARER   abc  ", "abc"),
        ("Bearer", ""),  # Bearer credentials without a token
        ("Bearer    ", ""),
        ("Basic dXNlcjpwYXNz", None),
        ("DPoP abc", None),
        ("Bearerabc", None),
    ],
)
def test_header_token(value: str, token: str | None) -> None:
    assert header_token({"Authorization": value}) == token


def test_no_header_is_no_token() -> None:
    assert header_token({}) is None


def test_idp_and_mock_api_read_the_same_header(mockidp: MockIdP, http: requests.Session) -> None:
    """Same parser, each endpoint's own answer: userinfo calls an empty Bearer an invalid token,
    a mock API calls it no token at all (a bare challenge naming its metadata)."""
    with MockApis(mockidp, ["inventory"]) as hosted:
        api = hosted["inventory"]
        token = mockidp.issue_token(audience=api.url, scope="inventory:read")
        r = http.get(api.url + "/items", headers={"Authorization": f"bEaReR {token}"})
        assert r.status_code == 200, r.text
        r = http.get(api.url + "/items", headers={"Authorization": "Bearer "})
        assert r.status_code == 401 and "error=" not in r.headers["WWW-Authenticate"]
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": "Bearer "})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
