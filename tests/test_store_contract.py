"""One contract, three stores: MemoryStore, SQLStore on an SQLite file, SQLStore on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from server.core.chain import GENESIS, LogEntry, make_entry
from server.store.base import (
    Batch,
    DuplicateParticipation,
    EventStore,
    Participation,
    UrnEntry,
)
from server.store.memory import MemoryStore
from server.store.sql import SQLStore
from tests.support_pg import pg_url, reset  # noqa: F401 - pg_url is a fixture

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
BACKENDS = ["memory", *SQL_BACKENDS]


@dataclass
class Backend:
    """Opens stores on one place; for SQL stores every open is a new instance on the same data."""

    kind: str
    make: Callable[[], EventStore]
    opened: list[EventStore] = field(default_factory=list)

    def open(self) -> EventStore:
        store = self.make()
        self.opened.append(store)
        return store


def _backend(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    if kind == "memory":
        shared = MemoryStore()
        backend = Backend(kind, lambda: shared)
    elif kind == "sqlite":
        path = tmp_path / "store.db"
        backend = Backend(kind, lambda: SQLStore(str(path)))
    else:
        url = request.getfixturevalue("pg_url")
        reset(url)
        backend = Backend(kind, lambda: SQLStore(url, tmp_path / "escrow"))
    try:
        yield backend
    finally:
        for store in backend.opened:
            store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request.param, tmp_path, request)


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request.param, tmp_path, request)


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return backend.open()


class Log:
    """Builds correctly chained entries, continuing where the last batch ended."""

    def __init__(self) -> None:
        self.prev, self.seq = GENESIS, 0

    def fork(self) -> Log:
        other = Log()
        other.prev, other.seq = self.prev, self.seq
        return other

    def entries(self, *bodies: dict[str, Any]) -> list[LogEntry]:
        out = []
        for body in bodies:
            self.seq += 1
            entry = make_entry(self.prev, self.seq, body.get("name", "test.event"), body)
            self.prev = entry.hash
            out.append(entry)
        return out


def cast_batch(log: Log, ballot: str, run: int, *voters: str, urn: tuple[str, ...] = ()) -> Batch:
    batch = Batch()
    batch.entries = log.entries(*({"name": "vote.cast", "ballot": ballot, "run": run, "member": m} for m in voters))
    batch.participations = [Participation(ballot, run, m, e.seq) for m, e in zip(voters, batch.entries)]
    batch.urn_puts = [UrnEntry(entry, ballot, run, '"for"') for entry in urn]
    return batch


def urn_of(store: EventStore) -> dict[str, UrnEntry]:
    return {u.entry: u for u in store.load().urn}


def state(store: EventStore) -> tuple[list[LogEntry], list[UrnEntry], list[tuple[str, int, str]]]:
    stored = store.load()
    return stored.entries, sorted(stored.urn, key=lambda u: u.entry), sorted(store.load_participation())


# -- the log ------------------------------------------------------------------------------------


def test_an_empty_store_loads_nothing(store: EventStore) -> None:
    stored = store.load()
    assert (stored.entries, stored.urn, store.load_participation()) == ([], [], [])


def test_batches_load_back_whole_and_in_order(store: EventStore) -> None:
    log = Log()
    written: list[LogEntry] = []
    for i in range(3):
        batch = Batch(entries=log.entries(*({"i": i, "j": j, "title": "物业管理条例（草案）"} for j in range(i + 1))))
        store.commit(batch)
        written += batch.entries
    assert store.load().entries == written
    assert [e.seq for e in written] == [1, 2, 3, 4, 5, 6]


def test_a_sequence_gap_is_refused_and_nothing_of_the_batch_is_kept(store: EventStore) -> None:
    log = Log()
    store.commit(Batch(entries=log.entries({"a": 1}, {"a": 2})))
    before = state(store)
    log.seq += 1  # skip entry 3
    gap = cast_batch(log, "b1", 1, "m01", urn=("e1",))
    with pytest.raises(ValueError, match="out of sequence"):
        store.commit(gap)
    assert state(store) == before


def test_a_repeated_sequence_number_is_refused(store: EventStore) -> None:
    log = Log()
    store.commit(Batch(entries=log.entries({"a": 1}, {"a": 2})))
    before = state(store)
    with pytest.raises(ValueError, match="out of sequence"):
        store.commit(Batch(entries=Log().entries({"a": "again"})))  # a second entry 1
    assert state(store) == before


def test_the_first_entry_must_be_entry_one(store: EventStore) -> None:
    log = Log()
    log.seq = 1
    with pytest.raises(ValueError, match="out of sequence"):
        store.commit(Batch(entries=log.entries({"a": 1})))
    assert store.load().entries == []


# -- participation: one vote per member and ballot run ------------------------------------------------


def test_a_duplicate_participation_refuses_the_whole_batch(store: EventStore) -> None:
    log = Log()
    first = cast_batch(log, "b1", 1, "m01", urn=("e-first",))
    store.commit(first)
    before = state(store)
    second = cast_batch(log, "b1", 1, "m02", "m01", urn=("e-m02", "e-m01-again"))
    second.urn_drops.append("e-first")
    with pytest.raises(DuplicateParticipation):
        store.commit(second)
    assert state(store) == before  # not m02's vote, not the urn rows, not the drop
    # the log continues as if the refused batch had never been offered
    log.seq, log.prev = first.entries[-1].seq, first.entries[-1].hash
    store.commit(cast_batch(log, "b1", 1, "m02", urn=("e-m02",)))
    assert sorted(store.load_participation()) == [("b1", 1, "m01"), ("b1", 1, "m02")]
    assert sorted(urn_of(store)) == ["e-first", "e-m02"]


def test_a_duplicate_within_one_batch_is_refused(store: EventStore) -> None:
    log = Log()
    with pytest.raises(DuplicateParticipation):
        store.commit(cast_batch(log, "b1", 1, "m01", "m01"))
    assert state(store) == ([], [], [])


def test_one_participation_row_per_ballot_run_and_member(store: EventStore) -> None:
    log = Log()
    store.commit(cast_batch(log, "b1", 1, "m01"))
    store.commit(cast_batch(log, "b1", 2, "m01"))  # a re-run is a new run
    store.commit(cast_batch(log, "b2", 1, "m01"))  # another ballot
    store.commit(cast_batch(log, "b1", 1, "m02"))  # another member
    with pytest.raises(DuplicateParticipation):
        store.commit(cast_batch(log.fork(), "b1", 2, "m01"))
    assert sorted(store.load_participation()) == [
        ("b1", 1, "m01"),
        ("b1", 1, "m02"),
        ("b1", 2, "m01"),
        ("b2", 1, "m01"),
    ]


# -- the urn -------------------------------------------------------------------------------------------


def test_urn_puts_and_drops(store: EventStore) -> None:
    store.commit(Batch(urn_puts=[UrnEntry(x, "s1", 1, '"for"') for x in ("e1", "e2", "e3")]))
    store.commit(Batch(urn_drops=["e2", "never-there"], urn_puts=[UrnEntry("e4", "s1", 1, '"against"')]))
    assert urn_of(store) == {
        "e1": UrnEntry("e1", "s1", 1, '"for"'),
        "e3": UrnEntry("e3", "s1", 1, '"for"'),
        "e4": UrnEntry("e4", "s1", 1, '"against"'),
    }


def test_a_choice_put_and_withdrawn_within_one_batch_never_reaches_the_store(store: EventStore) -> None:
    batch = Batch(urn_puts=[UrnEntry("keep", "s1", 1, '"for"'), UrnEntry("gone", "s1", 1, '"for"')])
    batch.drop("gone")
    # a vote changed twice before its commit: each change drops the put made before it
    batch.urn_puts.append(UrnEntry("changed", "s1", 1, '"against"'))
    batch.drop("keep")
    assert [u.entry for u in batch.urn_puts] == ["changed"] and batch.urn_drops == []
    store.commit(batch)
    assert sorted(urn_of(store)) == ["changed"]


def sealed_state(store: EventStore) -> tuple[list[LogEntry], list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """The state without the urn's ids, which a seal draws afresh."""
    stored = store.load()
    urn = sorted((u.ballot, u.run, u.choice) for u in stored.urn)
    return stored.entries, urn, sorted(store.load_participation())


