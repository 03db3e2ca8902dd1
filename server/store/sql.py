"""The SQLAlchemy event store: an SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode with synchronous=FULL (a commit survives power loss) and
secure_delete (deleted urn rows are zeroed, not left in free pages). Schema changes go
through Alembic migrations, applied on open.

A secret ballot's choices are written encrypted while it is open and in the clear only at
its seal, all in one transaction, shuffled, under fresh random ids (server/store/urn_keys.py
says why; docs/architecture.md, "Secrecy", what an attacker holding the files can learn).
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, func, select, text
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
from .urn_keys import BLOCK, Escrow, MissingKey, decrypt, encrypt, is_sealed

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
            private_file(Path(path))
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


def private_file(path: Path) -> None:
    """Make the SQLite file and its -wal and -shm owner-only (0600, in a 0700 folder) before
    SQLite opens them: created so, and an older file tightened. SQLite gives its -wal and -shm
    the main file's mode, so the main file is made first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists():
            os.chmod(name, 0o600)


def default_escrow(url: str) -> Path | None:
    """Where urn keys are escrowed unless told: beside an SQLite file, in ./var/escrow for a
    server database; None (memory only) for an in-memory database."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        return None if not path or path == ":memory:" else Path(path).parent / "escrow"
    return Path("var") / "escrow"


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", _MIGRATIONS)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class SQLStore(EventStore):
    def __init__(self, url: str, escrow_dir: str | Path | None = None) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        migrate(self.engine)
        self._shuffle = random.SystemRandom().shuffle
        self.escrow = Escrow(Path(escrow_dir) if escrow_dir is not None else default_escrow(url))
        # PostgreSQL with several servers: run first in every commit transaction, raises when
        # another server leads (server/store/leadership.py, Leadership.fence)
        self.fence: Callable[[Connection], None] | None = None

    def load(self) -> StoredLog:
        """The log, and the urn with every choice readable: an open ballot's decrypted with its
        escrowed key. Raises MissingKey when that key is not in the escrow folder."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(events).order_by(events.c.seq)).all()
            urn_rows = conn.execute(select(urn).order_by(urn.c.entry)).all()
        return StoredLog(
            [LogEntry(r.seq, r.name, r.body, r.prev, r.hash) for r in rows],
            [UrnEntry(r.entry, r.ballot, r.run, self._clear(r.ballot, r.run, r.choice)) for r in urn_rows],
        )

    def load_urn(self) -> list[UrnEntry]:
        """The urn alone, readable as in ``load``: what a standby adds when it takes over."""
        with self.engine.connect() as conn:
            urn_rows = conn.execute(select(urn).order_by(urn.c.entry)).all()
        return [UrnEntry(r.entry, r.ballot, r.run, self._clear(r.ballot, r.run, r.choice)) for r in urn_rows]

    def _clear(self, ballot: str, run: int, choice: str) -> str:
        if not is_sealed(choice):
            return choice
        key = self.escrow.find(ballot, run)
        if key is None:
            raise MissingKey(
                f"the urn of ballot {ballot} run {run} is encrypted and its key is not in the escrow folder "
                f"{self.escrow.folder}: start with --escrow-dir naming the folder that holds it"
            )
        return decrypt(key, ballot, run, choice)

    def unsealed(self) -> list[tuple[str, int]]:
        """Ballot runs with encrypted urn rows or an escrowed key: what a close has not sealed yet."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(urn.c.ballot, urn.c.run).where(urn.c.choice.startswith("enc1:")).distinct()
            ).all()
        return sorted({(r.ballot, r.run) for r in rows} | set(self.escrow.escrowed()))

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
                    key, block = self.escrow.key, self.escrow.block
                    rows = [
                        (
                            u.entry,
                            u.ballot,
                            u.run,
                            encrypt(key(u.ballot, u.run), u.ballot, u.run, u.choice, block(u.ballot, u.run)),
                        )
                        for u in puts
                    ]
                    self._insert_rows(conn, "urn", 4, rows)
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

    def prepare_urn(self, ballot: str, run: int, block: int = BLOCK) -> None:
        """Make and escrow the run's key at its opening (its fsyncs are not paid by a vote),
        with the size its choices are padded to."""
        self.escrow.key(ballot, run, block)

    def seal_ballot(self, ballot: str, run: int) -> None:
        """Write a closed ballot run's choices in the clear, once, and destroy its key.

        One transaction deletes the run's encrypted rows and inserts its choices under
        fresh random ids, in a random order: every clear row is written by the same
        transaction (one PostgreSQL ``xmin``), and its place in a page follows that random
        order, not the order of casting. Only then is the key destroyed, so a crash in
        between loses nothing (the next start seals again). Afterwards SQLite's WAL is
        checkpointed away (``secure_delete`` has zeroed the deleted rows) and PostgreSQL's
        urn is vacuumed; what either kept from the ballot is ciphertext whose key is gone.
        """
        with self.engine.begin() as conn:
            rows = conn.execute(select(urn).where(urn.c.ballot == ballot, urn.c.run == run)).all()
            hidden = [r for r in rows if is_sealed(r.choice)]
            if hidden:
                clear = [self._clear(r.ballot, r.run, r.choice) for r in hidden]
                self._shuffle(clear)
                conn.execute(delete(urn).where(urn.c.entry.in_([r.entry for r in hidden])))
                self._insert_rows(conn, "urn", 4, [(secrets.token_hex(16), ballot, run, ch) for ch in clear])
        self.escrow.destroy(ballot, run)
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            else:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM urn"))

    def close(self) -> None:
        self.engine.dispose()
