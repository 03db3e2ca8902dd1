"""The render pool's worker processes: created when first needed, low priority, replaced
when one dies.

Why a separate class: the render pool (server/documents/render_pool.py) decides *what* runs next;
this owns *where* it runs — a ``spawn`` ProcessPoolExecutor (no fork of a server holding
sockets and threads) whose workers lower their priority, so the server process (votes,
WebSocket fan-out, serving cached pages) gets the CPU first whenever both want it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .render import lower_priority

#: Worker niceness: CFS then gives a nice-0 process ~10x the CPU of a busy worker.
NICE = 10


def default_workers() -> int:
    """One core is left to the server: on the usual 2-core meeting-room box, one worker."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class WorkerProcesses:
    """A lazily started process pool that can be replaced after a crash."""

    def __init__(self, workers: int, nice: int = NICE) -> None:
        self.workers = workers
        self.nice = nice
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> tuple[Executor, asyncio.Future[Any]]:
        """Run ``fn(*args)`` in a worker; returns the pool it went to (to drop it if it broke)
        and a future that also carries a failure to submit (pool broken or shut down)."""
        pool = self._pool()
        loop = asyncio.get_running_loop()
        try:
            return pool, loop.run_in_executor(pool, fn, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # broken or shut down under us
            fut = loop.create_future()
            fut.set_exception(exc)
            return pool, fut

    def drop_broken(self, broken: Executor) -> None:
        """Replace the pool that broke (only that one: a job of the same crash may report after
        its replacement already runs the retries)."""
        if self._executor is broken:
            self._executor = None
            broken.shutdown(wait=False, cancel_futures=True)

    async def shutdown(self) -> None:
        """Let jobs in workers finish, drop queued ones, stop the workers."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=lower_priority,
                initargs=(self.nice,),
            )
        return self._executor