def test_sealing_a_ballot_keeps_its_choices_and_everything_else(store: EventStore) -> None:
    log = Log()
    batch = cast_batch(log, "s1", 1, "m01", "m02", "m03", urn=("a", "b", "c"))
    batch.urn_puts.append(UrnEntry("other", "s2", 1, '"against"'))
    store.commit(batch)
    before = sealed_state(store)
    store.seal_ballot("s1", 1)
    store.seal_ballot("s9", 1)  # a ballot without an urn
    assert sealed_state(store) == before
    assert "other" in urn_of(store)  # another ballot's rows are not touched
    assert store.unsealed() == ([] if isinstance(store, MemoryStore) else [("s2", 1)])


# -- SQL specifics -----------------------------------------------------------------------------------


def test_the_urn_table_has_no_member_time_or_order_column(sql_backend: Backend) -> None:
    store = sql_backend.open()
    assert isinstance(store, SQLStore)
    columns = {col["name"] for col in inspect(store.engine).get_columns("urn")}
    assert columns == {"entry", "ballot", "run", "choice"}


def test_reopening_gives_the_same_record(sql_backend: Backend) -> None:
    log = Log()
    first = sql_backend.open()
    first.commit(cast_batch(log, "s1", 1, "m01", "m02", urn=("x1", "x2")))
    first.commit(Batch(entries=log.entries({"name": "ballot.closed", "ballot": "s1"}), urn_drops=["x2"]))
    first.seal_ballot("s1", 1)
    before = state(first)
    first.close()
    again = sql_backend.open()
    assert state(again) == before
    again.seal_ballot("s1", 1)  # sealing again changes nothing
    assert state(again) == before
    again.commit(cast_batch(log, "s2", 1, "m01"))  # and the log carries on from where it was
    assert [e.seq for e in again.load().entries] == [1, 2, 3, 4]


def sqlite_store(tmp_path: Path) -> SQLStore:
    return SQLStore(str(tmp_path / "pragmas.db"))


def test_sqlite_commits_are_durable_wal_with_full_sync(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
    finally:
        store.close()
    raw = sqlite3.connect(tmp_path / "pragmas.db")  # WAL is a property of the file itself
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_sqlite_urn_is_without_rowid(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    store.close()
    raw = sqlite3.connect(tmp_path / "pragmas.db")
    try:
        (sql,) = raw.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'urn'").fetchone()
        columns = [row[1] for row in raw.execute("PRAGMA table_info(urn)")]
    finally:
        raw.close()
    assert "WITHOUT ROWID" in sql.upper()
    assert sorted(columns) == ["ballot", "choice", "entry", "run"]
