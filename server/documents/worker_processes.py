"""Where hostile files are opened: worker processes with hard limits, one job each at a time.

Why: a 4 KB PDF can make PDFium allocate tens of gigabytes (form XObjects nested and drawn
many times over) or draw for minutes (thousands of full-page fills). Such a file must cost
the server one job, never the machine: so every PDFium call of the server — opening an
upload to check it, rendering a page, stamping a confidential page — runs in a process that

* lowers its priority (``os.nice``): the server process (votes, fan-out) gets the CPU first;
* cannot grow past ``ProcessLimits.memory_bytes`` of address space (``RLIMIT_AS``): PDFium
  aborts when an allocation fails, Python raises MemoryError; no core file is written;
* is stopped by the kernel when one job uses more processor time than its limit
  (``RLIMIT_CPU``, set afresh before each job: SIGXCPU). Processor time, not wall time: on a
  busy machine a low-priority worker waits for the CPU, and an honest page must not be
  taken for a bomb because it waited. A watchdog kills a job that runs ten times its limit
  in wall time (a hang that uses no CPU);
* runs ONE job at a time (a ``ProcessPoolExecutor`` of one process per :class:`Slot`): when
  a process dies, the job that killed it is known, so nothing innocent is retried and
  nothing guilty is tried again.

The render pool (server/documents/render_pool.py) decides what runs next; this decides where
and under which limits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

#: Worker niceness: CFS then gives a nice-0 process ~10x the CPU of a busy worker.
NICE = 10
MiB = 1024 * 1024


@dataclass(frozen=True)
class ProcessLimits:
    """Hard limits of every worker process (docs/documents.md, "Limits")."""

    memory_bytes: int = 1536 * MiB  # address space of one worker (RLIMIT_AS)
    page_seconds: float = 30.0  # processor time for one page rendered or stamped; ~0.25 s is usual
    open_seconds: float = 120.0  # processor time to open an upload and parse each of its pages

    def describe(self) -> str:
        return f"{self.memory_bytes // MiB} MiB of memory, {self.page_seconds:g} s per page"


class WorkerDied(Exception):
    """The worker process running a job died or was killed: that job is the cause.

    ``reason`` is ``"time"`` (past its processor-time limit, or killed by the watchdog),
    ``"memory"`` (it ran out of its address space: PDFium aborts, the kernel may kill) or
    ``"crash"`` (anything else).
    """

    def __init__(self, reason: str, exitcode: int | None) -> None:
        super().__init__(f"worker process died ({reason}, exit code {exitcode})")
        self.reason = reason
        self.exitcode = exitcode


def default_workers() -> int:
    """One core is left to the server: on the usual 2-core meeting-room box, one worker."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def limit_process(nice: int, memory_bytes: int) -> None:
    """Worker-process initializer: lower priority, cap the address space, no core dumps (a
    PDFium abort at the memory limit would otherwise write gigabytes to disk)."""
    if nice > 0 and hasattr(os, "nice"):
        os.nice(nice)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


#: wall time allowed to a job, in multiples of its processor-time limit (the watchdog's bound)
WALL_FACTOR = 10


