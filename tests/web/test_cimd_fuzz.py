"""Hypothesis over the inputs client ID metadata documents add: the document, the client_id URL,
the assertion a signed document client sends, and the token endpoint serving arbitrary
documents. Every input ends in a client or a clean OAuth error; bounded example counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from apphost import AppHost
from fuzzing import Answer, error_body_problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockidp import IdPConfig, MockIdP
from mockidp.client_documents import check_client_id_url, client_from_document
from mockidp.config import CimdConfig
from mockidp.errors import OAuthError
from mockidp.params import Params
from mockidp.state import IdPState
from mockidp.web.client_documents import requested_client_id

# Hypothesis runs with many examples each: CI runs them, the fast loop leaves them out
pytestmark = pytest.mark.slow

FAST = settings(max_examples=200, deadline=None)
HTTP = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
URL = "https://agents.example/client.json"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "client_id",
    "client_name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "scope",
    "jwks",
    "jwks_uri",
    "client_secret",
]
VALUES = st.one_of(
    JSON,
    st.just(URL),
    st.sampled_from(
        ["none", "private_key_jwt", "client_secret_basic", "openid profile", "https://k.example/jwks"]
    ),
    st.lists(
        st.sampled_from(
            [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "implicit",
                "code",
                "http://127.0.0.1/cb",
                "https://app.example/cb",
                "http://evil.example/cb",
                "com.example:/cb",
                "no scheme",
            ]
        ),
        max_size=3,
    ),
    st.just({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}),
)
DOCUMENTS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)


@pytest.fixture(scope="module")
def state() -> IdPState:
    return IdPState(IdPConfig())


@FAST
@given(DOCUMENTS)
def test_any_document_is_a_client_or_an_oauth_error(state: IdPState, document: dict[str, Any]) -> None:
    try:
        client = client_from_document(URL, document, state)
    except OAuthError as exc:
        refused = exc.error
    else:
        refused = ""
    if refused:
        assert refused in ("invalid_client", "invalid_client_metadata", "invalid_redirect_uri")
        return
    assert client.client_id == URL == document["client_id"]
    assert client.redirect_uris and "client_secret" not in document
    assert client.token_endpoint_auth_method in ("none", "private_key_jwt")
    assert client.client_secret is None


URL_PARTS = st.sampled_from(
    [
        "https://",
        "http://",
        "ftp://",
        "https://a.example",
        "127.0.0.1",
        "[::1]",
        ":443",
        ":99999",
        "/",
        "/x",
        "/./",
        "/../",
        "#f",
        "?q=1",
        "@",
        "user:pw@",
        "%2e%2e",
        " ",
        "\x00",
        "é",
    ]
)


@FAST
@given(st.lists(URL_PARTS, max_size=6).map("".join) | st.text(max_size=40), st.booleans())
def test_any_client_id_url_is_accepted_or_refused_cleanly(url: str, loopback_http: bool) -> None:
    try:
        check_client_id_url(url, CimdConfig(allow_http_loopback=loopback_http))
    except OAuthError as exc:
        refused = exc.error
    else:
        refused = ""
    if refused:
        assert refused in ("invalid_request", "invalid_client")
        return
    assert url.startswith(("https://", "http://127.", "http://[::1]")) and "#" not in url


@FAST
@given(st.text(max_size=60) | st.lists(st.text(max_size=30), min_size=3, max_size=3).map(".".join))
def test_any_assertion_names_a_string_subject_or_none(assertion: str) -> None:
    found = requested_client_id(Params({"client_assertion": [assertion]}))
    assert found is None or isinstance(found, str)


class Served:
    body: Any = None


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Served, str]]:
    current = Served()

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(current.body, headers={"Cache-Control": "no-store"})

    app = web.Application()
    app.router.add_get("/client.json", handler)
    with AppHost(app) as host:
        yield current, f"{host.base_url}/client.json"


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    with MockIdP(cimd={"allow_http_loopback": True}, login="auto") as server:
        yield server


@HTTP
@given(DOCUMENTS, st.sampled_from(["token", "authorize", "revoke", "introspect"]))
def test_endpoints_answer_any_served_document_cleanly(
    idp: MockIdP, served: tuple[Served, str], document: dict[str, Any], endpoint: str
) -> None:
    current, url = served
    current.body = {k: (url if v == URL else v) for k, v in document.items()}
    with requests.Session() as http:
        http.trust_env = False
        if endpoint == "authorize":
            params = {
                "response_type": "code",
                "client_id": url,
                "code_challenge": "c" * 43,
                "code_challenge_method": "S256",
            }
            response = http.get(idp.url("authorize"), params=params, allow_redirects=False)
            assert response.status_code in (302, 400), response.text
        else:
            form = {"client_id": url, "grant_type": "authorization_code", "code": "x", "token": "t"}
            response = http.post(idp.url(endpoint), data=form)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                answer = Answer(
                    response.status_code,
                    {k.lower(): v for k, v in response.headers.items()},
                    response.content,
                )
                assert error_body_problems(answer) == []
    assert not idp.state.server_errors.errors
