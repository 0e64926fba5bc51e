"""Client ID metadata documents (``mockidp.client_documents``), check by check, over real HTTP.

The documents are served by a test host on 127.0.0.1; most tests use plain http with
``cimd.allow_http_loopback`` (the option exists for exactly this), the https path is covered by
``test_cimd_mcp.py`` and by the ``tls`` test below. Every refusal is asserted with its error
code and the reason, at /token (JSON) or at /authorize (a 400 page, never a redirect).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from aiohttp import web
from apphost import AppHost
from private_key_jwt_client import SignedClient

import mockidp as mockidp_lib
from mockidp import MockIdP
from mockidp.runtime import AppRuntime
from mockidp.web.listen import listen

LOOPBACK_HTTP = pytest.mark.mockidp(cimd={"allow_http_loopback": True}, login="auto")
REDIRECT = "http://127.0.0.1/callback"
VERIFIER = "v" * 43
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Served:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    location: str | None = None


class Documents:
    """Serves whatever ``documents[path]`` says and counts the hits per path."""

    def __init__(self) -> None:
        self.documents: dict[str, Served] = {}
        self.hits: dict[str, int] = {}
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.serve)
        self.base = ""

    async def serve(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.hits[path] = self.hits.get(path, 0) + 1
        served = self.documents.get(path)
        if served is None:
            return web.json_response({"error": "no such document"}, status=404)
        if served.location is not None:
            return web.Response(status=302, headers={"Location": served.location})
        if served.raw is not None:
            return web.Response(body=served.raw, status=served.status, headers=served.headers)
        return web.json_response(served.body, status=served.status, headers=served.headers)

    def add(self, path: str, **changes: Any) -> str:
        """A valid document at ``path`` with ``changes`` (``None`` removes a key); returns its URL."""
        url = self.base + path
        document: dict[str, Any] = {
            "client_id": url,
            "client_name": "Doc Agent",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        }
        for key, value in changes.items():
            if value is None:
                document.pop(key, None)
            else:
                document[key] = value
        self.documents[path] = Served(document, headers={"Cache-Control": "max-age=60"})
        return url


@pytest.fixture
def docs() -> Iterator[Documents]:
    documents = Documents()
    with AppHost(documents.app) as host:
        documents.base = host.base_url
        yield documents


def authorize(
    http: requests.Session, idp: MockIdP, client_id: str, redirect_uri: str = REDIRECT
) -> requests.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "s1",
    }
    return http.get(idp.url("authorize"), params=params, allow_redirects=False)


def code_from(response: requests.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return query["code"][0]


def token(
    http: requests.Session, idp: MockIdP, client_id: str, code: str, redirect_uri: str = REDIRECT
) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": VERIFIER,
    }
    return http.post(idp.token_endpoint, data=form)


def assert_refused(response: requests.Response, error: str, reason: str) -> None:
    assert response.status_code in (400, 401), response.text
    body = response.json()
    assert body["error"] == error, body
    assert reason in body["error_description"], body


def assert_page(response: requests.Response, reason: str) -> None:
    """/authorize refuses with a 400 page and sends nobody anywhere."""
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert reason in response.text, response.text


# --- the happy path, at both endpoints ---------------------------------------------------------


@LOOPBACK_HTTP
def test_a_document_client_completes_the_code_flow(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    code = code_from(authorize(http, mockidp, client_id))
    answer = token(http, mockidp, client_id, code)
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]
    assert docs.hits["/agent.json"] == 1  # /token used the cached document (max-age=60)
    assert client_id not in mockidp.clients  # resolved, not registered


@LOOPBACK_HTTP
def test_the_token_endpoint_resolves_a_document_on_its_own(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    """No /authorize before: /token fetches the document itself, so the client is known and the
    refusal is about the code, not the client."""
    client_id = docs.add("/agent.json")
    answer = token(http, mockidp, client_id, "no-such-code")
    assert_refused(answer, "invalid_grant", "")
    assert docs.hits["/agent.json"] == 1


@LOOPBACK_HTTP
def test_token_refuses_a_document_that_went_bad_after_authorize(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    docs.documents["/agent.json"].headers = {"Cache-Control": "no-store"}
    code = code_from(authorize(http, mockidp, client_id))
    docs.documents["/agent.json"].body["client_id"] = "https://elsewhere.example/agent.json"
    assert_refused(
        token(http, mockidp, client_id, code), "invalid_client", "is not the URL it was fetched from"
    )


# --- each check ----------------------------------------------------------------------------------


@LOOPBACK_HTTP
def test_client_id_mismatch(mockidp: MockIdP, http: requests.Session, docs: Documents) -> None:
    client_id = docs.add("/agent.json", client_id=docs.base + "/other.json")
    assert_refused(
        token(http, mockidp, client_id, "x"), "invalid_client", "is not the URL it was fetched from"
    )
    assert_page(authorize(http, mockidp, client_id), "invalid_client")


@LOOPBACK_HTTP
def test_not_a_json_object(mockidp: MockIdP, http: requests.Session, docs: Documents) -> None:
    url = docs.base + "/list.json"
    docs.documents["/list.json"] = Served([url])
    assert_refused(token(http, mockidp, url, "x"), "invalid_client", "not a JSON object")
    docs.documents["/text.json"] = Served(raw=b"client_id: nope", headers={"Content-Type": "text/plain"})
    assert_refused(token(http, mockidp, docs.base + "/text.json", "x"), "invalid_client", "not JSON")


@LOOPBACK_HTTP
@pytest.mark.parametrize("status", [201, 203, 404, 500])
def test_only_200_is_accepted(mockidp: MockIdP, http: requests.Session, docs: Documents, status: int) -> None:
    client_id = docs.add("/agent.json")
    docs.documents["/agent.json"].status = status
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_client", f"HTTP {status}, not 200")


@LOOPBACK_HTTP
def test_redirects_are_not_followed(mockidp: MockIdP, http: requests.Session, docs: Documents) -> None:
    target = docs.add("/real.json")
    url = docs.base + "/moved.json"
    docs.documents["/moved.json"] = Served(location=target)
    assert_refused(token(http, mockidp, url, "x"), "invalid_client", "HTTP 302, not 200")
    assert "/real.json" not in docs.hits


@LOOPBACK_HTTP
def test_documents_over_5_kb_are_refused(mockidp: MockIdP, http: requests.Session, docs: Documents) -> None:
    client_id = docs.add("/big.json", client_name="x" * 5200)
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_client", "larger than 5120 bytes")
    just_fits = docs.add("/fits.json", client_name="x" * 4800)
    assert_refused(token(http, mockidp, just_fits, "x"), "invalid_grant", "")


@LOOPBACK_HTTP
@pytest.mark.parametrize("value", [None, [], "http://127.0.0.1/callback", [1]])
def test_redirect_uris_are_required(
    mockidp: MockIdP, http: requests.Session, docs: Documents, value: Any
) -> None:
    client_id = docs.add("/agent.json", redirect_uris=value)  # None: left out
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_client", "redirect_uris")


@LOOPBACK_HTTP
def test_an_unregistered_redirect_uri_gets_the_error_page(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    assert_page(
        authorize(http, mockidp, client_id, "https://evil.example/cb"), "is not a registered redirect URI"
    )


@LOOPBACK_HTTP
@pytest.mark.parametrize(
    ("registered", "sent", "accepted"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback", True),
        ("http://127.0.0.1:8000/callback", "http://127.0.0.1:51000/callback", True),
        ("http://localhost/callback", "http://localhost:3000/callback", True),
        ("http://[::1]/callback", "http://[::1]:3000/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:49152/other", False),
        ("https://app.example/callback", "https://app.example:8443/callback", False),
    ],
)
def test_loopback_redirect_uris_match_on_any_port(
    mockidp: MockIdP, http: requests.Session, docs: Documents, registered: str, sent: str, accepted: bool
) -> None:
    client_id = docs.add("/agent.json", redirect_uris=[registered])
    response = authorize(http, mockidp, client_id, sent)
    if accepted:
        assert response.headers["Location"].startswith(sent + "?"), response.text
        answer = token(http, mockidp, client_id, code_from(response), sent)
        assert answer.status_code == 200, answer.text
    else:
        assert_page(response, "is not a registered redirect URI")


@LOOPBACK_HTTP
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "client_secret_jwt"])
def test_shared_secret_auth_methods_are_refused(
    mockidp: MockIdP, http: requests.Session, docs: Documents, method: str
) -> None:
    client_id = docs.add("/agent.json", token_endpoint_auth_method=method)
    assert_refused(
        token(http, mockidp, client_id, "x"), "invalid_client", f"token_endpoint_auth_method {method!r}"
    )


@LOOPBACK_HTTP
def test_a_client_secret_in_the_document_is_refused(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json", client_secret="published-for-all-to-see")
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_client", "must not contain client_secret")


@LOOPBACK_HTTP
def test_private_key_jwt_needs_keys(mockidp: MockIdP, http: requests.Session, docs: Documents) -> None:
    client_id = docs.add("/agent.json", token_endpoint_auth_method="private_key_jwt")
    assert_refused(
        token(http, mockidp, client_id, "x"), "invalid_client", "private_key_jwt needs jwks or jwks_uri"
    )


@LOOPBACK_HTTP
def test_private_key_jwt_with_keys_becomes_a_signed_client(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    """The document becomes a ``ClientConfig`` with its keys; verifying assertions is client
    authentication's job, so a request without one is refused as unauthenticated."""
    jwks = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                "use": "sig",
            }
        ]
    }
    client_id = docs.add("/signed.json", token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    answer = token(http, mockidp, client_id, "x")
    assert_refused(answer, "invalid_client", "")
    client = mockidp.state.store.client(client_id)
    assert client is not None and client.token_endpoint_auth_method == "private_key_jwt"
    assert client.jwks == jwks and not client.is_public


@pytest.mark.mockidp(login="auto")
def test_http_documents_need_allow_http_loopback(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_request", "must be https")
    assert_page(authorize(http, mockidp, client_id), "invalid_request")
    assert docs.hits == {}


@LOOPBACK_HTTP
def test_http_is_for_loopback_only(mockidp: MockIdP, http: requests.Session) -> None:
    assert_refused(
        token(http, mockidp, "http://docs.example/agent.json", "x"), "invalid_request", "must be https"
    )


@LOOPBACK_HTTP
@pytest.mark.parametrize(
    "address", ["10.1.2.3", "192.168.0.10", "169.254.169.254", "172.16.0.1", "100.64.0.1"]
)
def test_private_addresses_are_refused(
    mockidp: MockIdP, http: requests.Session, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    real = socket.getaddrinfo

    def resolver(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "intranet.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    answer = token(http, mockidp, "https://intranet.test/agent.json", "x")
    assert_refused(answer, "invalid_client", f"non-public address ({address})")


@pytest.mark.mockidp(cimd={"allow_http_loopback": True, "trusted_hosts": ["agents.example"]})
def test_untrusted_hosts_are_refused(mockidp: MockIdP, http: requests.Session, docs: Documents) -> None:
    client_id = docs.add("/agent.json")
    assert_refused(
        token(http, mockidp, client_id, "x"),
        "invalid_client",
        "not a trusted client ID metadata document host",
    )
    assert docs.hits == {}


@LOOPBACK_HTTP
@pytest.mark.parametrize(
    ("client_id", "reason"),
    [
        ("https://agents.example", "must have a path"),
        ("https://agents.example/", "must have a path"),
        ("https://agents.example/a/../b.json", "dot segments"),
        ("https://agents.example/./b.json", "dot segments"),
        ("https://agents.example/%2E%2e/b.json", "dot segments"),
        ("https://agents.example/b.json#frag", "fragment"),
        ("https://user:pw@agents.example/b.json", "user name or password"),
        ("https://agents.example:99999/b.json", "not a valid URL"),
    ],
)
def test_malformed_client_id_urls(
    mockidp: MockIdP, http: requests.Session, client_id: str, reason: str
) -> None:
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_request", reason)


# --- caching -------------------------------------------------------------------------------------


@LOOPBACK_HTTP
def test_documents_are_cached_for_their_max_age(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    for _ in range(3):
        code_from(authorize(http, mockidp, client_id))
    assert docs.hits["/agent.json"] == 1
    mockidp.reset()  # a reset forgets fetched documents
    code_from(authorize(http, mockidp, client_id))
    assert docs.hits["/agent.json"] == 2


@LOOPBACK_HTTP
@pytest.mark.parametrize("cache_control", ["no-store", "no-cache", "max-age=0"])
def test_uncacheable_documents_are_fetched_every_time(
    mockidp: MockIdP, http: requests.Session, docs: Documents, cache_control: str
) -> None:
    client_id = docs.add("/agent.json")
    docs.documents["/agent.json"].headers = {"Cache-Control": cache_control}
    code = code_from(authorize(http, mockidp, client_id))
    code_from(authorize(http, mockidp, client_id))
    assert token(http, mockidp, client_id, code).status_code == 200
    assert docs.hits["/agent.json"] == 3  # two /authorize and one /token


# --- where else it matters -----------------------------------------------------------------------


@LOOPBACK_HTTP
def test_discovery_advertises_support(mockidp: MockIdP, http: requests.Session) -> None:
    assert http.get(mockidp.metadata_url).json()["client_id_metadata_document_supported"] is True


@pytest.mark.mockidp(cimd={"enabled": False}, login="auto")
def test_disabled_means_not_advertised_and_not_fetched(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    assert "client_id_metadata_document_supported" not in http.get(mockidp.metadata_url).json()
    client_id = docs.add("/agent.json")
    assert_refused(token(http, mockidp, client_id, "x"), "invalid_client", "unknown client")
    assert_page(authorize(http, mockidp, client_id), "no client is registered")
    assert docs.hits == {}


@LOOPBACK_HTTP
def test_a_registered_client_with_the_same_id_wins(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    mockidp.add_client(client_id=client_id, redirect_uris=["http://127.0.0.1/registered"])
    assert_page(authorize(http, mockidp, client_id), "is not a registered redirect URI")
    assert docs.hits == {}


@LOOPBACK_HTTP
def test_a_client_assertion_names_the_document_by_its_sub(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    """``private_key_jwt`` may send no client_id: the assertion's ``sub`` names the client (RFC
    7523 section 3), so its document is fetched before client authentication looks at it."""
    jwks = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            }
        ]
    }
    client_id = docs.add("/signed.json", token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    claims = {"iss": client_id, "sub": client_id, "aud": mockidp.token_endpoint, "exp": 2_000_000_000}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": f"eyJhbGciOiJFUzI1NiJ9.{payload}.c2ln",
    }
    answer = http.post(mockidp.token_endpoint, data=form)
    assert_refused(answer, "invalid_client", "")  # the signature is garbage
    assert docs.hits == {"/signed.json": 1}
    assert mockidp.state.store.is_document_client(client_id)


@LOOPBACK_HTTP
def test_introspection_and_revocation_resolve_the_document(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json")
    mockidp.reset()
    revoked = http.post(mockidp.url("revoke"), data={"token": "whatever", "client_id": client_id})
    assert revoked.status_code == 200, revoked.text  # a public client may revoke its tokens
    introspected = http.post(mockidp.url("introspect"), data={"token": "whatever", "client_id": client_id})
    assert_refused(introspected, "invalid_client", "needs an authenticated client")
    bad = docs.add("/bad.json", redirect_uris=None)
    revoked = http.post(mockidp.url("revoke"), data={"token": "whatever", "client_id": bad})
    assert_refused(revoked, "invalid_client", "redirect_uris is required")


@LOOPBACK_HTTP
def test_logout_resolves_the_document_for_its_post_logout_redirect_uris(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json", post_logout_redirect_uris=["http://127.0.0.1/bye"])
    params = {"client_id": client_id, "post_logout_redirect_uri": "http://127.0.0.1/bye", "state": "s"}
    answer = http.get(mockidp.url("end_session"), params=params, allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    assert answer.headers["Location"].startswith("http://127.0.0.1/bye?")
    params["post_logout_redirect_uri"] = "https://evil.example/bye"
    assert http.get(mockidp.url("end_session"), params=params, allow_redirects=False).status_code == 400
    bad = docs.add("/bad.json", redirect_uris=None)
    refused = http.get(mockidp.url("end_session"), params={"client_id": bad}, allow_redirects=False)
    assert refused.status_code == 400 and "redirect_uris is required" in refused.text


@pytest.mark.mockidp(cimd={"allow_http_loopback": True}, login="form")
def test_the_sign_in_page_names_the_client_and_its_document_host(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    client_id = docs.add("/agent.json", client_name="Helpful <Agent>")
    page = authorize(http, mockidp, client_id)
    assert page.status_code == 200, page.text
    assert "Helpful &lt;Agent&gt; (127.0.0.1)" in page.text
    nameless = docs.add("/nameless.json", client_name=None)
    assert "<strong>127.0.0.1</strong>" in authorize(http, mockidp, nameless).text


# --- over https, with a certificate from the local CA ---------------------------------------------


class TlsDocuments(AppRuntime):
    def __init__(self, documents: Documents, context: ssl.SSLContext) -> None:
        super().__init__()
        self.documents, self.context, self.port = documents, context, 0

    async def _listen(self) -> web.AppRunner:
        runner, self.port = await listen(self.documents.app, "127.0.0.1", 0, self.context)
        return runner


@pytest.mark.mockidp(login="auto")
def test_https_documents_from_a_local_ca_host(mockidp: MockIdP, http: requests.Session) -> None:
    documents = Documents()
    with TlsDocuments(documents, mockidp_lib.issue_cert("127.0.0.1").server_context()) as host:
        documents.base = f"https://127.0.0.1:{host.port}"
        client_id = documents.add("/agent.json")
        code = code_from(authorize(http, mockidp, client_id))
        assert token(http, mockidp, client_id, code).status_code == 200
    assert json.dumps(documents.hits) == '{"/agent.json": 1}'


def test_the_cimd_config_names_wrong_keys_and_values() -> None:
    from mockidp import ConfigError, parse_config

    assert parse_config("cimd: {trusted_hosts: [agents.example, '::1']}").cimd.trusted_hosts == (
        "agents.example",
        "::1",
    )
    with pytest.raises(ConfigError, match=r"idp.yaml:2 at 'cimd.trusted_hosts\[0\]': a trusted host"):
        parse_config("cimd:\n  trusted_hosts: ['https://agents.example']\n", file="idp.yaml")
    with pytest.raises(ConfigError, match="did you mean 'allow_http_loopback'"):
        parse_config("cimd:\n  allow_http_loopbak: true\n", file="idp.yaml")


@LOOPBACK_HTTP
def test_a_signed_document_client_completes_the_code_flow_with_private_key_jwt(
    mockidp: MockIdP, http: requests.Session, docs: Documents
) -> None:
    """The two halves together: the document names the keys, client authentication verifies a
    real assertion (PyJWT-signed) against them, and a wrong key is still refused."""
    signer = SignedClient(client_id=docs.base + "/signed.json", audience=mockidp.token_endpoint)
    client_id = docs.add("/signed.json", token_endpoint_auth_method="private_key_jwt", jwks=signer.jwks)
    assert client_id == signer.client_id
    code = code_from(authorize(http, mockidp, client_id))
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **signer.form(),
    }
    answer = http.post(mockidp.token_endpoint, data=form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"
    stranger = SignedClient(client_id=client_id, audience=mockidp.token_endpoint)
    code = code_from(authorize(http, mockidp, client_id))
    refused = http.post(mockidp.token_endpoint, data={**form, "code": code, **stranger.form()})
    assert_refused(refused, "invalid_client", "client assertion")
