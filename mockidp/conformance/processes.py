"""Processes under test: started in a shell in their own process group, always stopped whole.

A command such as ``uvicorn app:app`` forks; killing only the shell would leave the server
holding the port, so every command gets its own session and the whole group is signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ScenarioError


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScenarioError(f"{url!r} is not an http(s) URL")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stop_group(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def started(command: str, env: Mapping[str, str], url: str, wait: float = 30.0) -> Iterator[None]:
    """Run ``command`` until the block ends; enter once ``url``'s port accepts connections."""
    host, port = host_port(url)
    if port_open(host, port):
        # an API left over from an earlier run: CMD would fail to bind, and the run would judge
        # the old process, which trusts another IdP, and blame the API for refusing valid tokens
        raise ScenarioError(
            f"something already accepts connections at {host}:{port} before --start ran; "
            "stop it, or drop --start to check it as it is"
        )
    proc = subprocess.Popen(  # noqa: S602 - the user's own command line, run like a shell would
        command, shell=True, env={**os.environ, **env}, start_new_session=True
    )
    try:
        deadline = time.monotonic() + wait
        while not port_open(host, port):
            if proc.poll() is not None:
                raise ScenarioError(
                    f"--start command exited with status {proc.returncode} before {url} was up"
                )
            if time.monotonic() > deadline:
                raise ScenarioError(f"{url} did not accept connections within {wait:g} s of --start")
            time.sleep(0.05)
        yield
    finally:
        stop_group(proc)


@dataclass(frozen=True, slots=True)
class Finished:
    status: int | None  # None: timed out and killed
    output: str


def run_once(command: str, env: Mapping[str, str], timeout: float) -> Finished:
    """Run ``command`` to completion (or until ``timeout``), capturing stdout and stderr together."""
    proc = subprocess.Popen(  # noqa: S602 - the user's own command line
        command,
        shell=True,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return Finished(proc.returncode, out.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        stop_group(proc)
        out, _ = proc.communicate()
        return Finished(None, out.decode("utf-8", "replace"))
    finally:
        if proc.poll() is None:
            stop_group(proc)
