"""https on loopback: the local CA (``mockidp.tls``), ``MockIdP(tls=True)``, the fixture option,
``mockidp serve --tls`` and ``mockidp ca``, with requests and httpx trusting only what
``ca_path()`` / ``ssl_context()`` give them. The cache dir is a temporary one (conftest.py)."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
from aiohttp import web
from cryptography import x509

import mockidp
import mockidp as mockidp_lib
from mockidp import MockIdP
from mockidp.cli import main
from mockidp.runtime import AppRuntime
from mockidp.web.listen import listen


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache dir of this test's own: the CA is made from scratch in it."""
    monkeypatch.setenv("MOCKIDP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_ca_is_made_once_with_a_private_key_file(fresh_cache: Path) -> None:
    path = mockidp.ca_path()
    assert Path(path) == fresh_cache / "ca" / "ca.pem"
    key = fresh_cache / "ca" / "ca-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = Path(path).read_bytes()
    assert mockidp.ca_path() == path and Path(path).read_bytes() == first  # reused, not remade
    ca = x509.load_pem_x509_certificate(first)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0


def test_issued_certificates_name_their_hosts_and_chain_to_the_ca(fresh_cache: Path) -> None:
    issued = mockidp.issue_cert("127.0.0.1", "localhost", "docs.example")
    assert stat.S_IMODE(issued.key_path.stat().st_mode) == 0o600
    leaf = x509.load_pem_x509_certificate(issued.cert_path.read_bytes())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "docs.example"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ca = x509.load_pem_x509_certificate(Path(mockidp.ca_path()).read_bytes())
    leaf.verify_directly_issued_by(ca)
    assert mockidp.issue_cert("127.0.0.1", "localhost", "docs.example").cert_path == issued.cert_path


def test_bad_host_names_are_refused(fresh_cache: Path) -> None:
    with pytest.raises(mockidp.MockIdPError, match="not a host name"):
        mockidp.issue_cert("evil/../../x")


class TlsHost(AppRuntime):
    """An aiohttp app served with an ``issue_cert`` certificate: a test's own https server."""

    def __init__(self, app: web.Application, context: ssl.SSLContext) -> None:
        super().__init__()
        self.app, self.context, self.port = app, context, 0

    async def _listen(self) -> web.AppRunner:
        runner, self.port = await listen(self.app, "127.0.0.1", 0, self.context)
        return runner


async def hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": "tls"})


def test_issue_cert_serves_an_aiohttp_server_that_requests_and_httpx_trust() -> None:
    app = web.Application()
    app.router.add_get("/hello", hello)
    with TlsHost(app, mockidp.issue_cert("127.0.0.1").server_context()) as host:
        url = f"https://127.0.0.1:{host.port}/hello"
        assert requests.get(url, verify=mockidp.ca_path(), timeout=5).json() == {"hello": "tls"}
        with httpx.Client(verify=mockidp.ssl_context(), trust_env=False) as client:
            assert client.get(url).json() == {"hello": "tls"}
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, timeout=5)  # the system store alone does not know the local CA


def test_a_tls_idp_serves_https_and_names_an_https_issuer() -> None:
    with MockIdP(tls=True) as idp:
        assert idp.issuer == f"https://127.0.0.1:{idp.port}"
        metadata = requests.get(idp.metadata_url, verify=mockidp.ca_path(), timeout=5).json()
        assert metadata["issuer"] == idp.issuer
        assert metadata["token_endpoint"].startswith("https://127.0.0.1:")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{idp.port}/jwks", timeout=5)  # no plain http


@pytest.mark.mockidp(tls=True, clients=[{"client_id": "svc", "client_secret": "s3cret"}])
def test_the_fixture_serves_https_with_tls_true(mockidp: MockIdP) -> None:
    with httpx.Client(verify=mockidp_ssl(), trust_env=False) as client:
        response = client.post(
            mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("svc", "s3cret")
        )
    assert response.status_code == 200, response.text
    assert mockidp.issuer.startswith("https://")
    assert mockidp.env()["MOCKIDP_CA_FILE"] == mockidp_lib.ca_path()


def mockidp_ssl() -> ssl.SSLContext:
    return mockidp.ssl_context()


def test_mock_apis_follow_the_idp_onto_tls() -> None:
    from mockidp.resources import MockApis

    with MockIdP(tls=True) as idp, MockApis(idp, ["inventory"]) as apis:
        url = apis["inventory"].url
        assert url.startswith("https://127.0.0.1:")
        metadata = requests.get(
            url.replace("/inventory", "/.well-known/oauth-protected-resource/inventory"),
            verify=mockidp.ca_path(),
            timeout=5,
        ).json()
        assert metadata["authorization_servers"] == [idp.issuer]


def test_ca_commands_print_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ca-path"]) == 0
    assert capsys.readouterr().out.strip() == mockidp.ca_path()
    assert main(["ca", "issue", "127.0.0.1", "mcp.localhost"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert Path(lines["cert"]).is_file() and Path(lines["key"]).is_file()
    assert lines["ca"] == mockidp.ca_path()


@pytest.mark.slow
def test_serve_tls_answers_https_with_the_ca_trusted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockidp", "serve", "--tls", "--port", "0", "--login", "auto"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        issuer = ""
        for line in process.stdout:
            if line.startswith("issuer: "):
                issuer = line.split(": ", 1)[1].strip()
                break
        assert issuer.startswith("https://127.0.0.1:"), issuer
        metadata = requests.get(
            f"{issuer}/.well-known/openid-configuration", verify=mockidp.ca_path(), timeout=5
        )
        assert metadata.json()["issuer"] == issuer
        with httpx.Client(verify=mockidp.ssl_context(), trust_env=False) as client:
            assert client.get(f"{issuer}/jwks").json()["keys"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_parallel_first_uses_agree_on_one_ca(fresh_cache: Path) -> None:
    """pytest-xdist workers may all make the CA at once: one lands, every caller gets that one."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        paths = list(pool.map(lambda _: Path(mockidp.ca_path()).read_bytes(), range(6)))
    assert len(set(paths)) == 1
    assert sorted(p.name for p in (fresh_cache / "ca").iterdir()) == ["ca-key.pem", "ca.pem"]
    assert not [p for p in fresh_cache.iterdir() if p.name.startswith(".")]  # no leftovers
