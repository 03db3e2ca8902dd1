"""The ledger: numbers, chains and splits decided events into what a store writes.

A decision's events are of two sorts (``Event.LOGGED``). Logged events get the next
sequence number and a hash chained to the entry before (``chain.make_entry``); a member's
first ``vote.cast`` in a run also yields a participation row, the store's backstop for
"each member votes once". Unlogged events are the secret urn: a choice put in, or one
withdrawn by a change of vote, stored apart with no member, no time and no order.

Pure: the sitting (server/live) feeds it events and hands what it returns to the store;
a test or an auditor can drive it the same way without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from . import events as e
from .chain import GENESIS, Encoder, LogEntry, canonical, make_entry


@dataclass(frozen=True, slots=True)
class Participation:
    """Who voted in a ballot run (never what): one row per (ballot, run, member)."""

    ballot: str
    run: int
    member: str
    seq: int


@dataclass(frozen=True, slots=True)
class UrnEntry:
    """A secret choice as stored: a random id, the ballot run and the canonical choice."""

    entry: str  # random, unguessable; the only key
    ballot: str
    run: int
    choice: str  # canonical JSON


class Rows(Protocol):
    """Where the ledger puts what a store writes (the store's Batch is one)."""

    entries: list[LogEntry]
    participations: list[Participation]
    urn_puts: list[UrnEntry]

    def drop(self, entry: str) -> None:
        """Withdraw a secret choice (one put earlier in the same rows never reaches disk)."""


@dataclass
class Written:
    """Rows on their own, for callers without a store (tests, an auditor's replay)."""

    entries: list[LogEntry] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    urn_puts: list[UrnEntry] = field(default_factory=list)
    urn_drops: list[str] = field(default_factory=list)

    def drop(self, entry: str) -> None:
        for i, put in enumerate(self.urn_puts):
            if put.entry == entry:
                del self.urn_puts[i]
                return
        self.urn_drops.append(entry)


class Ledger:
    """The head of the log: the last sequence number and hash, advanced by ``write``."""

    def __init__(self, seq: int = 0, head: str = GENESIS, encode: Encoder = canonical) -> None:
        self.seq = seq
        self.head = head
        self.encode = encode

    def write(self, events: Sequence[e.Event], rows: Rows) -> list[tuple[int | None, e.Event]]:
        """Number and chain ``events``, put their rows into ``rows``; return each event with its
        sequence number (None for the urn's, which are not in the log), in order."""
        numbered: list[tuple[int | None, e.Event]] = []
        for event in events:
            kind = type(event)
            if not kind.LOGGED:
                if kind is e.SecretChoice:
                    assert isinstance(event, e.SecretChoice)
                    rows.urn_puts.append(UrnEntry(event.entry, event.ballot, event.run, self.encode(event.choice)))
                elif kind is e.SecretChoiceWithdrawn:
                    assert isinstance(event, e.SecretChoiceWithdrawn)
                    rows.drop(event.entry)
                else:  # pragma: no cover - a new unlogged kind must say where it is stored
                    raise TypeError(f"no storage for unlogged event {kind.__name__}")
                numbered.append((None, event))
                continue
            seq = self.seq = self.seq + 1
            entry = make_entry(self.head, seq, event.NAME, e.to_data(event), self.encode)
            self.head = entry.hash
            rows.entries.append(entry)
            if kind is e.VoteCast:
                assert isinstance(event, e.VoteCast)
                if event.first:
                    rows.participations.append(Participation(event.ballot, event.run, event.member, seq))
            numbered.append((seq, event))
        return numbered
