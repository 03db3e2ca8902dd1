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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from ..core import commands as c
from ..core import events as e
from ..core.agenda import Agenda
from ..core.ballot_state import LIFECYCLE
from ..core.chain import GENESIS, LogEntry
from ..core.decision import Receipt, Warning
from ..core.kinds import urn_block
from ..core.ledger import Ledger
from ..core.meeting import Meeting
from ..store.base import Batch, EventStore
from .fast_json import canonical_fast
from .writer import GroupWriter

log = logging.getLogger("hemicycle.sitting")

Listener = Callable[[int, e.Event, object], None]  # (seq, event, origin connection or None)


class Unavailable(Exception):
    """The command could not be made durable; nothing of it was recorded."""


class Outcome(NamedTuple):
    """A decided command, once durable: its logged events, and what the answer needs."""

    seq: int  # the log position the command reached: its last entry, its receipt's, or the head
    events: Sequence[tuple[int, e.Event]] = ()
    receipt: Receipt | None = None  # for a vote (or its resend): what its key stands for
    warnings: tuple[Warning, ...] = ()


Warm = tuple[Meeting | None, list[str], list[tuple[int, e.Event]]]  # what replay returns


class Began(NamedTuple):
    """How this process came to run the sitting, and when: ``opened`` (a new sitting),
    ``restart`` (the log replayed) or ``takeover`` (a standby's warm state). Not logged: it is
    a fact about the process, not the meeting. A restart or a takeover locks the secret votes
    already cast (``core.views.locked_votes``), which the clerk's welcome tells."""

    how: str
    at: float


Reply = Callable[[Outcome | None, BaseException | None], None]  # (outcome, None) or (None, Unavailable)


@dataclass(eq=False)
class _Commit:
    """A batch handed to the writer, with what to publish and whom to answer once it is durable."""

    batch: Batch
    published: list[tuple[int, e.Event, object]] = field(default_factory=list)
    waiters: list[tuple[Reply, Outcome]] = field(default_factory=list)


def replay(store: EventStore) -> tuple[Meeting | None, list[str], list[tuple[int, e.Event]]]:
    """Fold the stored log and urn into a Meeting; return it with the entry hashes and the events."""
    stored = store.load()
    if not stored.entries:
        return None, [], []
    history: list[tuple[int, e.Event]] = []
    hashes: list[str] = []
    meeting = fold(None, stored.entries, hashes, history)
    assert meeting is not None
    for u in stored.urn:
        meeting.apply(e.SecretChoice(u.ballot, u.run, u.entry, orjson.loads(u.choice)))
    return meeting, hashes, history


def fold(
    meeting: Meeting | None, entries: Iterable[LogEntry], hashes: list[str], history: list[tuple[int, e.Event]]
) -> Meeting | None:
    """Apply log entries (in order) to ``meeting`` (None: the first must open the sitting);
    append their hashes and events. Used by replay and by a standby following the log."""
    for entry in entries:
        event = e.from_data(orjson.loads(entry.body))
        if meeting is None:
            assert isinstance(event, e.SittingOpened), "the log must begin with sitting.opened"
            meeting = Meeting.from_opening(event)
        else:
            meeting.apply(event, entry.seq)
        history.append((entry.seq, event))
        hashes.append(entry.hash)
    return meeting


def new_urn_entry() -> str:
    """A random 128-bit urn entry id: the only key a secret choice is stored under."""
    return secrets.token_hex(16)


