"""Group commit: one writer task turns every batch waiting at a moment into one transaction.

A vote is acknowledged only after the transaction holding it commits, and many votes
arriving together share that commit, so durability does not cost throughput. The store
call runs on one dedicated thread so the event loop keeps serving sockets meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from .store.base import Batch, EventStore

log = logging.getLogger("hemicycle.writer")


class GroupWriter:
    def __init__(self, store: EventStore, on_committed: Callable[[list[Batch]], None],
                 on_failed: Callable[[Exception], None]) -> None:
        self.store = store
        self._on_committed = on_committed
        self._on_failed = on_failed
        self._queue: list[tuple[Batch, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hemicycle-writer")
        self._task: asyncio.Task | None = None
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hemicycle-writer")

    async def stop(self) -> None:
        """Finish what was submitted, then stop."""
        while self._queue:
            await asyncio.sleep(0.005)
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    def submit(self, batch: Batch) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((batch, fut))
        self._wake.set()
        return fut

    def call(self, fn: Callable, *args: object) -> asyncio.Future:
        """Run a store call on the writer thread, after everything submitted so far."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._queue:
                continue
            parts, self._queue = self._queue, []
            merged = Batch()
            for batch, _ in parts:
                merged.extend(batch)
            try:
                await loop.run_in_executor(self._executor, self.store.commit, merged)
            except Exception as exc:  # the transaction rolled back: nothing of it is durable
                log.exception("commit of %d batches failed", len(parts))
                failed = parts + self._queue
                self._queue = []
                for _, fut in failed:
                    if not fut.done():
                        fut.set_exception(exc)
                try:
                    self._on_failed(exc)
                except Exception:  # never let the writer die: every later command would wait forever
                    log.exception("recovering from a failed commit failed")
                continue
            self.commits += 1
            try:
                self._on_committed([b for b, _ in parts])
            except Exception:  # a listener's fault must not keep durable votes unacknowledged
                log.exception("publishing a committed batch failed")
            for _, fut in parts:
                if not fut.done():
                    fut.set_result(None)
