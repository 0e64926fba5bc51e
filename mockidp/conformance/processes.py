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
from pathlib import Path
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


@dataclass(slots=True)
class Started:
    """A process under test, with the file its output goes to (none: the terminal)."""

    proc: subprocess.Popen[bytes]
    log: Path | None = None

    def exited(self) -> int | None:
        """Its exit status, or None while it runs."""
        return self.proc.poll()

    def tail(self, lines: int = 20) -> list[str]:
        """The last ``lines`` lines of its output (none without a log file)."""
        if self.log is None:
            return []
        try:
            with self.log.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 64 * 1024))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]

    def explain_exit(self) -> str:
        """A sentence about its exit and its last output, for an error message ("" if running)."""
        status = self.exited()
        if status is None:
            return ""
        tail = self.tail()
        where = f" (all of it in {self.log})" if self.log else ""
        shown = "".join(f"\n  | {line}" for line in tail)
        return f"; the API exited with status {status}" + (f", last output{where}:{shown}" if tail else "")


@contextlib.contextmanager
def started(
    command: str,
    env: Mapping[str, str],
    url: str,
    wait: float = 30.0,
    *,
    log: str | Path | None = None,
    cwd: str | Path | None = None,
) -> Iterator[Started]:
    """Run ``command`` (in ``cwd``, by default the current directory) until the block ends;
    enter once ``url``'s port accepts connections.

    With ``log``, its stdout and stderr go to that file rather than the terminal, so the API's
    own logging stays out of the report; the error for a failed start quotes its last lines.
    """
    host, port = host_port(url)
    if port_open(host, port):
        # an API left over from an earlier run: CMD would fail to bind, and the run would judge
        # the old process, which trusts another IdP, and blame the API for refusing valid tokens
        raise ScenarioError(
            f"something already accepts connections at {host}:{port} before --start ran; "
            "stop it, or drop --start to check it as it is"
        )
    path = Path(log) if log is not None else None
    out = path.open("wb") if path is not None else None
    try:
        proc = subprocess.Popen(  # noqa: S602 - the user's own command line, run like a shell would
            command,
            shell=True,
            env={**os.environ, **env},
            cwd=cwd,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
        )
    finally:
        if out is not None:
            out.close()  # the child holds its own descriptor
    handle = Started(proc, path)
    try:
        deadline = time.monotonic() + wait
        while not port_open(host, port):
            if proc.poll() is not None:
                raise ScenarioError(
                    f"--start command exited with status {proc.returncode} before {url} was up"
                    + _last_output(handle)
                )
            if time.monotonic() > deadline:
                raise ScenarioError(
                    f"{url} did not accept connections within {wait:g} s of --start" + _last_output(handle)
                )
            time.sleep(0.05)
        yield handle
    finally:
        stop_group(proc)


def _last_output(handle: Started) -> str:
    tail = handle.tail()
    if not tail:
        return ""
    return f"; its last output (all of it in {handle.log}):" + "".join(f"\n  | {line}" for line in tail)


@dataclass(frozen=True, slots=True)
class Finished:
    status: int | None  # None: timed out and killed
    output: str


def run_once(
    command: str, env: Mapping[str, str], timeout: float, *, cwd: str | Path | None = None
) -> Finished:
    """Run ``command`` to completion (or until ``timeout``), capturing stdout and stderr together."""
    proc = subprocess.Popen(  # noqa: S602 - the user's own command line
        command,
        shell=True,
        env={**os.environ, **env},
        cwd=cwd,
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
