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
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds; return once it is gone.

    Waiting for the shell alone is not enough: a server it started may still be shutting down
    and holding the port, and the next command (or the caller's check) would meet it there.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        if _wait_for_group(proc, grace):
            return


def _wait_for_group(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Reap the leader and wait until no process of its group is alive; False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None and not group_alive(proc.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs; zombies do not count (they hold no port).

    ``killpg(pgid, 0)`` alone also succeeds for orphaned zombies, which a container's init may
    leave unreaped for seconds, so on Linux ``/proc`` tells whether any member still runs.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a member we may not signal is still a member
    return _live_member(pgid)


def _live_member(pgid: int) -> bool:
    """Whether ``/proc`` lists a non-zombie process of group ``pgid`` (True if there is no ``/proc``)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    if "self" not in entries:
        return True
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
                fields = f.read().rpartition(b")")[2].split()
        except OSError:
            continue  # exited meanwhile
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


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
