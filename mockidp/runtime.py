"""An aiohttp app on a loop thread, usable sync and async: the lifecycle ``MockIdP`` and
``MockApis`` share.

Sync use (``with server:``, ``start()``/``stop()``) runs the app on one shared background event
loop, so starting a server costs a socket bind rather than a thread and a loop. Async use
(``async with server:``, ``astart()``/``astop()``) runs it on the caller's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from .errors import MockIdPError

T = TypeVar("T")


class LoopThread:
    """One daemon thread running an event loop, shared by every sync server in the process."""

    _lock = threading.Lock()
    _instance: LoopThread | None = None

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mockidp-loop", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> LoopThread:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


class AppRuntime:
    """Start and stop one listening aiohttp app, from sync or async code.

    A subclass binds its app in :meth:`_listen` and may finish setting up in :meth:`_started`
    (the runner is kept by then, so :meth:`astop` cleans it up) and check for problems after a
    ``with`` block that ended normally in :meth:`_after_exit`.
    """

    #: the message of the error raised when starting twice
    _already_started = "this server is already started"

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._loop_thread: LoopThread | None = None

    async def _listen(self) -> web.AppRunner:
        """Build the app and bind it; returns its runner."""
        raise NotImplementedError

    def _started(self) -> None:
        """Called once listening (addresses known, runner kept)."""

    def _after_exit(self) -> None:
        """Called when a ``with`` or ``async with`` block ends without an exception."""

    async def astart(self) -> Self:
        if self._runner is not None:
            raise MockIdPError(self._already_started)
        self._runner = await self._listen()
        self._started()
        return self

    async def astop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def start(self) -> Self:
        """Start on the shared background loop (for sync code and any HTTP client)."""
        self._loop_thread = LoopThread.get()
        return self._loop_thread.run(self.astart())

    def stop(self) -> None:
        if self._loop_thread is not None:
            self._loop_thread.run(self.astop())
            self._loop_thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None:
            self._after_exit()

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.astop()
        if exc_type is None:
            self._after_exit()
