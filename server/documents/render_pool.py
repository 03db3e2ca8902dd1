"""Page images are rendered before anyone asks, in low-priority worker processes.

Why: rendering a page (PDFium + lossless WebP) costs ~0.25 CPU-s; serving a cached one
~0.3 ms. If the first fetches render, 200 tablets opening a fresh 100-page document wait on
the renderer, and cache hits queue behind renders on the same thread pool. So:

* **Pre-render at upload.** When a document joins the sitting (``document.added``: upload,
  ``hemicycle docs add``, agenda files; and at start for documents already in the record),
  every page is queued at the pre-render widths (the default width first, page order), held
  documents included: the clerk typically releases them later, and then pages are ready.
* **A separate, bounded pool.** Renders run in worker processes (``spawn``), never on the
  default thread pool that serves cached pages, and never holding the server's GIL.
* **Low priority.** Workers ``os.nice`` themselves: when the server (votes, WebSocket
  fan-out, serving cached pages) wants the CPU it gets it; rendering uses what is left.
* **Paused while a ballot is open.** Speculative work waits until the ballot is held,
  closed or voided; pages a reader actually asks for are still rendered (ahead of the
  queue). A vote burst lasts seconds; a page ready a minute later costs nothing.
* **Render once.** One job per (blob, page, width): a fetch of a page queued or being
  rendered waits for that job (moved to the front) instead of rendering it again.
* **Errors are reported, not retried for ever.** A page that fails is remembered with its
  reason (``status()``, ``GET /api/documents/{id}/render``, the log); later fetches answer
  ``render_failed`` at once.
* **Hard limits; a file that breaks them is given up.** Each worker runs one job at a time
  under a memory limit and a watchdog (server/documents/worker_processes.py). A page that
  kills its worker is the culprit (no other job was in that process): it is not tried again,
  and its whole file is marked failed (every queued page of it dropped, later fetches answer
  at once), so one hostile file costs one worker one page, not the machine.
* **Nobody starves.** The pre-render queue takes the documents in turn (a page of each), so
  a new document is not stuck behind a long one; readers (urgent pages, stampings) have a
  worker of their own besides, so they never wait behind pre-rendering.
* **Recall cancels.** Queued pages of a recalled document are dropped (unless another,
  unrecalled document shares the blob); a page already in a worker finishes.
* **Confidential pages are stamped here too.** Stamping a page for one reader (decode the
  clean page, watermark, encode) costs ~0.15-0.3 CPU-s, mostly holding the GIL, on every
  fetch (never cached). In the server process it would compete with the WebSocket server
  during a sitting, so it is a worker job: urgent (a reader waits), never paused by a ballot,
  never deduplicated or cached; the server only reads back the encoded bytes.

Everything here runs on the event loop (no locks): jobs are plain records, dispatched from
callbacks as workers free up. The processes themselves: server/documents/worker_processes.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core import events as e
from . import DocumentError, PageImage, Reader, Renderer, StampOutcome, WatermarkSpec, etag_for, stamp_page
from .render import RenderOutcome, render_into_cache
from .worker_processes import NICE, MiB, ProcessLimits, WorkerDied, WorkerProcesses, default_workers

log = logging.getLogger(__name__)
Key = tuple[str, int, int]  # (blob sha256, page from 0, width)


@dataclass
class _Job:
    key: Key
    docs: set[str]
    future: asyncio.Future[None]
    urgent: bool = False  # a reader is waiting for it


@dataclass(eq=False)
class _Stamp:
    """One confidential page for one reader: always urgent, never shared with another fetch."""

    key: Key
    reader: Reader
    at: datetime
    future: asyncio.Future[PageImage]


@dataclass
class _Plan:
    sha256: str
    pages: int
    recalled: bool = False
    keys: list[Key] = field(default_factory=list)


class RenderPool:
    """Pre-renders and renders page images; see the module docstring for the policy."""

    def __init__(
        self,
        renderer: Renderer,
        *,
        workers: int | None = None,
        nice: int = NICE,
        prerender_widths: tuple[int, ...] | None = None,
        watermark: WatermarkSpec | None = None,
        render: Callable[..., RenderOutcome] = render_into_cache,
        stamp: Callable[..., StampOutcome] = stamp_page,
        limits: ProcessLimits | None = None,
    ) -> None:
        self.renderer = renderer
        self.workers = workers or default_workers()
        self.nice = nice
        self.widths = prerender_widths or (renderer.settings.default_width,)
        for w in self.widths:
            renderer.width(w)  # bad_width now, not at the first upload
        self._render = render
        #: how workers build their Watermarker (the server's own is built once at startup, so
        #: a missing font is reported before the sitting); the secret is in it, never logged
        self.watermark = watermark
        self._stamp = stamp
        self._procs = WorkerProcesses(self.workers, nice, limits)
        self.limits = self._procs.limits
        self._jobs: dict[Key, _Job] = {}
        self._queue: OrderedDict[str, deque[Key]] = OrderedDict()  # pre-render: per blob, blobs in turn
        self._urgent: deque[Key] = deque()  # readers waiting
        self._running: set[Key] = set()
        self._stamps: deque[_Stamp] = deque()  # readers waiting for a stamped page
        self._stamping: set[_Stamp] = set()  # in a worker now
        self._failed: dict[Key, tuple[str, str]] = {}
        self._given_up: dict[str, tuple[str, str]] = {}  # blob -> why (a page of it killed a worker)
        self._plans: dict[str, _Plan] = {}
        self._paused = False
        self._closed = False
        self._idle: asyncio.Event | None = None
        self.renders = 0  # pages actually rendered by workers (the cache was empty)
        self.stamps = 0  # confidential pages stamped for a reader by workers

    # -- what the sitting tells us ----------------------------------------------------------
    #: what to subscribe ``on_event`` to: documents coming and going, ballots opening and closing
    KINDS = (
        e.DocumentAdded,
        e.DocumentRecalled,
        e.BallotOpened,
        e.BallotResumed,
        e.BallotHeld,
        e.BallotClosed,
        e.BallotVoided,
    )

    def on_event(self, seq: int, event: e.Event, origin: object = None) -> None:
        """Sitting listener: documents added/recalled, ballots opened/closed. Never raises
        (it runs in the commit path)."""
        try:
            if isinstance(event, e.DocumentAdded):
                info = event.info
                self.prerender(info["id"], info["sha256"], int(info["page_count"]))
            elif isinstance(event, e.DocumentRecalled):
                self.forget(event.document)
            elif isinstance(event, (e.BallotOpened, e.BallotResumed)):
                self.pause()
            elif isinstance(event, (e.BallotHeld, e.BallotClosed, e.BallotVoided)):
                self.resume()
        except Exception:
            log.exception("page pre-rendering could not follow %s", type(event).__name__)

    def prerender(self, doc_id: str, sha256: str, pages: int) -> None:
        """Queue every page of a document at the pre-render widths (default width first)."""
        if self._closed or doc_id in self._plans:
            return
        plan = self._plans[doc_id] = _Plan(sha256, pages)
        for width in self.widths:
            for page in range(pages):
                key = (sha256, page, width)
                plan.keys.append(key)
                if key in self._failed or sha256 in self._given_up:
                    continue
                job = self._jobs.get(key)
                if job is None:
                    job = self._jobs[key] = _Job(key, set(), self._loop().create_future())
                    self._queue.setdefault(sha256, deque()).append(key)
                job.docs.add(doc_id)
        self._pump()

    def forget(self, doc_id: str) -> None:
        """A recalled document: drop its queued pages that no other document needs."""
        plan = self._plans.setdefault(doc_id, _Plan("", 0))
        plan.recalled = True
        dropped = 0
        for key in plan.keys:
            job = self._jobs.get(key)
            if job is None or key in self._running:
                continue
            job.docs.discard(doc_id)
            if not job.docs and not job.urgent:
                del self._jobs[key]
                job.future.cancel()
                dropped += 1
        if dropped:
            log.info("document %s recalled: %d queued page renderings dropped", doc_id, dropped)
        self._settle()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._pump()

    # -- what readers ask for -----------------------------------------------------------------
    async def page(self, doc_id: str, sha256: str, page: int, width: int) -> PageImage:
        """A clean page image: from the cache, or rendered (once) ahead of the queue."""
        path = self.renderer.cache_path(sha256, page, width)
        data = await asyncio.to_thread(_read_or_none, path)
        if data is None:
            await self.ensure(doc_id, sha256, page, width)
            data = await asyncio.to_thread(path.read_bytes)
        return PageImage(data=data, etag=etag_for(sha256, page, width))

    async def ensure(self, doc_id: str, sha256: str, page: int, width: int) -> None:
        """Return once the page is in the cache; raise DocumentError if it cannot be."""
        key = (sha256, page, width)
        if key in self._failed:
            raise DocumentError(*self._failed[key])
        if self.renderer.cache_path(*key).is_file():
            return
        if sha256 in self._given_up:
            raise DocumentError(*self._given_up[sha256])
        job = self._jobs.get(key)
        if job is None:
            job = self._jobs[key] = _Job(key, set(), self._loop().create_future())
        job.docs.add(doc_id)
        if not job.urgent:
            job.urgent = True
            self._urgent.append(key)
        self._pump()
        await asyncio.shield(job.future)  # one reader giving up does not cancel it for others

    async def stamped_page(
        self, doc_id: str, sha256: str, page: int, width: int, reader: Reader, at: datetime
    ) -> PageImage:
        """A confidential page stamped for ``reader``, by a worker: the clean page is rendered
        first if need be (once, as for :meth:`ensure`), then a stamping job goes ahead of
        pre-rendering, even while a ballot is open. Raises DocumentError on failure."""
        if self.watermark is None:
            raise RuntimeError("RenderPool needs watermark= to stamp confidential pages")
        await self.ensure(doc_id, sha256, page, width)
        job = _Stamp((sha256, page, width), reader, at, self._loop().create_future())
        self._stamps.append(job)
        self._pump()
        return await job.future  # a reader giving up cancels it; a queued one is then skipped

    # -- what the clerk (and tests) see -------------------------------------------------------
    def status(self, doc_id: str) -> dict[str, Any]:
        """Per document: pages ready, waiting, failed (with reasons), at the pre-render widths."""
        plan = self._plans.get(doc_id)
        if plan is None:
            return {"document": doc_id, "state": "unknown", "widths": list(self.widths)}
        ready = pending = 0
        failed = []
        given_up = self._given_up.get(plan.sha256)
        for key in plan.keys:
            if key in self._failed:
                code, message = self._failed[key]
                failed.append({"page": key[1] + 1, "width": key[2], "error": code, "message": message})
            elif self.renderer.cache_path(*key).is_file():
                ready += 1
            elif key in self._jobs:
                pending += 1
        state = (
            "recalled"
            if plan.recalled
            else "rendering"
            if pending and not self._paused
            else "paused"
            if pending
            else "failed"
            if failed
            else "ready"
        )
        out = {
            "document": doc_id,
            "state": "failed" if given_up and not plan.recalled else state,
            "widths": list(self.widths),
            "pages": plan.pages,
            "ready": ready,
            "pending": pending,
            "failed": failed,
            "paused": self._paused,
        }
        if given_up and not plan.recalled:  # the clerk's one-line reason: the file is given up
            out["error"] = {"code": given_up[0], "message": given_up[1]}
        return out

    async def idle(self) -> None:
        """Wait until nothing is queued or rendering (pre-rendering done, or paused empty)."""
        while not self._quiet():
            self._idle = self._idle or asyncio.Event()
            await self._idle.wait()

    async def close(self) -> None:
        """Stop: drop the queue, let pages in workers finish, stop the workers."""
        self._closed = True
        waiting: list[_Job | _Stamp] = [*self._jobs.values(), *self._stamps, *self._stamping]
        for job in waiting:
            job.future.cancel()
        self._jobs.clear()
        self._queue.clear()
        self._urgent.clear()
        self._stamps.clear()
        self._stamping.clear()
        await self._procs.shutdown()

    # -- dispatch -------------------------------------------------------------------------------
    def _loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def _next(self, urgent_only: bool) -> _Job | _Stamp | None:
        """Readers first (pages to render, then pages to stamp), then the pre-render queue,
        one page of each document in turn."""
        while self._urgent:
            job = self._jobs.get(self._urgent.popleft())
            if job is not None and job.key not in self._running and not job.future.done():
                return job
        while self._stamps:
            stamp = self._stamps.popleft()
            if not stamp.future.done():  # done: the reader went away
                return stamp
        while self._queue and not self._paused and not urgent_only:
            sha, keys = self._queue.popitem(last=False)
            key = keys.popleft()
            if keys:
                self._queue[sha] = keys  # to the back: the next document's turn
            job = self._jobs.get(key)
            if job is not None and job.key not in self._running and not job.future.done():
                return job
        return None

    def _pump(self) -> None:
        """Hand jobs to free workers, in the order of :meth:`_next`; the readers' worker takes
        only urgent jobs."""
        root, settings = str(self.renderer.store.root), self.renderer.settings
        seconds = self.limits.page_seconds
        while not self._closed:
            slot = self._procs.idle(urgent=False)
            urgent_only = slot is None
            slot = slot or self._procs.idle(urgent=True)
            if slot is None:
                break
            job = self._next(urgent_only)
            if job is None:
                break
            if isinstance(job, _Stamp):
                self._stamping.add(job)
                fut = slot.submit(
                    self._stamp, root, *job.key, settings, self.watermark, job.reader, job.at, seconds=seconds
                )
                fut.add_done_callback(functools.partial(self._stamped, job))
                continue
            if self.renderer.cache_path(*job.key).is_file():  # one stat; e.g. the same blob again
                self._done(job)
                continue
            self._running.add(job.key)
            fut = slot.submit(self._render, root, *job.key, settings, seconds=seconds)
            fut.add_done_callback(functools.partial(self._finished, job))
        self._settle()

    def _stamped(self, job: _Stamp, fut: asyncio.Future[StampOutcome]) -> None:
        """A stamping finished: hand the image (or the reason) to the reader waiting for it."""
        self._stamping.discard(job)
        if self._closed:
            return
        if fut.cancelled():  # never started: its worker was stopped
            self._stamps.appendleft(job)
        elif not job.future.done():
            exc = fut.exception()
            if isinstance(exc, WorkerDied):
                outcome = StampOutcome(None, self._died_code(exc), self._died_message(job.key[1], exc, "watermarked"))
            elif exc is not None:
                outcome = StampOutcome(
                    None, "render_failed", f"page {job.key[1] + 1} could not be watermarked: {exc!r}"
                )
            else:
                outcome = fut.result()
            if outcome.image is not None:
                self.stamps += 1
                job.future.set_result(outcome.image)
            else:  # reported to this reader only: the next fetch may well succeed
                log.warning(
                    "stamping page %d of blob %s: %s: %s",
                    job.key[1] + 1,
                    job.key[0][:12],
                    outcome.code,
                    outcome.message,
                )
                job.future.set_exception(DocumentError(outcome.code, outcome.message))
        self._pump()

    def _finished(self, job: _Job, fut: asyncio.Future[RenderOutcome]) -> None:
        self._running.discard(job.key)
        if self._closed:
            return
        if fut.cancelled():  # never started: its worker was stopped
            self._requeue(job)
            self._pump()
            return
        exc = fut.exception()
        if exc is None:
            outcome = fut.result()
            if outcome.code:
                self._fail(job, outcome.code, outcome.message)
            else:
                self.renders += outcome.rendered
                self._done(job)
        elif isinstance(exc, WorkerDied):  # this page killed its worker: give up the file
            self._give_up(job, self._died_code(exc), self._died_message(job.key[1], exc, "rendered"))
        else:
            self._fail(job, "render_failed", f"page {job.key[1] + 1} could not be rendered: {exc!r}")
        self._pump()

    def _died_message(self, page: int, died: WorkerDied, done: str) -> str:
        limits = self.limits
        if died.reason == "time":
            what = f"page {page + 1} needs more than {limits.page_seconds:g} s of processor time to be {done}"
        elif died.reason == "memory":
            what = f"page {page + 1} needs more than {limits.memory_bytes // MiB} MiB of memory to be {done}"
        else:
            code = "" if died.exitcode is None else f" (exit code {died.exitcode})"
            what = f"page {page + 1} crashed the PDF engine{code} while being {done}"
        return what + "; the file may be damaged or built to exhaust the server"

    @staticmethod
    def _died_code(died: WorkerDied) -> str:
        return "render_failed" if died.reason == "crash" else "too_complex"

    def _give_up(self, job: _Job, code: str, message: str) -> None:
        """A page killed its worker: it fails, and so does every page of its file not yet
        rendered (at every width): the clerk must replace the file."""
        sha = job.key[0]
        reason = (code, message + "; no further page of this file is rendered")
        self._given_up[sha] = reason
        self._fail(job, code, message)
        self._queue.pop(sha, None)
        for key, other in list(self._jobs.items()):
            if key[0] == sha and key not in self._running:
                self._fail(other, *reason)

    def _requeue(self, job: _Job) -> None:
        if job.urgent:
            self._urgent.appendleft(job.key)
        else:
            self._queue.setdefault(job.key[0], deque()).appendleft(job.key)
            self._queue.move_to_end(job.key[0], last=False)

    def _done(self, job: _Job) -> None:
        self._jobs.pop(job.key, None)
        if not job.future.done():
            job.future.set_result(None)

    def _fail(self, job: _Job, code: str, message: str) -> None:
        self._failed[job.key] = (code, message)
        log.warning("page %d (width %d) of blob %s: %s: %s", job.key[1] + 1, job.key[2], job.key[0][:12], code, message)
        self._jobs.pop(job.key, None)
        if not job.future.done():
            job.future.set_exception(DocumentError(code, message))
            job.future.exception()  # retrieved: nobody may be waiting (a pre-rendered page)

    def _quiet(self) -> bool:
        """Nothing more will happen until something new arrives (or a ballot closes)."""
        if self._closed:
            return True
        if self._stamps or self._stamping:
            return False
        return not self._jobs or (self._paused and not self._running and not any(j.urgent for j in self._jobs.values()))

    def _settle(self) -> None:
        if self._idle is not None and self._quiet():
            self._idle.set()
            self._idle = None


def _read_or_none(path: Path) -> bytes | None:
    """The cached page, or None if there is none (a directory in its place is none too)."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
