"""Run ``mockidp serve`` as a real subprocess for CLI, interop and benchmark tests."""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

MOCKIDP = str(Path(sys.executable).with_name("mockidp"))


class ServeProcess:
    """``mockidp serve ARGS`` on loopback; ``issuer`` is set once it prints ``issuer: <URL>``."""

    def __init__(self, *args: str, timeout: float = 20.0) -> None:
        self.args = [MOCKIDP, "serve", *args]
        self.timeout = timeout
        self.issuer = ""
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_issuer(self) -> str:
        """Read output until the ``issuer:`` line; fails if the process exits first."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"mockidp serve exited early: {self.stderr()}")
            self.lines.append(line)
            if line.startswith("issuer: "):
                self.issuer = line.removeprefix("issuer: ")
                return self.issuer
        raise AssertionError("mockidp serve printed no issuer line in time")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise

    def rest_of_stdout(self) -> list[str]:
        lines: list[str] = []
        while True:
            try:
                line = self._queue.get(timeout=5)
            except queue.Empty:
                return lines
            if line is None:
                return lines
            lines.append(line)

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def __enter__(self) -> ServeProcess:
        if not self.issuer:
            try:
                self.wait_for_issuer()
            except BaseException:
                self.proc.kill()
                self.proc.wait(5)
                raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc.poll() is None:
            self.stop()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def free_port() -> int:
    """A loopback port for a server a test starts itself and must name in advance.

    Picked below Linux's ephemeral range (32768-60999), where every port-0 bind and every
    outgoing connection's own port lands, so neither another test's server nor a client socket
    can take it between this call and the server's bind; only another ``free_port()`` could,
    one chance in thousands. (A port-0 pick was taken that way now and then under xdist.)
    """
    pick = random.SystemRandom()
    for _ in range(200):
        port = pick.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port between 20000 and 32000")


def run_serve(*args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """Run ``mockidp serve`` expecting it to exit on its own (usage or config errors)."""
    return subprocess.run(
        [MOCKIDP, "serve", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


__all__ = ["MOCKIDP", "ServeProcess", "free_port", "run_serve", "signal"]
