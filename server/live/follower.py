"""A standby's warm state: the log folded as the leader writes it, ready to take over.

The standby LISTENs on the channel every commit transaction NOTIFYs (server/store/
leadership.py), reads the entries after the last one it folded and applies them to its own
Meeting; between notifications it polls the leadership lock. Once it holds the lock (and
has bumped the epoch, so the old leader can no longer commit), it reads the tail one last
time, adds the secret urn, and hands the state to ``Sitting.start``: a takeover replays only
what the standby had not yet folded.

The urn is read only at takeover: its rows carry no sequence, and choices withdrawn while
the ballot is open are deleted, so it is the store at that moment that counts (as after a
restart; members' secret choices are then locked, ``vote_locked``, which the clerk's
welcome tells: ``Sitting.began`` is ``takeover``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import psycopg
from sqlalchemy import select

from ..core import events as e
from ..core.chain import LogEntry
from ..core.meeting import Meeting
from ..store.leadership import CHANNEL, Leadership
from ..store.schema import events
from ..store.sql import SQLStore
from .sitting import Warm, fold

log = logging.getLogger("hemicycle.standby")


class Follower:
    def __init__(self, store: SQLStore, leadership: Leadership, poll: float = 0.1) -> None:
        self.store = store
        self.leadership = leadership
        self.poll = poll  # how often the lock is tried (and the log read without a notification)
        self.meeting: Meeting | None = None
        self.hashes: list[str] = []
        self.history: list[tuple[int, e.Event]] = []
        self.stop = threading.Event()

    @property
    def seq(self) -> int:
        return len(self.hashes)

    def catch_up(self) -> int:
        """Fold every entry after the last one folded; return how many."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(events).where(events.c.seq > self.seq).order_by(events.c.seq)).all()
        self.meeting = fold(
            self.meeting, (LogEntry(r.seq, r.name, r.body, r.prev, r.hash) for r in rows), self.hashes, self.history
        )
        return len(rows)

    def wait_to_lead(self) -> Warm | None:
        """Follow the log until this process holds the lock; then the state to lead from
        (None if ``stop`` was set first). Runs on a thread of its own."""
        listener: psycopg.Connection[Any] | None = None
        while not self.stop.is_set():
            if self.leadership.try_acquire():
                break
            try:
                if listener is None or listener.closed:
                    listener = psycopg.connect(self.leadership.dsn, autocommit=True, connect_timeout=5)
                    listener.execute(f"LISTEN {CHANNEL}")
                for _ in listener.notifies(timeout=self.poll, stop_after=1):
                    pass
                self.catch_up()
            except Exception as exc:  # PostgreSQL restarting, a network fault: keep trying
                log.warning("following the log failed (retrying): %s", exc)
                if listener is not None:
                    listener.close()
                listener = None
                self.stop.wait(self.poll)
        if listener is not None:
            listener.close()
        if self.stop.is_set():
            return None
        tail = self.catch_up()  # after the epoch bump: nothing more can be committed by the old leader
        log.info("taking over at entry %d (%d entries read at takeover)", self.seq, tail)
        if self.meeting is not None:  # open ballots' choices decrypted with keys from the shared escrow folder
            for u in self.store.load_urn():
                self.meeting.apply(e.SecretChoice(u.ballot, u.run, u.entry, orjson.loads(u.choice)))
        return self.meeting, self.hashes, self.history
