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
from dataclasses import dataclass
from typing import Callable

import orjson

from .core import commands as c
from .core import events as e
from .core.agenda import Agenda
from .core.chain import GENESIS, canonical, make_entry
from .core.meeting import KeyRecord, Meeting
from .store.base import Batch, EventStore, Participation, UrnEntry
from .writer import GroupWriter

log = logging.getLogger("hemicycle.sitting")

Listener = Callable[[int, e.Event, object], None]  # (seq, event, origin connection or None)


class Unavailable(Exception):
    """The command could not be made durable; nothing of it was recorded."""


@dataclass(frozen=True)
class Outcome:
    events: list[tuple[int | None, e.Event]]
    key: KeyRecord | None = None  # for casts: what the idempotency key now stands for


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
    def __init__(self, store: EventStore, meeting: Meeting, hashes: list[str],
                 history: list[tuple[int, e.Event]], clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.meeting = meeting
        self.clock = clock
        self.history = history  # every durable logged event, for resuming clients
        self.hashes = hashes  # their entry hashes: hashes[seq - 1]
        self._last_hash = hashes[-1] if hashes else GENESIS
        self._listeners: list[Listener] = []
        self._inflight: dict[int, asyncio.Future[None]] = {}
        self.writer = GroupWriter(store, self._committed, self._failed)
        self._timer: asyncio.TimerHandle | None = None
        self._stale = False  # a commit failed and the state could not yet be rebuilt from the store

    # -- lifecycle ------------------------------------------------------------------
    @classmethod
    async def start(cls, store: EventStore, agenda: Agenda, clock: Callable[[], float] = time.time) -> "Sitting":
        """Resume the sitting stored in ``store``, or open a new one on ``agenda``."""
        meeting, hashes, history = await asyncio.to_thread(replay, store)
        fresh = meeting is None
        if fresh:
            meeting = Meeting(agenda)
        sitting = cls(store, meeting, hashes, history, clock)
        sitting.writer.start()
        if fresh:
            opening = Meeting.opening_events(agenda, clock())
            numbered = sitting._apply_and_queue(opening, None)
            await sitting.durable(numbered[-1][0])
        sitting._arm_deadline()
        return sitting

    async def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
        await self.writer.stop()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- commands -------------------------------------------------------------------
    async def execute(self, command: c.Command, origin: object = None) -> Outcome:
        """Decide, apply and persist one command; returns once it is durable."""
        return await self.submit(command, origin)

    def submit(self, command: c.Command, origin: object = None) -> asyncio.Future[Outcome]:
        """Decide and apply at once; the returned future completes when the events are durable.

        Synchronous up to the hand-over to the writer, so commands are decided in arrival
        order and callers need no task of their own. Raises CommandError when refused.
        ``origin`` (the caller's connection) is passed to listeners so the sender is not
        sent, as an event, what its own acknowledgement already tells it.
        """
        if self._stale:
            try:
                self._rebuild()
            except Exception as exc:
                raise Unavailable("the vote store cannot be read; nothing was recorded") from exc
        loop = asyncio.get_running_loop()
        if isinstance(command, c.Cast):
            known = self.meeting.keys.get((command.member, command.key))
            if known is not None:  # a resend: same acknowledgement, counted once
                return self._when_durable(known.seq, Outcome([], known))
            if self.meeting.ballots.get(command.ballot) and self.meeting.ballots[command.ballot].spec.secret:
                command = c.Cast(command.member, command.ballot, command.choice, command.key,
                                 secrets.token_hex(16))
        events = self.meeting.decide(command, round(self.clock(), 3))
        numbered = self._apply_and_queue(events, origin)
        key = self.meeting.keys[(command.member, command.key)] if isinstance(command, c.Cast) else None
        outcome = Outcome(numbered, key)
        seqs = [s for s, _ in numbered if s is not None]
        if not seqs:
            done: asyncio.Future[Outcome] = loop.create_future()
            done.set_result(outcome)
            return done
        return self._when_durable(seqs[-1], outcome)

    def _when_durable(self, seq: int, outcome: Outcome) -> asyncio.Future[Outcome]:
        result: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        commit = self._inflight.get(seq)
        if commit is None:
            result.set_result(outcome)
            return result

        def finish(f: asyncio.Future) -> None:
            if result.done():
                return
            if f.cancelled() or f.exception() is not None:
                result.set_exception(Unavailable("the vote store did not confirm the write; nothing was recorded"))
            else:
                result.set_result(outcome)

        commit.add_done_callback(finish)
        return result

    async def durable(self, seq: int) -> None:
        fut = self._inflight.get(seq)
        if fut is not None:
            await asyncio.shield(fut)

    def _apply_and_queue(self, events: list[e.Event], origin: object) -> list[tuple[int | None, e.Event]]:
        numbered: list[tuple[int | None, e.Event]] = []
        if not events:
            return numbered
        batch = Batch()
        for event in events:
            if isinstance(event, e.SecretChoice):
                batch.urn_puts.append(UrnEntry(event.entry, event.ballot, event.run, canonical(event.choice)))
                self.meeting.apply(event)
                numbered.append((None, event))
                continue
            if isinstance(event, e.SecretChoiceWithdrawn):
                batch.drop(event.entry)
                self.meeting.apply(event)
                numbered.append((None, event))
                continue
            seq = self.meeting.seq + 1
            entry = make_entry(self._last_hash, seq, event.NAME, e.to_data(event))
            self._last_hash = entry.hash
            batch.entries.append(entry)
            if isinstance(event, e.VoteCast) and event.first:
                batch.participations.append(Participation(event.ballot, event.run, event.member, seq))
            self.meeting.apply(event, seq)
            numbered.append((seq, event))
            batch.published.append((seq, event, origin))
        if not batch:
            return numbered
        fut = self.writer.submit(batch)
        seqs = [s for s, _ in numbered if s is not None]
        for s in seqs:
            self._inflight[s] = fut

        def forget(_: asyncio.Future) -> None:
            for s in seqs:
                if self._inflight.get(s) is fut:
                    del self._inflight[s]

        fut.add_done_callback(forget)
        return numbered

    # -- writer callbacks -------------------------------------------------------------
    def _committed(self, batches: list[Batch]) -> None:
        for batch in batches:
            self.hashes.extend(entry.hash for entry in batch.entries)
            for entry_seq, event, origin in batch.published:
                self.history.append((entry_seq, event))
                for listener in self._listeners:
                    listener(entry_seq, event, origin)
                if isinstance(event, e.BallotClosed):
                    self.writer.call(self.store.seal_ballot, event.ballot, event.run)
                if isinstance(event, (e.BallotOpened, e.BallotHeld, e.BallotResumed, e.BallotClosed, e.BallotVoided)):
                    self._arm_deadline()

    def _failed(self, exc: Exception) -> None:
        """A commit failed: the in-memory state ran ahead of the disk; rebuild it from the disk."""
        self._inflight.clear()
        self._stale = True
        try:
            self._rebuild()
        except Exception:  # the store cannot even be read: the next command tries again
            log.exception("rebuilding the sitting from the store failed")

    def _rebuild(self) -> None:
        meeting, hashes, history = replay(self.store)
        if meeting is not None:
            self.meeting, self.hashes, self.history = meeting, hashes, history
            self._last_hash = hashes[-1] if hashes else GENESIS
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
