"""How a worker process ended decides what the clerk is told (server/documents/worker_processes.py).

A page past its processor-time limit is "too complex" (the file may be built to exhaust the
server); a worker that crashed is "render failed". The executor's own thread reaps a dead
worker, and a status read racing it used to come back empty, so a page killed at its time
limit was now and then reported as a crash (CI, stop 23). These run real worker processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any

import pytest

from server.documents.worker_processes import ProcessLimits, Slot, WorkerDied, _exit_status

LIMITS = ProcessLimits(memory_bytes=512 * 1024 * 1024, page_seconds=1, open_seconds=1)


def burn() -> None:
    """A job that never ends by itself: only its processor-time limit stops it."""
    n = 0
    while True:
        n += 1


def exit_with(code: int) -> None:
    os._exit(code)


def answer() -> int:
    return 42


async def died_of(job: Any, *args: Any) -> WorkerDied:
    slot = Slot(0, LIMITS)
    try:
        with pytest.raises(WorkerDied) as caught:
            await asyncio.wait_for(slot.submit(job, *args, seconds=1), 60)
        return caught.value
    finally:
        executor = slot.shutdown()
        if executor is not None:
            executor.shutdown(wait=True)


async def test_a_job_past_its_processor_time_is_reported_as_time_every_time() -> None:
    for _ in range(2):  # the race was intermittent: each death must read the same
        died = await died_of(burn)
        assert (died.reason, died.exitcode) == ("time", -signal.SIGXCPU)


async def test_a_worker_that_exits_on_its_own_is_a_crash_with_its_code() -> None:
    died = await died_of(exit_with, 3)
    assert (died.reason, died.exitcode) == ("crash", 3)


async def test_a_slot_works_again_after_its_worker_died() -> None:
    slot = Slot(0, LIMITS)
    try:
        with pytest.raises(WorkerDied):
            await asyncio.wait_for(slot.submit(exit_with, 3, seconds=1), 60)
        assert not slot.busy
        assert await asyncio.wait_for(slot.submit(answer, seconds=1), 60) == 42
    finally:
        executor = slot.shutdown()
        if executor is not None:
            executor.shutdown(wait=True)


def test_the_blocking_path_reports_the_time_limit_too() -> None:
    slot = Slot(0, LIMITS)
    try:
        with pytest.raises(WorkerDied) as caught:
            slot.run_sync(burn, seconds=1)
        assert (caught.value.reason, caught.value.exitcode) == ("time", -signal.SIGXCPU)
    finally:
        executor = slot.shutdown()
        if executor is not None:
            executor.shutdown(wait=True)


class LateProcess:
    """A process whose exit status another thread has reaped and not yet recorded: what
    multiprocessing shows us in the race (``exitcode`` None for a while)."""

    def __init__(self, after: int) -> None:
        self.reads = 0
        self.after = after

    @property
    def exitcode(self) -> int | None:
        self.reads += 1
        return -signal.SIGXCPU if self.reads > self.after else None


def test_the_exit_status_is_waited_for_when_another_thread_reaps_the_worker() -> None:
    late = LateProcess(after=20)
    assert _exit_status([late]) == -signal.SIGXCPU
    assert late.reads == 21


def test_a_status_never_known_gives_up_within_its_wait() -> None:
    never = LateProcess(after=10**9)
    done = threading.Event()
    result: list[int | None] = []

    def read() -> None:
        result.append(_exit_status([never], wait=0.05))
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(30)  # a hang guard, not a speed claim
    assert result == [None]
