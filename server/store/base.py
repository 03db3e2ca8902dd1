"""The event log behind one small interface.

A store keeps three things: the hash-chained log, one participation row per
(ballot, run, member) — the backstop for "each member votes once" — and the urn of
secret ballots, whose rows carry a random id, the ballot and the choice, and nothing
else. ``commit`` is atomic: a batch is all there or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..core.chain import LogEntry
from ..core.ledger import Participation, UrnEntry

__all__ = [
    "Batch",
    "DuplicateParticipation",
    "EventStore",
    "Participation",
    "StoredLog",
    "UrnEntry",
    "check_sequence",
]


@dataclass
class Batch:
    """What one commit writes: log entries, participation rows, urn puts and drops. Nothing else."""

    entries: list[LogEntry] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    urn_puts: list[UrnEntry] = field(default_factory=list)
    urn_drops: list[str] = field(default_factory=list)

    def drop(self, entry: str) -> None:
        """Withdraw a secret choice; one put and dropped within the batch never reaches disk."""
        for i, put in enumerate(self.urn_puts):
            if put.entry == entry:
                del self.urn_puts[i]
                return
        self.urn_drops.append(entry)

    def __bool__(self) -> bool:
        return bool(self.entries or self.urn_puts or self.urn_drops)


@dataclass
class StoredLog:
    entries: list[LogEntry]
    urn: list[UrnEntry]


def check_sequence(last: int, entries: list[LogEntry]) -> None:
    """Refuse entries that do not continue the log exactly after ``last`` (a gap or a repeat)."""
    for expected, entry in enumerate(entries, start=last + 1):
        if entry.seq != expected:
            raise ValueError(f"log entry {entry.seq} out of sequence (expected {expected})")


class DuplicateParticipation(Exception):
    """The store refused a second participation row for the same member and ballot run."""


class EventStore(ABC):
    @abstractmethod
    def load(self) -> StoredLog:
        """Everything stored, the log in sequence order; the urn in no meaningful order."""

    @abstractmethod
    def commit(self, batch: Batch) -> None:
        """Write a batch atomically and durably; raise DuplicateParticipation on a repeat."""

    @abstractmethod
    def load_participation(self) -> list[tuple[str, int, str]]:
        """Every (ballot, run, member) participation row."""

    def prepare_urn(self, ballot: str, run: int, block: int) -> None:
        """Called once a secret ballot run opens: get ready to store its choices, each padded
        to ``block`` bytes (so the first vote's commit does not pay for it)."""

    def seal_ballot(self, ballot: str, run: int) -> None:
        """Called once a ballot run ends (closed or voided): write its choices in the clear,
        once, shuffled, and erase every trace of casting order the engine keeps."""

    def unsealed(self) -> list[tuple[str, int]]:
        """Ballot runs still waiting for their seal (a crash came between close and seal, or
        the run is open): the sitting seals those no longer open when it starts."""
        return []

    def close(self) -> None:
        pass
