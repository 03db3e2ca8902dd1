"""In-memory store: for unit tests only. Same contract as the SQL store."""

from __future__ import annotations

import copy

from .base import (
    Batch,
    DuplicateParticipation,
    EventStore,
    StoredLog,
    UrnEntry,
    check_sequence,
)


class MemoryStore(EventStore):
    def __init__(self) -> None:
        self._entries: list = []
        self._participation: set[tuple[str, int, str]] = set()
        self._urn: dict[str, UrnEntry] = {}

    def load(self) -> StoredLog:
        return StoredLog(list(self._entries), sorted(self._urn.values(), key=lambda u: u.entry))

    def commit(self, batch: Batch) -> None:
        seen = set(self._participation)
        for p in batch.participations:
            key = (p.ballot, p.run, p.member)
            if key in seen:
                raise DuplicateParticipation(f"{p.member} already voted in {p.ballot} run {p.run}")
            seen.add(key)
        check_sequence(self._entries[-1].seq if self._entries else 0, batch.entries)
        self._participation = seen
        self._entries.extend(copy.copy(batch.entries))
        for drop in batch.urn_drops:
            self._urn.pop(drop, None)
        for put in batch.urn_puts:
            self._urn[put.entry] = put

    def load_participation(self) -> list[tuple[str, int, str]]:
        return sorted(self._participation)
