"""Group commit: one writer task turns everything decided since the last commit into one transaction.

A vote is acknowledged only after the transaction holding it commits, and many votes
arriving together share that commit, so durability does not cost throughput. The store
call runs on one dedicated thread so the event loop keeps serving sockets meanwhile.

The writer knows batches, not their senders: after a commit it hands the committed
batch back (``on_committed``) and the sitting answers whoever waits on it. No future is
created per vote: at 3,000 votes in a burst, futures and their done-callbacks (each a
separate trip through the event loop) cost more than the votes themselves.
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
    """One open batch that commands add to, committed by one task on one thread.

    While a commit runs, new commands go into the next open batch; when it is done, that
    batch (everything decided meanwhile) is the next commit. So there is never more than one
    batch waiting, and a commit holds whatever arrived during the one before it.
    """

    def __init__(
        self,
        store: EventStore,
        on_committed: Callable[[list[Batch]], None],
        on_failed: Callable[[Exception], None],
    ) -> None:
        self.store = store
        self._on_committed = on_committed
        self._on_failed = on_failed
        self._open: Batch | None = None  # decided, waiting for the next commit
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # nothing open and nothing being committed
        self._idle.set()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hemicycle-writer")
        self._task: asyncio.Task[None] | None = None
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hemicycle-writer")

    async def stop(self) -> None:
        """Finish what was handed over, then stop."""
        await self._idle.wait()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    def open_batch(self) -> Batch:
        """The batch the next commit will take, for callers to add to.

        Commands arriving between two commits share one batch instead of each making its
        own for the commit to merge: at 3,000 votes a burst, that was 3,000 objects with
        five lists each, built and merged only to be written together anyway.
        """
        if self._open is None:
            self._open = Batch()
            self._idle.clear()
            self._wake.set()
        return self._open

    def call(self, fn: Callable[..., object], *args: object) -> asyncio.Future[object]:
        """Run a store call on the writer thread, after everything submitted so far."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._open is not None:
                batch, self._open = self._open, None
                try:
                    await loop.run_in_executor(self._executor, self.store.commit, batch)
                except Exception as exc:  # the transaction rolled back: nothing of it is durable
                    log.exception("a commit failed")
                    self._open = None  # anything decided meanwhile was decided on a state that is now gone
                    try:
                        self._on_failed(exc)
                    except Exception:  # never let the writer die: every later command would wait forever
                        log.exception("recovering from a failed commit failed")
                    continue
                self.commits += 1
                try:
                    self._on_committed([batch])
                except Exception:  # a listener's fault must not stop the writer
                    log.exception("publishing a committed batch failed")
            self._idle.set()
