"""Signer processes: where ``mockidp serve`` makes the token endpoint's signatures.

An RS256 signature is most of a token request's CPU. Signing on worker threads
(``mockidp.web.workers``) spreads it over the cores, but each thread must take the GIL back
after every signature while the event loop holds it for HTTP, so under load the threads wait
in line and part of the machine sits idle. Here the grant runs on the loop with its
signatures deferred (``mockidp.tokens.deferred_signing``); the signing inputs go to child
processes (``mockidp.signatures``, one per CPU), each with its own GIL; the answers come back
over pipes the loop reads like any socket. State never leaves the loop: a child only turns
bytes into a signature with a key it was sent.

Grants that may fetch another issuer's keys (``mockidp.flows.FETCHING_GRANTS``) still run on a
worker thread, since a fetch blocks; their signatures are deferred all the same. A child that
fails or dies costs nothing but speed: its pending signatures are made in the server process.

One pool per process, bound to the loop that started it (``mockidp serve``'s); IdPs on any
other loop (the pytest fixtures, ``MockIdP.start()``) never see it and sign as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import signatures
from ..errors import ServerBugError
from ..flows import FETCHING_GRANTS, GrantHandler, TokenRequest
from ..keys import SigningKey
from ..tokens import PLACEHOLDER_PREFIX, DeferredSignatures, Unsigned, deferred_signing
from . import workers
from .workers import off_loop

#: the child runs ``mockidp.signatures`` as a script; ``-P`` keeps the package folder off
#: ``sys.path`` (its modules must not shadow the standard library's)
_CHILD = [sys.executable, "-P", signatures.__file__]


#: a child that owes an answer this long (a signature takes about a millisecond) is stuck:
#: it is killed and replaced, and what it owed is signed in the server
STALL_SECONDS = 10.0
#: how often the pool looks for stuck children
WATCH_SECONDS = 1.0
#: children that died or stuck are replaced this many times per pool, then the server signs
#: on its worker threads (``mockidp.web.workers``), as with ``--signers 0``
MAX_REPLACEMENTS = 8


class _Child(asyncio.Protocol):
    """One signer process: its pipes, the keys it holds, the answers it owes."""

    def __init__(self, process: subprocess.Popen[bytes], lost: Callable[[_Child], None]) -> None:
        self.process = process
        self.lost = lost
        self.writer: asyncio.WriteTransport | None = None
        self.reader: asyncio.ReadTransport | None = None
        self.waiting: dict[int, asyncio.Future[bytes | None]] = {}
        self.keys: set[int] = set()
        self.next_number = 0
        self.buffer = bytearray()
        self.alive = True
        #: since when the child has owed an answer without giving any (None: owes nothing)
        self.owing_since: float | None = None
        #: signatures this child made (the rest of its requests failed and were made here)
        self.signed = 0

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        size = signatures.ANSWER.size
        while len(buffer) >= size:
            number, length = signatures.ANSWER.unpack_from(buffer)
            end = size + (0 if length == signatures.FAILED else length)
            if len(buffer) < end:
                break
            signature = None if length == signatures.FAILED else bytes(buffer[size:end])
            del buffer[:end]
            self.signed += signature is not None
            future = self.waiting.pop(number, None)
            if future is not None and not future.done():
                future.set_result(signature)
        self.owing_since = time.monotonic() if self.waiting else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self.owing_since = None
        for future in self.waiting.values():
            if not future.done():
                future.set_result(None)  # signed in the server process instead
        self.waiting.clear()
        self.lost(self)

    def send(self, kind: int, number: int, payload: bytes) -> None:
        assert self.writer is not None
        self.writer.write(signatures.REQUEST.pack(kind, number, len(payload)) + payload)

    def close(self) -> None:
        for transport in (self.writer, self.reader):
            if transport is not None:
                transport.close()


class SignerPool:
    """``count`` signer processes serving the loop that started them."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.loop: asyncio.AbstractEventLoop | None = None
        self.children: list[_Child] = []
        self.replacements = 0
        self.closing = False
        self._watch: asyncio.TimerHandle | None = None
        self._spawning: set[asyncio.Task[None]] = set()
        #: key number by ``id(SigningKey)``; the key is held so its id is never reused
        self._keys: dict[int, tuple[SigningKey, int, bytes]] = {}

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        for _ in range(self.count):
            await self._spawn()
        self._watch = self.loop.call_later(WATCH_SECONDS, self._look_for_stuck_children)

    async def _spawn(self) -> None:
        assert self.loop is not None
        # a session of its own: Ctrl-C in a terminal reaches the server only, which then stops
        # the child by closing its stdin (as the child's stdin closes if the server dies)
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our file
            _CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
        )
        child = _Child(process, self._lost)
        assert process.stdin is not None and process.stdout is not None
        try:
            child.writer, _ = await self.loop.connect_write_pipe(asyncio.BaseProtocol, process.stdin)
            child.reader, _ = await self.loop.connect_read_pipe(lambda: child, process.stdout)
        except BaseException:
            child.close()
            process.kill()
            process.wait()
            raise
        self.children.append(child)

    def _lost(self, child: _Child) -> None:
        """A child's answers ended: expected when closing, else replace it (a few times)."""
        if child in self.children:
            self.children.remove(child)
        child.close()
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        child.process.wait()
        if self.closing:
            return
        if self.replacements >= MAX_REPLACEMENTS:
            if not self.children:
                _warn("no signer process left; signing on threads in the server from now on")
            return
        self.replacements += 1
        _warn(
            f"signer process {child.process.pid} ended (status {child.process.returncode}); starting another"
        )
        assert self.loop is not None
        task = self.loop.create_task(self._spawn())
        self._spawning.add(task)
        task.add_done_callback(self._spawned)

    def _spawned(self, task: asyncio.Task[None]) -> None:
        self._spawning.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _warn(f"could not start a signer process: {task.exception()}")

    def _look_for_stuck_children(self) -> None:
        now = time.monotonic()
        for child in list(self.children):
            if child.alive and child.owing_since is not None and now - child.owing_since > STALL_SECONDS:
                _warn(
                    f"signer process {child.process.pid} gave no answer for {STALL_SECONDS:g} s; stopping it"
                )
                child.process.kill()  # its pipe closes: connection_lost answers what it owed
        assert self.loop is not None
        self._watch = self.loop.call_later(WATCH_SECONDS, self._look_for_stuck_children)

    async def close(self) -> None:
        """Close every child's stdin (it exits) and reap it; kill one that lingers."""
        self.closing = True
        if self._watch is not None:
            self._watch.cancel()
        for task in list(self._spawning):
            task.cancel()
        for child in self.children:
            if child.writer is not None:
                child.writer.close()
        for child in list(self.children):
            for _ in range(50):
                if child.process.poll() is not None:
                    break
                await asyncio.sleep(0.02)
            else:
                child.process.kill()
                child.process.wait()
            child.close()
        self.children.clear()

    def sign(self, key: SigningKey, data: bytes) -> asyncio.Future[bytes | None]:
        """The signature from the least busy live child; None (then sign it here) if none."""
        assert self.loop is not None
        future: asyncio.Future[bytes | None] = self.loop.create_future()
        child: _Child | None = None
        for candidate in self.children:
            if candidate.alive and (child is None or len(candidate.waiting) < len(child.waiting)):
                child = candidate
        if child is None:
            future.set_result(None)
            return future
        known = self._keys.get(id(key))
        if known is None:
            native: Any = key.key.private_key
            known = self._keys[id(key)] = (key, len(self._keys), signatures.key_payload(native, key.alg))
        _, key_number, payload = known
        if key_number not in child.keys:
            child.send(signatures.LOAD_KEY, key_number, payload)
            child.keys.add(key_number)
        number = child.next_number = (child.next_number + 1) % signatures.FAILED
        if not child.waiting:
            child.owing_since = time.monotonic()
        child.waiting[number] = future
        child.send(signatures.SIGN, number, signatures.KEY_NUMBER.pack(key_number) + data)
        return future

    async def run(self, grant: GrantHandler, request: TokenRequest, grant_type: str) -> dict[str, Any]:
        """Run ``grant`` with its signatures made by the children; the finished token response."""
        with deferred_signing() as batch:
            if grant_type in FETCHING_GRANTS:
                body = await off_loop(grant, request)
            else:
                body = grant(request)
        await self.settle(body, batch)
        return body

    async def settle(self, body: dict[str, Any], batch: DeferredSignatures) -> None:
        """Swap every placeholder in ``body`` for its token, the signatures made in parallel;
        a token that needs another's value (an ID token's ``at_hash``) once that one is signed.

        A signature no child made (none alive, one died or refused) is made on a worker thread.
        """
        first: list[tuple[str, Unsigned]] = []
        then: list[tuple[str, Unsigned]] = []
        for name, value in body.items():
            entry = batch.entry(value)
            if entry is None:
                continue
            if entry.token is not None:  # signed already: its value was needed
                body[name] = entry.token
            else:
                (then if entry.after is not None else first).append((name, entry))
        await self._sign_all([entry for _, entry in first])
        await self._sign_all([entry.after for _, entry in then if entry.after is not None])
        await self._sign_all([entry for _, entry in then])
        for name, entry in (*first, *then):
            body[name] = entry.token
        if _holds_placeholder(body):
            raise ServerBugError("a token placeholder was left in the token response")

    async def _sign_all(self, entries: list[Unsigned]) -> None:
        """Sign every entry not signed yet, in parallel over the children."""
        asked = [
            (entry, self.sign(entry.key, entry.ready_input().encode("ascii")))
            for entry in entries
            if entry.token is None
        ]
        for entry, future in asked:
            signature = await future
            if signature is not None:
                entry.finish(signature)
            else:
                await off_loop(entry.sign_here)


