"""Where the token endpoint's grants run in an in-process IdP, and where blocking work (key
and client-document fetches) runs everywhere: a bounded, process-wide set of worker threads.
``mockidp serve`` signs in child processes instead (``mockidp.web.signers``: threads that
sign convoy on the GIL under load).

Signing an RS256 token costs about 0.45 ms of CPU, most of a token request, and `cryptography`
releases the GIL while it signs. Running each grant (policy, issuance, signing) on one of a
few threads sized to the CPU count lets one IdP under load use every core, while aiohttp
keeps parsing requests and authenticating clients on its single loop. Everything a grant
touches is behind the store's, the grants' and the plans' locks, which the library's callers
(other threads) already rely on; the issued token is remembered before it is signed, so a
concurrent replay that revokes the grant also revokes it.

The hand-over is kept to a queue put and one ``call_soon_threadsafe``: ``run_in_executor``'s
``concurrent.futures.Future`` (a condition variable per call, done callbacks, chaining to an
asyncio future) cost the loop about a fifth of what the rest of a token request costs there.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: one queued grant: the loop and future to answer, the request's context, the call
Job = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[..., Any], tuple[Any, ...]
]

_jobs: queue.SimpleQueue[Job] | None = None
_start_lock = threading.Lock()


def size() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _queue() -> queue.SimpleQueue[Job]:
    """The shared job queue, its workers started on first use (an IdP that never issues a
    token starts none). Daemon threads: one idle in ``get`` never holds up interpreter exit."""
    global _jobs
    jobs = _jobs
    if jobs is not None:
        return jobs
    with _start_lock:
        if _jobs is None:
            fresh: queue.SimpleQueue[Job] = queue.SimpleQueue()
            for number in range(size()):
                threading.Thread(
                    target=_work, args=(fresh,), name=f"mockidp-grant_{number}", daemon=True
                ).start()
            _jobs = fresh
        return _jobs


async def off_loop(fn: Callable[..., T], /, *args: object) -> T:
    """``fn(*args)`` on a worker, with this request's context variables (claims recording)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    _queue().put((loop, future, contextvars.copy_context(), fn, args))
    return await future


def _work(jobs: queue.SimpleQueue[Job]) -> None:
    while True:
        loop, future, context, fn, args = jobs.get()
        if not future.cancelled():  # else the request went away while it queued
            outcome = _outcome(future, context, fn, args)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(outcome)
            del outcome
        del loop, future, context, fn, args  # an idle worker keeps no request alive


def _outcome(
    future: asyncio.Future[Any], context: contextvars.Context, fn: Callable[..., Any], args: tuple[Any, ...]
) -> Callable[[], None]:
    """Run one grant; what the loop must do with its result or exception."""
    try:
        result = context.run(fn, *args)
    except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request, as run_in_executor does
        return functools.partial(_fail, future, exc)
    return functools.partial(_succeed, future, result)


def _succeed(future: asyncio.Future[T], result: T) -> None:
    if not future.cancelled():
        future.set_result(result)


def _fail(future: asyncio.Future[T], exc: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(exc)
