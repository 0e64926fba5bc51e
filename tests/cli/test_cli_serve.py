"""``mockidp serve`` as a real subprocess: start-up line, options, signals, refusals."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import jwt
import pytest
import requests
from fuzzing import send
from serving import ServeProcess, free_port, run_serve

pytestmark = pytest.mark.slow

AGENT = ("demo-agent", "demo-agent-secret")


def token_status(issuer: str, auth: tuple[str, str] = AGENT) -> int:
    r = requests.post(f"{issuer}/token", data={"grant_type": "client_credentials"}, auth=auth, timeout=5)
    return r.status_code


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_server_starts_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    with ServeProcess("--port", "0") as server:
        assert server.issuer.startswith("http://127.0.0.1:")
        assert not server.issuer.endswith(":0")
        assert any("demo-agent" in line for line in server.lines)  # the demo config is printed
        # the issuer line comes once the socket accepts connections: no retry needed
        doc = requests.get(f"{server.issuer}/.well-known/openid-configuration", timeout=5).json()
        assert doc["issuer"] == server.issuer
        assert token_status(server.issuer) == 200
        started = time.monotonic()
        assert server.stop(sig) == 0
        assert time.monotonic() - started < 5
        rest = server.rest_of_stdout()
        assert f"control API: {server.issuer}/_mockidp/openapi.json (loopback only)" in rest
        assert "mockidp: stopped" in rest
        assert "Traceback" not in server.stderr()


def test_issuer_and_login_options() -> None:
    with ServeProcess("--port", "0", "--issuer", "/tenant-a", "--login", "auto") as server:
        assert server.issuer.endswith("/tenant-a")
        base = server.issuer.removesuffix("/tenant-a")
        doc = requests.get(f"{base}/.well-known/oauth-authorization-server/tenant-a", timeout=5).json()
        assert doc["issuer"] == server.issuer
        assert token_status(server.issuer) == 200


AUTHORIZE = {
    "response_type": "code",
    "client_id": "demo-app",
    "redirect_uri": "http://127.0.0.1/callback",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
    "scope": "openid",
    "state": "xyz",
}


@pytest.mark.parametrize(
    ("args", "form"), [((), True), (("--login", "form"), True), (("--login", "auto"), False)]
)
def test_login_option(args: tuple[str, ...], form: bool) -> None:
    """``serve`` shows the login form by default; ``--login auto`` signs the demo user in directly."""
    with ServeProcess("--port", "0", *args) as server:
        r = requests.get(f"{server.issuer}/authorize", params=AUTHORIZE, allow_redirects=False, timeout=5)
    if form:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/html")
    else:
        assert r.status_code in (302, 303)
        assert r.headers["Location"].startswith("http://127.0.0.1/callback?code=")


def test_absolute_issuer_option() -> None:
    port = free_port()
    issuer = f"http://localhost:{port}/x"
    with ServeProcess("--port", str(port), "--issuer", issuer) as server:
        assert server.issuer == issuer
        doc = requests.get(f"http://127.0.0.1:{port}/x/.well-known/openid-configuration", timeout=5).json()
        assert doc["issuer"] == issuer


def test_config_file(tmp_path: Path) -> None:
    config = tmp_path / "idp.yaml"
    config.write_text(
        "clients:\n  - client_id: cli-agent\n    client_secret: cli-secret\n"
        "    audiences: [cli-api]\n    scopes: [cli:read]\n"
        "apis:\n  - audience: cli-api\n    scopes: [cli:read]\n",
        encoding="utf-8",
    )
    with ServeProcess("--port", "0", "--config", str(config)) as server:
        assert not any("demo-agent" in line for line in server.lines)
        assert token_status(server.issuer, ("cli-agent", "cli-secret")) == 200
        assert token_status(server.issuer) == 401


def test_config_error_exits_2_with_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("access_token_ttl: 60\nclients:\n  - client_id: a\n    secret: x\n", encoding="utf-8")
    result = run_serve("--port", "0", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}:4 at 'clients[0].secret'" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_serve("--port", "0", "--config", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2
    assert "none.yaml" in missing.stderr and "Traceback" not in missing.stderr


def test_bad_issuer_option_exits_2() -> None:
    result = run_serve("--port", "0", "--issuer", "ftp://nope")
    assert result.returncode == 2
    assert "issuer" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
def test_non_loopback_host_is_refused(host: str) -> None:
    result = run_serve("--host", host, "--port", "0")
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr


def test_allow_remote_lifts_the_refusal_without_listening_remotely() -> None:
    """With --allow-remote the loopback check passes; a bad port stops it before any bind."""
    result = run_serve("--host", "192.0.2.10", "--allow-remote", "--port", "70000")
    assert result.returncode == 2
    assert "--allow-remote" not in result.stderr
    assert "not a port number" in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = ServeProcess("--host", host, "--port", "0")
        server.wait_for_issuer()
    except AssertionError as exc:
        if host == "::1" and "Cannot assign" in str(exc):
            pytest.skip("IPv6 loopback not configured")
        raise
    with server:
        assert token_status(server.issuer) == 200
        server.stop()
        printed = server.rest_of_stdout()
    assert f"metadata: {server.issuer}/.well-known/openid-configuration" in printed
    if host == "::1":  # every printed URL brackets the address
        assert server.issuer.startswith("http://[::1]:")


def test_port_in_use_is_a_clear_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_serve("--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_options() -> None:
    result = run_serve("--help")
    assert result.returncode == 0
    for option in ("--config", "--host", "--port", "--issuer", "--login", "--allow-remote"):
        assert option in result.stdout


def test_wildcard_bind_advertises_the_machines_host_name() -> None:
    """``--host 0.0.0.0`` printed ``issuer: http://0.0.0.0:PORT``, which no client can use."""
    name = socket.gethostname()
    with ServeProcess("--host", "0.0.0.0", "--allow-remote", "--port", "0") as server:
        port = int(server.issuer.rsplit(":", 1)[1])
        assert server.issuer == f"http://{name}:{port}"
        assert "0.0.0.0" not in server.issuer
        assert any("host name" in line and name in line for line in server.lines)
        doc = requests.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=5).json()
        assert doc["issuer"] == server.issuer
        assert doc["token_endpoint"] == f"{server.issuer}/token"
        resolved = {str(info[4][0]) for info in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)}
        assert resolved  # the printed name resolves...
        if any(address.startswith("127.") or address == "::1" for address in resolved):
            # ...and, where it means this machine, the printed issuer answers (test stays on loopback)
            assert token_status(server.issuer) == 200