def run_job(cpu_seconds: float, fn: Callable[..., Any], *args: Any) -> Any:
    """In the worker: give this job ``cpu_seconds`` of processor time from now (the kernel
    sends SIGXCPU past it, which ends the process), then run it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + cpu_seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return fn(*args)


def _reason(exitcode: int | None, killed: bool) -> str:
    if killed or exitcode == -signal.SIGXCPU:
        return "time"
    if exitcode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV, -signal.SIGBUS):
        return "memory"  # PDFium aborts when an allocation fails; the OOM killer sends SIGKILL
    return "crash"


class Slot:
    """One worker process that runs one job at a time, started when first needed and
    replaced after it dies."""

    def __init__(self, nice: int, limits: ProcessLimits) -> None:
        self.nice = nice
        self.limits = limits
        self.busy = False
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # run_sync may be called from several threads
        self._reaping: set[asyncio.Task[None]] = set()

    def submit(self, fn: Callable[..., Any], *args: Any, seconds: float) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` in this slot's process with ``seconds`` of processor time; the
        future has its result, its exception, or :class:`WorkerDied` when the process died."""
        loop = asyncio.get_running_loop()
        out: asyncio.Future[Any] = loop.create_future()
        self.busy = True
        pool = self._pool()
        try:
            inner = loop.run_in_executor(pool, run_job, seconds, fn, *args)
        except (BrokenProcessPool, RuntimeError):  # broken or shut down under us
            self._drop(pool)
            self.busy = False
            out.set_exception(WorkerDied("crash", None))
            return out
        procs = _processes(pool)
        killed: list[bool] = []
        timer = loop.call_later(seconds * WALL_FACTOR, _kill, procs, killed)

        def settle(f: asyncio.Future[Any], exc: BaseException | None) -> None:
            if out.done():
                return
            if f.cancelled():
                out.cancel()
            elif exc is not None:
                out.set_exception(exc)
            else:
                out.set_result(f.result())

        async def died(f: asyncio.Future[Any]) -> None:
            exitcode = await asyncio.to_thread(_exit_status, procs)
            self.busy = False
            settle(f, WorkerDied(_reason(exitcode, bool(killed)), exitcode))

        def done(f: asyncio.Future[Any]) -> None:
            timer.cancel()
            exc = None if f.cancelled() else f.exception()
            if isinstance(exc, BrokenProcessPool):
                self._drop(pool)
                task = loop.create_task(died(f))
                self._reaping.add(task)  # the loop keeps only a weak reference to a task
                task.add_done_callback(self._reaping.discard)
                return
            self.busy = False
            settle(f, exc)

        inner.add_done_callback(done)
        return out

    def run_sync(self, fn: Callable[..., Any], *args: Any, seconds: float) -> Any:
        """The same from a thread (not the event loop): blocks until done; one job at a time."""
        with self._lock:
            pool = self._pool()
            try:
                future = pool.submit(run_job, seconds, fn, *args)
            except (BrokenProcessPool, RuntimeError):
                self._drop(pool)
                raise WorkerDied("crash", None) from None
            procs = _processes(pool)
            try:
                return future.result(timeout=seconds * WALL_FACTOR)
            except concurrent.futures.TimeoutError:
                _kill(procs, [])
                self._drop(pool)
                raise WorkerDied("time", None) from None
            except BrokenProcessPool:
                self._drop(pool)
                exitcode = _exit_status(procs)
                raise WorkerDied(_reason(exitcode, False), exitcode) from None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=limit_process,
                initargs=(self.nice, self.limits.memory_bytes),
            )
        return self._executor

    def _drop(self, broken: ProcessPoolExecutor) -> None:
        """Forget the pool that broke (only that one: a replacement may already run)."""
        if self._executor is broken:
            self._executor = None
            broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> ProcessPoolExecutor | None:
        executor, self._executor = self._executor, None
        return executor


def _processes(pool: ProcessPoolExecutor) -> list[Any]:
    """The pool's process (a one-process pool starts it on the first submit). ``_processes``
    is the executor's private table; it is the only way to kill a process that hangs."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _exit_status(procs: list[Any], wait: float = 5.0) -> int | None:
    """How the pool's dead process ended (a negative signal number), waiting up to ``wait``
    seconds for it to be known. Why wait: the executor's own thread reaps the dead process
    (``join``), and a ``waitpid`` of ours racing it gets ECHILD, which multiprocessing reports
    as "no exit code yet": a process killed at its time limit would read as a crash."""
    if not procs:
        return None
    deadline = time.monotonic() + wait
    while (code := procs[0].exitcode) is None and time.monotonic() < deadline:
        time.sleep(0.005)
    return code


def _kill(procs: list[Any], killed: list[bool]) -> None:
    """The watchdog: a job past its time limit loses its process."""
    killed.append(True)
    for proc in procs:
        try:
            proc.kill()
        except (OSError, ValueError):
            pass


class WorkerProcesses:
    """``workers`` slots for any job, plus one kept for readers (urgent renders and
    stampings), so a reader never waits behind a document being pre-rendered."""

    def __init__(self, workers: int, nice: int = NICE, limits: ProcessLimits | None = None) -> None:
        self.workers = workers
        self.limits = limits or ProcessLimits()
        self.slots = [Slot(nice, self.limits) for _ in range(workers + 1)]

    def idle(self, urgent: bool) -> Slot | None:
        """A free slot: one of the general slots, or for an urgent job the readers' slot."""
        general, readers = self.slots[:-1], self.slots[-1]
        for slot in general:
            if not slot.busy:
                return slot
        return readers if urgent and not readers.busy else None

    def busy(self) -> int:
        return sum(slot.busy for slot in self.slots)

    async def shutdown(self) -> None:
        """Let jobs in workers finish, drop queued ones, stop the workers."""
        executors = [ex for ex in (slot.shutdown() for slot in self.slots) if ex is not None]
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


class Opener:
    """Opens uploaded PDFs in a limited worker process (used from the thread that validates
    an upload): PDFium never parses an untrusted file in the server process."""

    def __init__(self, limits: ProcessLimits | None = None, nice: int = NICE) -> None:
        self.limits = limits or ProcessLimits()
        self._slot = Slot(nice, self.limits)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._slot.run_sync(fn, *args, seconds=self.limits.open_seconds)

    def close(self) -> None:
        executor = self._slot.shutdown()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
