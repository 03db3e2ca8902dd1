"""Which of several `hemicycle serve` processes on one PostgreSQL database leads.

Leadership is a PostgreSQL advisory lock held on a dedicated connection: PostgreSQL
releases it when that connection ends, so a leader that dies (its socket closes) hands
over at once. A stalled leader (SIGSTOP, a frozen VM, a cut cable) keeps its socket open,
so the lock connection also sets ``idle_session_timeout`` to the lease and the leader
sends a heartbeat well within it: a process silent for longer than the lease loses its
session, and with it the lock.

Losing the lock is not enough, because a stalled leader may wake up in the middle of a
commit. So each new leader bumps an epoch row (table ``leadership``) and every commit
transaction reads that row ``FOR SHARE`` and must find its own epoch there
(:meth:`Leadership.fence`). The share lock makes the bump wait for a commit already past
the check, and a commit that starts after the bump sees the new epoch and fails: a leader
that lost its lock can never commit again. Its commit transactions also carry
``idle_in_transaction_session_timeout`` = the lease, so one frozen mid-transaction cannot
hold the row (and the takeover) for longer than that.

Each commit transaction also NOTIFYs ``hemicycle_log``: standbys LISTEN and read the new
entries as soon as they are durable (server/live/follower.py).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.engine import Connection

log = logging.getLogger("hemicycle.leadership")

LOCK_KEY = 0x48454D49  # "HEMI": advisory locks are per database, so one key per sitting database
CHANNEL = "hemicycle_log"
STEPPED_DOWN = 75  # exit status of a leader that stepped down or was fenced: the supervisor restarts it


class Fenced(Exception):
    """This process is no longer the leader: another one took over; nothing was written."""


def libpq_url(url: str) -> str:
    """The plain postgresql:// URL psycopg takes, from what `--db` accepts."""
    scheme, rest = url.split("://", 1)
    if scheme.startswith("postgres"):
        return "postgresql://" + rest
    raise ValueError(f"leadership needs PostgreSQL, not {scheme}")


class Leadership:
    """The advisory lock, the epoch this process leads under, and the fence every commit passes.

    ``on_lost`` is called (from a background thread) once, when the lock connection dies or
    a commit finds another leader's epoch.
    """

    def __init__(self, url: str, lease: float = 5.0, name: str | None = None) -> None:
        self.dsn = libpq_url(url)
        self.lease = lease
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.epoch: int | None = None  # set once this process leads
        self.lost = threading.Event()
        self.on_lost: Callable[[str], None] = lambda why: None
        self._conn: psycopg.Connection[Any] | None = None
        self._closing = threading.Event()
        self._beat: threading.Thread | None = None
        self._ms = max(100, int(lease * 1000))

    @property
    def leading(self) -> bool:
        return self.epoch is not None and not self.lost.is_set()

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5, application_name="hemicycle-lock")

    def try_acquire(self) -> bool:
        """Take the lock if it is free; then bump the epoch and start the heartbeat."""
        if self.epoch is not None:
            return True
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            if not row or not row[0]:
                return False
            self._conn.execute(f"SET idle_session_timeout = {self._ms}")  # the lease, from now on
            bumped = self._conn.execute(
                "UPDATE leadership SET epoch = epoch + 1, leader = %s WHERE id = 1 RETURNING epoch", (self.name,)
            ).fetchone()
        except psycopg.Error as exc:  # the server restarted, or our idle session was ended: try again later
            log.warning("cannot reach PostgreSQL for the leadership lock: %s", exc)
            self._drop()
            return False
        assert bumped is not None, "the leadership row is missing (migration 0002)"
        self.epoch = int(bumped[0])
        log.info("leading the sitting (epoch %d, lease %.1f s)", self.epoch, self.lease)
        self._beat = threading.Thread(target=self._heartbeat, name="hemicycle-lease", daemon=True)
        self._beat.start()
        return True

    def _heartbeat(self) -> None:
        """Keep the lock session busy well within the lease; a failure means the lock is gone."""
        while not self._closing.wait(self.lease / 4):
            try:
                assert self._conn is not None
                self._conn.execute("SELECT 1")
            except Exception as exc:
                if not self._closing.is_set():
                    self._lose(f"the leadership lock connection was lost: {exc}")
                return

    def fence(self, conn: Connection) -> None:
        """Run first in every commit transaction: refuse to commit under another leader's epoch."""
        conn.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = {self._ms}")
        current = conn.exec_driver_sql("SELECT epoch FROM leadership WHERE id = 1 FOR SHARE").scalar()
        if self.epoch is None or current != self.epoch:
            self._lose(f"fenced: the database is led under epoch {current}, this process held {self.epoch}")
            raise Fenced(f"another server leads this sitting (epoch {current})")
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")

    def _lose(self, why: str) -> None:
        if self.lost.is_set():
            return
        self.lost.set()
        log.error("no longer leading: %s", why)
        try:
            self.on_lost(why)
        except Exception:
            log.exception("stepping down failed")

    def release(self) -> None:
        """Give the lock up at once (a standby polling for it gets it next) and stop the heartbeat."""
        self._closing.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(timeout=2)
        conn = self._conn
        if conn is not None and not conn.closed:
            try:  # closing alone frees the lock only once the server has noticed
                conn.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error:
                pass
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    @staticmethod
    def current(url: str) -> tuple[int, str, bool]:
        """(epoch, leader name, whether anyone holds the lock now), read from outside."""
        with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT epoch, leader FROM leadership WHERE id = 1").fetchone()
            held = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (LOCK_KEY,),
            ).fetchone()
        assert row is not None and held is not None
        return int(row[0]), str(row[1]), bool(held[0])