def test_wildcard_bind_with_issuer_uses_it() -> None:
    port = free_port()
    issuer = f"http://localhost:{port}"
    with ServeProcess(
        "--host", "0.0.0.0", "--allow-remote", "--port", str(port), "--issuer", issuer
    ) as server:
        assert server.issuer == issuer
        assert token_status(f"http://127.0.0.1:{port}") == 200


def test_wildcard_bind_without_a_usable_host_name_needs_issuer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check runs before any socket is bound: the serve function never starts a server."""
    from mockidp.cli import main
    from mockidp.cli import serve as serve_module

    def never(*args: object) -> int:
        raise AssertionError("mockidp serve started despite an unusable issuer")

    monkeypatch.setattr(serve_module, "_serve", never)
    monkeypatch.setattr(socket, "gethostname", lambda: "no-such-host.invalid")
    for host in ("0.0.0.0", "::"):
        assert main(["serve", "--host", host, "--allow-remote", "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert "--issuer" in err and "no-such-host.invalid" in err and "does not resolve" in err


@pytest.mark.parametrize(
    ("host", "named"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "[::1]"),
        ("localhost", "localhost"),
        ("0.0.0.0", None),
        ("::", None),
    ],
)
def test_advertised_host(host: str, named: str | None) -> None:
    from mockidp.web.listen import advertised_host

    assert advertised_host(host) == (named or socket.gethostname())


def test_served_control_api_refuses_a_rebound_host_and_journals_no_secret() -> None:
    """Issue 9's probe against ``mockidp serve``: ``Host: rebind.attacker.example:PORT`` got the journal."""
    with ServeProcess("--port", "0") as server:
        port = int(server.issuer.rsplit(":", 1)[1])
        r = requests.post(
            f"{server.issuer}/token", data={"grant_type": "client_credentials"}, auth=AGENT, timeout=5
        )
        token = r.json()["access_token"]
        requests.post(f"{server.issuer}/introspect", data={"token": token}, auth=AGENT, timeout=5)
        rebound = send(port, "GET", "/_mockidp/journal", [("Host", f"rebind.attacker.example:{port}")], None)
        assert rebound.status == 403
        assert json.loads(rebound.body)["error"] == "access_denied"
        journal = send(port, "GET", "/_mockidp/journal", [("Host", f"localhost:{port}")], None)
        assert journal.status == 200
        assert token.encode() not in journal.body and AGENT[1].encode() not in journal.body
        assert b"[redacted len=" in journal.body


def _cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (proc(5))."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
@pytest.mark.parametrize(("args", "count"), [((), None), (("--signers", "2"), 2), (("--signers", "0"), 0)])
def test_signer_processes_sign_and_leave_with_the_server(args: tuple[str, ...], count: int | None) -> None:
    """By default (one per CPU beyond the first) and with ``--signers N`` the token endpoint's
    tokens are signed in child processes, which exit with the server; 0 starts none."""
    with ServeProcess("--port", "0", *args) as server:
        children = _children(server.proc.pid)
        if count is not None:
            assert len(children) == count
        else:
            assert 1 <= len(children) <= 4
        before = [_cpu_ticks(pid) for pid in children]
        jwks = jwt.PyJWKSet.from_dict(requests.get(f"{server.issuer}/jwks", timeout=5).json())
        for _ in range(200):
            r = requests.post(
                f"{server.issuer}/token", data={"grant_type": "client_credentials"}, auth=AGENT, timeout=5
            )
            assert r.status_code == 200
            token = r.json()["access_token"]
            jwt.decode(token, jwks.keys[0], algorithms=["RS256"], audience="demo-api")
        # the children did the signing: 200 RSA signatures are tens of ms of their CPU
        assert sum(_cpu_ticks(pid) for pid in children) > sum(before) or not children
        assert server.stop(signal.SIGINT) == 0
        assert "Traceback" not in server.stderr()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.parametrize("count", ["-1", "65"])
def test_signers_out_of_range_is_refused(count: str) -> None:
    result = run_serve("--port", "0", "--signers", count)
    assert result.returncode == 2
    assert f"--signers {count} is not a number of processes from 0 to 64" in result.stderr
