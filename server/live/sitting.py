"""The live sitting: decide -> apply -> durable commit -> publish, in that order.

Commands are decided and applied synchronously on the event loop, so the state is a
strict sequence; their events are handed to the group writer, and only once committed
are they published to subscribers and acknowledged to the sender. A restart replays the
log (and the secret urn) into a fresh Meeting.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson

from ..core import commands as c
from ..core import events as e
from ..core.agenda import Agenda
from ..core.chain import GENESIS, canonical, make_entry
from ..core.meeting import KeyRecord, Meeting
from ..store.base import Batch, EventStore, Participation, UrnEntry
from .writer import GroupWriter

log = logging.getLogger("hemicycle.sitting")

Listener = Callable[[int, e.Event, object], None]  # (seq, event, origin connection or None)


class Unavailable(Exception):
    """The command could not be made durable; nothing of it was recorded."""


@dataclass(frozen=True, slots=True)
class Outcome:
    events: list[tuple[int | None, e.Event]]
    key: KeyRecord | None = None  # for casts: what the idempotency key now stands for


_LIFECYCLE = frozenset({e.BallotOpened, e.BallotHeld, e.BallotResumed, e.BallotClosed, e.BallotVoided})

Reply = Callable[[Outcome | None, BaseException | None], None]  # (outcome, None) or (None, Unavailable)


def replay(store: EventStore) -> tuple[Meeting | None, list[str], list[tuple[int, e.Event]]]:
    """Fold the stored log and urn into a Meeting; return it with the entry hashes and the events."""
    stored = store.load()
    if not stored.entries:
        return None, [], []
    history: list[tuple[int, e.Event]] = []
    hashes: list[str] = []
    meeting: Meeting | None = None
    for entry in stored.entries:
        event = e.from_data(orjson.loads(entry.body))
        if meeting is None:
            assert isinstance(event, e.SittingOpened), "the log must begin with sitting.opened"
            meeting = Meeting.from_opening(event)
        else:
            meeting.apply(event, entry.seq)
        history.append((entry.seq, event))
        hashes.append(entry.hash)
    assert meeting is not None
    for u in stored.urn:
        meeting.apply(e.SecretChoice(u.ballot, u.run, u.entry, orjson.loads(u.choice)))
    return meeting, hashes, history


class Sitting:
    def __init__(
        self,
        store: EventStore,
        meeting: Meeting,
        hashes: list[str],
        history: list[tuple[int, e.Event]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.meeting = meeting
        self.clock = clock
        self.history = history  # every durable logged event, for resuming clients
        self.hashes = hashes  # their entry hashes: hashes[seq - 1]
        self._last_hash = hashes[-1] if hashes else GENESIS
        self._listeners: list[tuple[Listener, tuple[type[e.Event], ...] | None]] = []
        self._routes: dict[type[e.Event], list[Listener]] = {}  # event type -> its listeners
        self._pending: deque[Batch] = deque()  # submitted to the writer, not yet committed
        self.durable_seq = meeting.seq  # the last committed log position
        self.writer = GroupWriter(store, self._committed, self._failed)
        self._timer: asyncio.TimerHandle | None = None
        self._stale = False  # a commit failed and the state could not yet be rebuilt from the store

    # -- lifecycle ------------------------------------------------------------------
    @classmethod
    async def start(cls, store: EventStore, agenda: Agenda, clock: Callable[[], float] = time.time) -> Sitting:
        """Resume the sitting stored in ``store``, or open a new one on ``agenda``."""
        meeting, hashes, history = await asyncio.to_thread(replay, store)
        fresh = meeting is None
        if fresh:
            meeting = Meeting(agenda)
        sitting = cls(store, meeting, hashes, history, clock)
        sitting.writer.start()
        if fresh:
            opening = Meeting.opening_events(agenda, clock())
            numbered, _ = sitting._apply_and_queue(opening, None)
            await sitting.durable(numbered[-1][0])  # type: ignore[arg-type]
        sitting._arm_deadline()
        return sitting

    async def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
        await self.writer.stop()

    def subscribe(self, listener: Listener, kinds: tuple[type[e.Event], ...] | None = None) -> None:
        """Call ``listener`` for every durable logged event, or only for events of ``kinds``.

        Naming the kinds keeps a listener that cares about ballots' lifecycle off the path
        of each of 3,000 votes.
        """
        self._listeners.append((listener, kinds))
        self._routes.clear()

    def _listeners_of(self, kind: type[e.Event]) -> list[Listener]:
        route = self._routes.get(kind)
        if route is None:
            route = self._routes[kind] = [
                listener for listener, kinds in self._listeners if kinds is None or issubclass(kind, kinds)
            ]
        return route

    # -- commands -------------------------------------------------------------------
    async def execute(self, command: c.Command, origin: object = None) -> Outcome:
        """Decide, apply and persist one command; returns once it is durable."""
        return await self.submit(command, origin)

    def submit(self, command: c.Command, origin: object = None) -> asyncio.Future[Outcome]:
        """Like ``request``, with a future that completes when the events are durable."""
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

        def reply(outcome: Outcome | None, exc: BaseException | None) -> None:
            if not fut.done():
                fut.set_exception(exc) if exc is not None else fut.set_result(outcome)  # type: ignore[arg-type]

        self.request(command, origin, reply)
        return fut

    def request(self, command: c.Command, origin: object, reply: Reply) -> None:
        """Decide and apply at once; ``reply(outcome, None)`` once the events are durable.

        Synchronous up to the hand-over to the writer, so commands are decided in arrival
        order and callers need no task of their own. Raises CommandError when refused (and
        then never replies); a failed commit replies ``(None, Unavailable)``. A command with
        nothing to write is answered before this returns. ``origin`` (the caller's
        connection) is passed to listeners so the sender is not sent, as an event, what its
        own acknowledgement already tells it.
        """
        if self._stale:
            try:
                self._rebuild()
            except Exception as exc:
                raise Unavailable("the vote store cannot be read; nothing was recorded") from exc
        meeting = self.meeting
        if type(command) is c.Cast:
            known = meeting.keys.get((command.member, command.key))
            if known is not None:  # a resend: same acknowledgement, counted once
                self._after(known.seq, reply, Outcome([], known))
                return
            run = meeting.ballots.get(command.ballot)
            if run is not None and run.spec.secret:
                command = c.Cast(command.member, command.ballot, command.choice, command.key, secrets.token_hex(16))
            events = meeting.decide(command, round(self.clock(), 3))
            numbered, batch = self._apply_and_queue(events, origin)
            outcome = Outcome(numbered, meeting.keys[(command.member, command.key)])
        else:
            events = meeting.decide(command, round(self.clock(), 3))
            numbered, batch = self._apply_and_queue(events, origin)
            outcome = Outcome(numbered)
        if batch is None:
            reply(outcome, None)
        else:
            batch.waiters.append((reply, outcome))

    def _after(self, seq: int, reply: Reply, outcome: Outcome) -> None:
        """Reply once entry ``seq`` is durable (at once if it already is)."""
        if seq > self.durable_seq:
            for batch in self._pending:
                if batch.entries and batch.entries[-1].seq >= seq:
                    batch.waiters.append((reply, outcome))
                    return
        reply(outcome, None)

    async def durable(self, seq: int) -> None:
        if seq <= self.durable_seq:
            return
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

        def reply(outcome: Outcome | None, exc: BaseException | None) -> None:
            if not fut.done():
                fut.set_exception(exc) if exc is not None else fut.set_result(outcome)  # type: ignore[arg-type]

        self._after(seq, reply, Outcome([]))
        await fut

    def _apply_and_queue(
        self, events: list[e.Event], origin: object
    ) -> tuple[list[tuple[int | None, e.Event]], Batch | None]:
        """Apply each event and add what it writes to the writer's open batch (returned)."""
        numbered: list[tuple[int | None, e.Event]] = []
        if not events:
            return numbered, None
        batch = self.writer.open_batch()
        if not self._pending or self._pending[-1] is not batch:
            self._pending.append(batch)
        meeting = self.meeting
        for event in events:
            kind = type(event)
            if kind is e.SecretChoice:
                batch.urn_puts.append(UrnEntry(event.entry, event.ballot, event.run, canonical(event.choice)))
                meeting.apply(event)
                numbered.append((None, event))
                continue
            if kind is e.SecretChoiceWithdrawn:
                batch.drop(event.entry)
                meeting.apply(event)
                numbered.append((None, event))
                continue
            seq = meeting.seq + 1
            entry = make_entry(self._last_hash, seq, event.NAME, e.to_data(event))
            self._last_hash = entry.hash
            batch.entries.append(entry)
            if kind is e.VoteCast and event.first:
                batch.participations.append(Participation(event.ballot, event.run, event.member, seq))
            meeting.apply(event, seq)
            numbered.append((seq, event))
            batch.published.append((seq, event, origin))
        return numbered, batch

    # -- writer callbacks -------------------------------------------------------------
    def _committed(self, batches: list[Batch]) -> None:
        """Publish what is now durable (in sequence order), then answer whoever waits on it."""
        try:
            for batch in batches:
                if self._pending and self._pending[0] is batch:
                    self._pending.popleft()
                if batch.entries:
                    self.durable_seq = batch.entries[-1].seq
                self.hashes.extend(entry.hash for entry in batch.entries)
                history = self.history
                for published in batch.published:
                    entry_seq, event, origin = published
                    history.append((entry_seq, event))
                    kind = type(event)
                    for listener in self._routes.get(kind) or self._listeners_of(kind):
                        listener(entry_seq, event, origin)
                    if kind in _LIFECYCLE:
                        if kind is e.BallotClosed:
                            self.writer.call(self.store.seal_ballot, event.ballot, event.run)
                        self._arm_deadline()
        finally:  # a listener's fault must not keep durable votes unacknowledged
            _answer(batches, None)

    def _failed(self, exc: Exception) -> None:
        """A commit failed: the in-memory state ran ahead of the disk; rebuild it from the disk.

        Every batch not yet committed fails with it: later ones were decided on that state.
        """
        failed, self._pending = self._pending, deque()
        self._stale = True
        try:
            self._rebuild()
        except Exception:  # the store cannot even be read: the next command tries again
            log.exception("rebuilding the sitting from the store failed")
        _answer(failed, Unavailable("the vote store did not confirm the write; nothing was recorded"))

    def _rebuild(self) -> None:
        meeting, hashes, history = replay(self.store)
        if meeting is not None:
            self.meeting, self.hashes, self.history = meeting, hashes, history
            self._last_hash = hashes[-1] if hashes else GENESIS
            self.durable_seq = meeting.seq
        self._stale = False

    # -- countdowns ---------------------------------------------------------------------
    def _arm_deadline(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None
        run = self.meeting.open_run()
        if run is None or run.deadline is None or run.status != "open":
            return
        delay = max(0.0, run.deadline - self.clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._deadline_reached, run.spec.id, run.run)

    def _deadline_reached(self, ballot: str, run_no: int) -> None:
        run = self.meeting.ballots.get(ballot)
        if run is None or run.run != run_no or run.status != "open":
            return
        asyncio.get_running_loop().create_task(self._close_at_deadline(ballot))

    async def _close_at_deadline(self, ballot: str) -> None:
        try:
            await self.execute(c.CloseBallot(ballot))
        except Exception:
            log.exception("closing %s at its deadline failed", ballot)


def _answer(batches: Iterable[Batch], error: Exception | None) -> None:
    """Reply to every command of ``batches``: its outcome, or ``error`` for all of them.
    One reply that raises (a closed connection's callback) must not stop the others."""
    for batch in batches:
        for reply, outcome in batch.waiters:
            try:
                reply(None, error) if error is not None else reply(outcome, None)
            except Exception:
                log.exception("answering a command failed")
