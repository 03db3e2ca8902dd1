"""Group commit: one writer task turns every batch waiting at a moment into one transaction.

A vote is acknowledged only after the transaction holding it commits, and many votes
arriving together share that commit, so durability does not cost throughput. The store
call runs on one dedicated thread so the event loop keeps serving sockets meanwhile.

The writer knows batches, not their senders: after a commit it hands the committed
batches back (``on_committed``), in submission order, and the sitting answers whoever
waits on them. No future is created per batch: at 3,000 votes in a burst, futures and
their done-callbacks (each a separate trip through the event loop) cost more than the
votes themselves.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..store.base import Batch, EventStore

log = logging.getLogger("hemicycle.writer")

WRITER_SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


def favour_writer_thread() -> None:
    """Let the writer thread take the interpreter back soon after each database call.

    The commit runs on its own thread and gives up the GIL inside every SQLite call
    (prepare, step, commit's fsync); to continue it must wait for the event loop, busy
    deciding the rest of a burst, to yield — which CPython forces only after the switch
    interval. At the default 5 ms, a commit of a few database calls took 80 ms instead
    of 6, and every acknowledgement in it waited. Process-wide, so the server (Runtime)
    calls it once at start rather than the writer behind its caller's back.
    """
    sys.setswitchinterval(WRITER_SWITCH_INTERVAL)


class GroupWriter:
    def __init__(
        self, store: EventStore, on_committed: Callable[[list[Batch]], None], on_failed: Callable[[Exception], None]
    ) -> None:
        self.store = store
        self._on_committed = on_committed
        self._on_failed = on_failed
        self._queue: list[Batch] = []
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hemicycle-writer")
        self._task: asyncio.Task | None = None
        self._busy = False
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hemicycle-writer")

    async def stop(self) -> None:
        """Finish what was submitted, then stop."""
        while self._queue or self._busy:
            await asyncio.sleep(0.005)
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    def submit(self, batch: Batch) -> None:
        """Queue a batch for the next commit; ``on_committed`` or ``on_failed`` follows."""
        self._queue.append(batch)
        if not self._busy:
            self._wake.set()

    def open_batch(self) -> Batch:
        """The batch the next commit will take, for callers to add to.

        Commands arriving between two commits share one batch instead of each making
        its own for the commit to merge: at 3,000 votes a burst, that was 3,000 objects
        with five lists each, built and merged only to be written together anyway.
        """
        if not self._queue:
            self.submit(Batch())
        return self._queue[-1]

    def call(self, fn: Callable, *args: object) -> asyncio.Future:
        """Run a store call on the writer thread, after everything submitted so far."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                parts, self._queue = self._queue, []
                if len(parts) == 1:
                    merged = parts[0]
                else:
                    merged = Batch()
                    for batch in parts:
                        merged.add(batch)
                self._busy = True
                try:
                    await loop.run_in_executor(self._executor, self.store.commit, merged)
                except Exception as exc:  # the transaction rolled back: nothing of it is durable
                    log.exception("commit of %d batches failed", len(parts))
                    self._queue = []  # later batches were decided on a state that is now gone
                    try:
                        self._on_failed(exc)
                    except Exception:  # never let the writer die: every later command would wait forever
                        log.exception("recovering from a failed commit failed")
                    continue
                finally:
                    self._busy = False
                self.commits += 1
                try:
                    self._on_committed(parts)
                except Exception:  # a listener's fault must not stop the writer
                    log.exception("publishing a committed batch failed")
