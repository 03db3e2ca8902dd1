"""Fan-out of events to connected clients without head-of-line blocking.

Every connection has its own bounded send queue and its own sender task, so a slow
screen delays nobody else; a connection whose queue overflows — in messages or in bytes,
its own or all connections' together (:class:`Budget`) — is closed with code 4008 and
resumes from its last sequence number when it reconnects. Bytes matter: a client that sends
pings with 60 KB ids and never reads would otherwise make the server hold 2,000 pongs of
60 KB each, per connection. Live progress is not
queued but coalesced: a ticker writes the newest progress into each subscriber's single
slot, so a burst of 3,000 votes costs a screen a handful of messages, not 3,000.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

from ..core import events as e
from ..core.views import attendance_summary, progress, visible_event
from ..live.sitting import Sitting
from . import eager
from .protocol import encode

log = logging.getLogger("hemicycle.hub")

LAGGING = 4008
QUEUE_LIMIT = 2000  # messages queued for one connection
QUEUE_BYTES = 1 << 20  # bytes queued for one connection (a 3,000-seat welcome goes out directly)
TOTAL_QUEUE_BYTES = 256 << 20  # bytes queued for all connections together
_MEMBER_SCOPED = (e.VoteCast, *e.DOCUMENT_EVENTS)  # events whose visibility depends on the member
PROGRESS_INTERVAL = 0.1  # clerk and displays: at most ten progress updates a second
SEAT_SUMMARY_INTERVAL = 1.0  # tablets: the attendance summary at most once a second


class Budget:
    """What connections may make the server hold for them: per connection and in all.

    Sizes are ``sys.getsizeof`` of the queued text: the memory the queue really holds (a
    Chinese message takes two bytes a character, not its UTF-8 length)."""

    def __init__(
        self, messages: int = QUEUE_LIMIT, per_connection: int = QUEUE_BYTES, total: int = TOTAL_QUEUE_BYTES
    ) -> None:
        self.messages = messages
        self.per_connection = per_connection
        self.total = total
        self.used = 0  # bytes queued now, all connections together


class Subscriber:
    """One connection's outbox: messages in order, coalesced slots, and a pump for laggards.

    A message pushed while nothing is queued is written at once, in the caller's turn of
    the loop: ``send`` (the ASGI send) completes without suspending unless the transport
    asks the writer to wait, so the 3,000 acks of a group commit leave in one sweep
    instead of waking 3,000 sender tasks. Only when the transport does push back is the
    send finished by this connection's own task, and everything after it queues behind
    it; a slow client still delays nobody else.
    """

    def __init__(
        self,
        role: str,
        members: frozenset[str],
        send: Callable[[str], Coroutine[Any, Any, None]],
        close: Callable[[int, str], Coroutine[Any, Any, None]],
        budget: Budget | None = None,
        device: str | None = None,
    ) -> None:
        self.role = role
        self.members = members
        self.device = device  # the paired device whose token opened this connection, if any
        self._send = send
        self._close = close
        self._budget = budget or Budget()
        self._queue: list[str] = []
        self.queued_bytes = 0  # held for this connection: queued texts and a send the transport paused
        self._slots: dict[str, str] = {}  # coalesced messages: kind -> newest text
        self._stalled: eager.Suspended | None = None  # a send the transport paused
        self._stalled_size = 0
        self._pumping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closed = False
        self.closing: asyncio.Task[None] | None = None  # the 4008 close, which the endpoint awaits
        self.last_seen = asyncio.get_running_loop().time()  # the endpoint updates it on every message

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def push(self, text: str) -> None:
        if self.closed:
            return
        if self._queue or self._pumping or self._stalled is not None:
            size = sys.getsizeof(text)
            budget = self._budget
            if (
                len(self._queue) >= budget.messages
                or self.queued_bytes + size > budget.per_connection
                or budget.used + size > budget.total
            ):
                self._overflow()
                return
            self._queue.append(text)
            self._hold(size)
            self._wake.set()
            return
        try:
            stalled = eager.start(self._send(text))
        except Exception:  # the socket went away: the endpoint cleans up
            self.closed = True
            return
        if stalled is not None:  # the transport's buffer is full: the pump finishes the send
            self._stalled = stalled
            self._stalled_size = sys.getsizeof(text)
            self._hold(self._stalled_size)
            self._wake.set()

    def _hold(self, size: int) -> None:
        self.queued_bytes += size
        self._budget.used += size

    def _release(self, size: int) -> None:
        size = min(size, self.queued_bytes)  # after an overflow nothing is held any more
        self.queued_bytes -= size
        self._budget.used -= size

    def _overflow(self) -> None:
        """Too much queued: drop it all now — the queue, the paused send, the pump's batch —
        so the memory is freed at once, not when (if ever) the peer reads; then close with
        4008 (the client resumes from its last sequence number). Dropping a paused send
        loses nothing half-written: uvicorn writes a frame whole once the transport is
        writable, and it is not."""
        self.stop()
        self.closing = asyncio.get_running_loop().create_task(self._close(LAGGING, "lagging: reconnect and resume"))

    def revoke(self) -> None:
        """The device's token was revoked: drop what is queued and close (4001, as for a bad
        token: the page then asks to be paired again)."""
        self.stop()
        self.closing = asyncio.get_running_loop().create_task(self._close(4001, "this device was revoked"))

    def offer(self, kind: str, text: str) -> None:
        """Replace the pending coalesced message of this kind (latest wins)."""
        if not self.closed:
            self._slots[kind] = text
            self._wake.set()

    async def _pump(self) -> None:
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                self._pumping = True
                try:
                    if self._stalled is not None:
                        await eager.finish(self._stalled)
                        self._stalled = None
                        self._release(self._stalled_size)
                    while self._queue or self._slots:
                        if self._queue:
                            batch, self._queue = self._queue, []
                            for text in batch:
                                await self._send(text)
                                self._release(sys.getsizeof(text))
                        else:
                            batch, self._slots = list(self._slots.values()), {}
                            for text in batch:
                                await self._send(text)
                finally:
                    self._pumping = False
        except Exception:  # the socket went away: the endpoint cleans up
            self.closed = True

    def stop(self) -> None:
        self.closed = True
        if self._task:
            self._task.cancel()
        if self._stalled is not None:
            self._stalled.close()
            self._stalled = None
        self._queue.clear()
        self._slots.clear()
        self._release(self.queued_bytes)

    async def close_idle(self) -> None:
        try:
            await self._close(4000, "idle")
        except Exception:
            pass


class Hub:
    def __init__(self, sitting: Sitting, idle_timeout: float = 60.0, budget: Budget | None = None) -> None:
        self.sitting = sitting
        self.idle_timeout = idle_timeout
        self.budget = budget or Budget()  # shared by every connection's outbox
        self.subscribers: set[Subscriber] = set()
        self._by_member: dict[str, set[Subscriber]] = defaultdict(set)
        self._by_role: dict[str, set[Subscriber]] = defaultdict(set)
        self._progress_dirty = False
        self._summary_dirty = False
        self._ticker: asyncio.Task | None = None

    def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        for sub in list(self.subscribers):
            sub.stop()

    def add(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)
        self._by_role[sub.role].add(sub)
        for member in sub.members:
            self._by_member[member].add(sub)
        sub.start()

    def remove(self, sub: Subscriber) -> None:
        sub.stop()
        self.subscribers.discard(sub)
        self._by_role[sub.role].discard(sub)
        for member in sub.members:
            self._by_member[member].discard(sub)

    def close_device(self, device: str) -> None:
        """Close every connection opened with a paired device's token (it was revoked)."""
        for sub in list(self.subscribers):
            if sub.device == device and not sub.closed:
                sub.revoke()

    def _targets(self, event: e.Event) -> Any:
        """Who can possibly see this event; visible_event makes the final cut."""
        if isinstance(event, e.VoteCast):  # the member's other devices; the clerk sees it in progress
            return self._by_member.get(event.member, ())
        if isinstance(event, e.AttendanceChanged):
            return {*self._by_role["clerk"], *self._by_role["display"], *self._by_member.get(event.member, ())}
        return self.subscribers

    def publish(self, seq: int, event: e.Event, origin: object = None) -> None:
        if type(event) is e.VoteCast:  # the common case by far: a burst's votes
            self._progress_dirty = True
            others = self._by_member.get(event.member)
            if others and (len(others) > 1 or origin not in others):
                self._publish(seq, event, origin)
            return
        self._publish(seq, event, origin)

    def _publish(self, seq: int, event: e.Event, origin: object) -> None:
        encoded: dict[tuple[str, frozenset[str]], str | None] = {}
        member_scoped = isinstance(event, _MEMBER_SCOPED)
        for sub in list(self._targets(event)):
            if sub is origin and isinstance(event, e.VoteCast):
                continue  # its ack says the same (and carries the seq)
            cache_key = (sub.role, sub.members if member_scoped else frozenset())
            if cache_key not in encoded:
                data = visible_event(event, sub.role, sub.members, self.sitting.meeting)
                encoded[cache_key] = None if data is None else encode({"type": "event", "seq": seq, "event": data})
            text = encoded[cache_key]
            if text is not None:
                sub.push(text)
        if isinstance(
            event,
            (
                e.VoteCast,
                e.BallotOpened,
                e.BallotClosed,
                e.BallotHeld,
                e.BallotResumed,
                e.BallotVoided,
                e.AttendanceChanged,
            ),
        ):
            self._progress_dirty = True
        if isinstance(event, e.AttendanceChanged):
            self._summary_dirty = True

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last_summary = last_idle_check = 0.0
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            try:
                if loop.time() - last_idle_check >= 1.0:
                    last_idle_check = loop.time()
                    self._close_idle(last_idle_check)
                if self._progress_dirty:
                    self._progress_dirty = False
                    self._send_progress()
                now = loop.time()
                if self._summary_dirty and now - last_summary >= SEAT_SUMMARY_INTERVAL:
                    self._summary_dirty = False
                    last_summary = now
                    text = encode({"type": "summary", **attendance_summary(self.sitting.meeting)})
                    for sub in (*self._by_role["seat"], *self._by_role["device"]):
                        sub.offer("summary", text)
            except Exception:
                log.exception("progress tick failed")

    def _close_idle(self, now: float) -> None:
        """A connection silent (not even a ping) for the idle timeout is gone: close it."""
        for sub in list(self.subscribers):
            if not sub.closed and now - sub.last_seen > self.idle_timeout:
                sub.closed = True
                asyncio.get_running_loop().create_task(sub.close_idle())

    def _send_progress(self) -> None:
        meeting = self.sitting.meeting
        run = meeting.open_run()
        if run is None:
            return
        public = progress(meeting, run)
        text = encode({"type": "progress", **public})
        for sub in self._by_role["display"]:
            sub.offer("progress", text)
        if self._by_role["clerk"]:
            clerk_text = encode({"type": "progress", **public, "voters": sorted(run.voters)})
            for sub in self._by_role["clerk"]:
                sub.offer("progress", clerk_text)