def _holds_placeholder(value: object) -> bool:
    """Whether a placeholder hides anywhere in ``value`` (a token put somewhere unexpected)."""
    if isinstance(value, str):
        return value.startswith(PLACEHOLDER_PREFIX)
    if isinstance(value, dict):
        return any(_holds_placeholder(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_placeholder(v) for v in value)
    return False


def _warn(message: str) -> None:
    print(f"mockidp: warning: {message}", file=sys.stderr, flush=True)


#: more signers than this only wait: the one event loop cannot feed more (an RS256 signature
#: costs about as much CPU as the rest of a token request, all of which runs on the loop)
MAX_DEFAULT = 4


def default_count() -> int:
    """One signer per CPU beyond the loop's own, at least one and at most :data:`MAX_DEFAULT`.

    On two cores one signer beats two: with two, both wait for work part of the time and
    each request pays more pipe wake-ups (measured in docs/performance.md).
    """
    return max(1, min(workers.size() - 1, MAX_DEFAULT))


_pool: SignerPool | None = None


async def start(count: int) -> None:
    """Start ``count`` signer processes for the running loop (``mockidp serve``)."""
    global _pool
    if _pool is not None:
        raise RuntimeError("signer processes are already running")
    pool = SignerPool(count)
    _pool = pool
    try:
        await pool.start()
    except BaseException:
        _pool = None
        await pool.close()
        raise


async def stop() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await pool.close()


def active() -> SignerPool | None:
    """The pool serving the running loop, if any."""
    pool = _pool
    if pool is None or pool.loop is not asyncio.get_running_loop():
        return None
    return pool


__all__ = ["SignerPool", "active", "start", "stop"]
