"""``stop_group`` returns only once the whole process group is gone, not just its shell."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from mockidp.conformance.processes import group_alive, port_open, stop_group

pytestmark = pytest.mark.slow

#: a server that, like uvicorn, takes a moment to shut down after SIGTERM
SERVER = """
import signal, socket, sys, time
def stop(*_):
    time.sleep(0.02)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
while True:
    s.accept()[0].close()
"""


def in_a_shell(script: str) -> tuple[subprocess.Popen[bytes], int]:
    """``sh -c 'python -c SCRIPT; :'`` in its own group: the shell stays the leader and the
    script runs as its child; returns once the script printed its first line, a number."""
    proc = subprocess.Popen(
        f"{sys.executable} -I -S -c '{script}'; :", shell=True, stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    number = int(proc.stdout.readline())
    proc.stdout.close()
    return proc, number


def test_stop_group_waits_for_the_grandchild_server_50_times_in_a_row() -> None:
    for _ in range(50):
        proc, port = in_a_shell(SERVER)
        assert port_open("127.0.0.1", port)
        stop_group(proc)
        assert proc.returncode is not None
        assert not group_alive(proc.pid)
        assert not port_open("127.0.0.1", port)


IGNORES_SIGTERM = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(0, flush=True)
time.sleep(60)
"""


def test_stop_group_kills_a_group_that_ignores_sigterm() -> None:
    proc, _ = in_a_shell(IGNORES_SIGTERM)
    started = time.monotonic()
    stop_group(proc, grace=0.2)
    assert not group_alive(proc.pid)
    assert time.monotonic() - started < 2


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_group_of_only_zombies_is_gone() -> None:
    """An exited process not reaped yet still answers ``killpg(pgid, 0)`` but holds no port."""
    proc = subprocess.Popen(["true"], start_new_session=True)
    deadline = time.monotonic() + 10
    while _state(proc.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        os.killpg(proc.pid, 0)  # the zombie is still a member of its group
        assert not group_alive(proc.pid)
    finally:
        proc.wait()
    assert not group_alive(proc.pid)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]
