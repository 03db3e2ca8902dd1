"""The SQLAlchemy event store: an SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode with synchronous=FULL (a commit survives power loss) and
secure_delete (withdrawn secret choices are zeroed, not left in free pages). Schema
changes go through Alembic migrations, applied on open.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ..core.chain import LogEntry
from .base import (
    Batch,
    DuplicateParticipation,
    EventStore,
    StoredLog,
    UrnEntry,
    check_sequence,
)
from .schema import events, participation, urn

_MIGRATIONS = "server.store:migrations"  # package data, found the same from a wheel or the source tree
_ROWS_PER_INSERT = 500  # x 5 columns stays under SQLite's 32,766 and PostgreSQL's 65,535 parameters


def normalize_url(url: str) -> str:
    """Accept plain paths and postgresql:// URLs; pick the drivers Hemicycle ships with."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", _MIGRATIONS)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class SQLStore(EventStore):
    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        migrate(self.engine)
        self._shuffle = random.SystemRandom().shuffle
        # PostgreSQL with several servers: run first in every commit transaction, raises when
        # another server leads (server/store/leadership.py, Leadership.fence)
        self.fence: Callable[[Connection], None] | None = None

    def load(self) -> StoredLog:
        with self.engine.connect() as conn:
            rows = conn.execute(select(events).order_by(events.c.seq)).all()
            urn_rows = conn.execute(select(urn).order_by(urn.c.entry)).all()
        return StoredLog(
            [LogEntry(r.seq, r.name, r.body, r.prev, r.hash) for r in rows],
            [UrnEntry(r.entry, r.ballot, r.run, r.choice) for r in urn_rows],
        )

    def load_participation(self) -> list[tuple[str, int, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(participation.c.ballot, participation.c.run, participation.c.member)).all()
        return [(r.ballot, r.run, r.member) for r in rows]

    def commit(self, batch: Batch) -> None:
        puts = list(batch.urn_puts)
        self._shuffle(puts)  # no trace of arrival order inside a group commit
        try:
            with self.engine.begin() as conn:
                if self.fence is not None:
                    self.fence(conn)
                if batch.entries:
                    check_sequence(conn.execute(select(func.max(events.c.seq))).scalar() or 0, batch.entries)
                    self._insert_rows(
                        conn, "events", 5, [(e.seq, e.name, e.body, e.prev, e.hash) for e in batch.entries]
                    )
                if batch.participations:
                    self._insert_rows(
                        conn, "participation", 4, [(p.ballot, p.run, p.member, p.seq) for p in batch.participations]
                    )
                if batch.urn_drops:
                    conn.execute(delete(urn).where(urn.c.entry.in_(batch.urn_drops)))
                if puts:
                    self._insert_rows(conn, "urn", 4, [(u.entry, u.ballot, u.run, u.choice) for u in puts])
        except IntegrityError as exc:
            if "one_vote_per_member" in str(exc) or "participation" in str(exc):
                raise DuplicateParticipation(str(exc.orig)) from None
            raise

    def _insert_rows(self, conn: Connection, table: str, width: int, rows: list[tuple]) -> None:
        """Multi-row INSERTs of plain tuples, a few hundred rows per statement.

        The commit runs on the writer thread while the event loop keeps serving sockets.
        ``executemany`` steps the statement once per row, and every step releases and
        re-takes the GIL: with the loop busy, each re-take waits for the interpreter's
        switch interval (5 ms), so a 3,000-vote commit took ~170 ms instead of ~10 ms
        (and acknowledgements wait for it). One statement per chunk needs a handful of
        GIL hand-overs per commit, on SQLite and PostgreSQL alike.
        """
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        one = f"({', '.join([mark] * width)})"
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            flat = tuple(value for row in chunk for value in row)
            conn.exec_driver_sql(f"INSERT INTO {table} VALUES {', '.join([one] * len(chunk))}", flat)

    def seal_ballot(self, ballot: str, run: int) -> None:
        """Rewrite a closed ballot's urn in one transaction, in random-id order.

        On PostgreSQL each row otherwise keeps the id of the transaction that wrote it,
        which is shared with that batch's participation rows; rewriting gives every row
        of the ballot the same transaction and a fresh physical position. On SQLite the
        WAL frames of earlier commits are checkpointed away.
        """
        with self.engine.begin() as conn:
            rows = conn.execute(select(urn).where(urn.c.ballot == ballot, urn.c.run == run).order_by(urn.c.entry)).all()
            if rows and not self.is_sqlite:
                conn.execute(delete(urn).where(urn.c.ballot == ballot, urn.c.run == run))
                conn.execute(insert(urn), [r._asdict() for r in rows])
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            else:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM urn"))

    def close(self) -> None:
        self.engine.dispose()
