"""Where the token endpoint's grants run: a bounded, process-wide thread pool.

Signing an RS256 token costs about 0.7 ms of CPU, most of a token request, and `cryptography`
releases the GIL while it signs. Running each grant (policy, issuance, signing) in a pool sized
to the CPU count lets one IdP under load use every core, while aiohttp keeps parsing requests
and authenticating clients on its single loop. Everything a grant touches is behind the
store's, the grants' and the plans' locks, which the library's callers (other threads) already
rely on; the issued token is remembered before it is signed, so a concurrent replay that
revokes the grant also revokes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def size() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def pool() -> ThreadPoolExecutor:
    """The shared pool, made on first use (an IdP that never issues a token never starts it)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=size(), thread_name_prefix="mockidp-grant")
        return _pool


async def off_loop(fn: Callable[..., T], /, *args: object) -> T:
    """``fn(*args)`` in the pool, with this request's context variables (claims recording).

    The worker hands the outcome straight to an asyncio future with ``call_soon_threadsafe``:
    ``run_in_executor``'s chaining of a ``concurrent.futures.Future`` to it (locks, done
    callbacks, state copying) cost the loop about a tenth of what a token request costs.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    pool().submit(_run, loop, future, contextvars.copy_context(), fn, args)
    return await future


def _run(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[T],
    context: contextvars.Context,
    fn: Callable[..., T],
    args: tuple[object, ...],
) -> None:
    if future.cancelled():  # the request went away while it queued
        return
    try:
        result = context.run(fn, *args)
    except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request, as run_in_executor does
        outcome = functools.partial(_fail, future, exc)
    else:
        outcome = functools.partial(_succeed, future, result)
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
        loop.call_soon_threadsafe(outcome)


def _succeed(future: asyncio.Future[T], result: T) -> None:
    if not future.cancelled():
        future.set_result(result)


def _fail(future: asyncio.Future[T], exc: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(exc)