class Sitting:
    """The one live sitting of a server. Built by the composition root; ``start`` replays the
    store (or opens the sitting on ``agenda``); ``request`` runs commands; ``subscribe``d
    listeners hear every durable logged event of the kinds they name."""

    def __init__(
        self,
        store: EventStore,
        agenda: Agenda,
        clock: Callable[[], float] = time.time,
        draw: Callable[[], str] = new_urn_entry,
    ) -> None:
        self.store = store
        self.agenda = agenda  # the file's; after a restart the log's wins (``meeting.agenda``)
        self.clock = clock
        self.draw = draw
        self.meeting: Meeting = Meeting(agenda)  # replaced by ``start``
        self.history: list[tuple[int, e.Event]] = []  # every durable logged event, for resuming clients
        self.hashes: list[str] = []  # their entry hashes: hashes[seq - 1]
        self.ledger = Ledger(encode=canonical_fast)
        self._listeners: list[tuple[Listener, tuple[type[e.Event], ...] | None]] = []
        self._routes: dict[type[e.Event], list[Listener]] = {}  # event type -> its listeners
        self._pending: deque[_Commit] = deque()  # handed to the writer, not yet committed
        self.durable_seq = 0  # the last committed log position
        self.writer = GroupWriter(store, self._committed, self._failed)
        self._timer: asyncio.TimerHandle | None = None
        self._stale = False  # a commit failed and the state could not yet be rebuilt from the store
        self.began = Began("opened", clock())  # set by ``start``

    # -- lifecycle ------------------------------------------------------------------
    async def start(self, warm: Warm | None = None) -> None:
        """Resume the sitting stored in the store, or open a new one on the agenda.

        ``warm``: the state a standby kept by following the log (server/live/follower.py),
        already caught up with the store; then nothing is replayed."""
        meeting, hashes, history = warm if warm is not None else await asyncio.to_thread(replay, self.store)
        fresh = meeting is None
        self.began = Began("opened" if fresh else "restart" if warm is None else "takeover", self.clock())
        self._adopt(meeting or Meeting(self.agenda), hashes, history)
        await asyncio.to_thread(self._seal_ended)
        self.writer.start()
        if fresh:
            _, commit = self._record(Meeting.opening_events(self.agenda, self.clock()), None)
            assert commit is not None
            await self.durable(self.ledger.seq)
        self._arm_deadline()

    def _seal_ended(self) -> None:
        """Seal what a crash left unsealed: every run waiting for its seal that is no longer
        live (closed or voided before the crash, or never opened again). An open or held
        run keeps its key and goes on; it is sealed at its close."""
        live = {(run.spec.id, run.run) for run in self.meeting.ballots.values() if run.is_live}
        for ballot, run in self.store.unsealed():
            if (ballot, run) not in live:
                self.store.seal_ballot(ballot, run)

    def _adopt(self, meeting: Meeting, hashes: list[str], history: list[tuple[int, e.Event]]) -> None:
        self.meeting, self.hashes, self.history = meeting, hashes, history
        self.ledger = Ledger(meeting.seq if hashes else 0, hashes[-1] if hashes else GENESIS, canonical_fast)
        self.durable_seq = self.ledger.seq

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
        self.request(command, origin, _settle(fut))
        return fut

    def request(self, command: c.Command, origin: object, reply: Reply, at: float | None = None) -> None:
        """Decide and apply at once; ``reply(outcome, None)`` once the events are durable.

        ``at`` is the time the rules judge the command by: when the edge received it (a
        vote read before a deadline counts, however long the loop took to get to it);
        None means now.

        Synchronous up to the hand-over to the writer, so commands are decided in arrival
        order and callers need no task of their own. Raises CommandError when refused (and
        then never replies); a failed commit replies ``(None, Unavailable)``. A command with
        nothing to write is answered before this returns; a resent vote once the original is
        durable. ``origin`` (the caller's connection) is passed to listeners so the sender is
        not sent, as an event, what its own acknowledgement already tells it.
        """
        if self._stale:
            try:
                self._rebuild()
            except Exception as exc:
                raise Unavailable("the vote store cannot be read; nothing was recorded") from exc
        meeting = self.meeting
        decision = meeting.decide(command, round(self.clock() if at is None else at, 3), self.draw)
        logged, commit = self._record(decision.events, origin)
        receipt = meeting.keys[decision.cast] if decision.cast else None
        seq = logged[-1][0] if logged else receipt.seq if receipt else self.ledger.seq
        outcome = Outcome(seq, logged, receipt, decision.warnings)
        if commit is not None:
            commit.waiters.append((reply, outcome))
        else:
            self._after(seq, reply, outcome)

    def _after(self, seq: int, reply: Reply, outcome: Outcome) -> None:
        """Reply once entry ``seq`` is durable (at once if it already is)."""
        if seq > self.durable_seq:
            for commit in self._pending:
                entries = commit.batch.entries
                if entries and entries[-1].seq >= seq:
                    commit.waiters.append((reply, outcome))
                    return
        reply(outcome, None)

    async def durable(self, seq: int) -> None:
        if seq <= self.durable_seq:
            return
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._after(seq, _settle(fut), Outcome(seq))
        await fut

    def _record(self, events: Sequence[e.Event], origin: object) -> tuple[list[tuple[int, e.Event]], _Commit | None]:
        """Number and apply ``events``; add what they write to the writer's open batch.

        Returns the logged events with their positions, and the commit that makes them
        durable (None when there is nothing to write).
        """
        if not events:
            return [], None
        batch = self.writer.open_batch()
        pending = self._pending
        if not pending or pending[-1].batch is not batch:
            pending.append(_Commit(batch))
        commit = pending[-1]
        published = commit.published
        apply = self.meeting.apply
        logged: list[tuple[int, e.Event]] = []
        for seq, event in self.ledger.write(events, batch):
            apply(event, seq)
            if seq is not None:
                logged.append((seq, event))
                published.append((seq, event, origin))
        return logged, commit

    # -- writer callbacks -------------------------------------------------------------
    def _committed(self, batches: list[Batch]) -> None:
        """Publish what is now durable (in sequence order), then answer whoever waits on it."""
        done: list[_Commit] = []
        try:
            for batch in batches:
                commit = self._pending.popleft()
                assert commit.batch is batch, "the writer commits batches in the order they were opened"
                done.append(commit)
                if batch.entries:
                    self.durable_seq = batch.entries[-1].seq
                self.hashes.extend(entry.hash for entry in batch.entries)
                history = self.history
                for entry_seq, event, origin in commit.published:
                    history.append((entry_seq, event))
                    kind = type(event)
                    for listener in self._routes.get(kind) or self._listeners_of(kind):
                        listener(entry_seq, event, origin)
                    if kind in LIFECYCLE:
                        if isinstance(event, e.BallotClosed | e.BallotVoided):
                            self.writer.call(self.store.seal_ballot, event.ballot, event.run)
                        elif isinstance(event, e.BallotOpened) and self.meeting.ballots[event.ballot].spec.secret:
                            block = urn_block(self.meeting.ballots[event.ballot].spec)
                            self.writer.call(self.store.prepare_urn, event.ballot, event.run, block)
                        self._arm_deadline()
        finally:  # a listener's fault must not keep durable votes unacknowledged
            _answer(done, None)

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
            self._adopt(meeting, hashes, history)
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


def _settle(fut: asyncio.Future[Outcome]) -> Reply:
    """A reply that completes ``fut`` (once)."""

    def reply(outcome: Outcome | None, exc: BaseException | None) -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            assert outcome is not None
            fut.set_result(outcome)

    return reply


def _answer(commits: Iterable[_Commit], error: Exception | None) -> None:
    """Reply to every command of ``commits``: its outcome, or ``error`` for all of them.
    One reply that raises (a closed connection's callback) must not stop the others."""
    for commit in commits:
        for reply, outcome in commit.waiters:
            try:
                reply(None, error) if error is not None else reply(outcome, None)
            except Exception:
                log.exception("answering a command failed")
