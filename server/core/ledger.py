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

from dataclasses import dataclass, field

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


@dataclass
class Written:
    """One decision's events, numbered (``numbered``: (seq or None, event) in order) and split
    into the rows a store writes."""

    numbered: list[tuple[int | None, e.Event]] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    urn_puts: list[UrnEntry] = field(default_factory=list)
    urn_drops: list[str] = field(default_factory=list)

    @property
    def last_seq(self) -> int | None:
        return self.entries[-1].seq if self.entries else None


class Ledger:
    """The head of the log: the last sequence number and hash, advanced by ``write``."""

    def __init__(self, seq: int = 0, head: str = GENESIS, encode: Encoder = canonical) -> None:
        self.seq = seq
        self.head = head
        self.encode = encode

    def write(self, events: list[e.Event]) -> Written:
        out = Written()
        for event in events:
            if not event.LOGGED:
                if isinstance(event, e.SecretChoice):
                    out.urn_puts.append(UrnEntry(event.entry, event.ballot, event.run, self.encode(event.choice)))
                elif isinstance(event, e.SecretChoiceWithdrawn):
                    out.urn_drops.append(event.entry)
                else:  # pragma: no cover - a new unlogged kind must say where it is stored
                    raise TypeError(f"no storage for unlogged event {type(event).__name__}")
                out.numbered.append((None, event))
                continue
            self.seq += 1
            entry = make_entry(self.head, self.seq, event.NAME, e.to_data(event), self.encode)
            self.head = entry.hash
            out.entries.append(entry)
            if isinstance(event, e.VoteCast) and event.first:
                out.participations.append(Participation(event.ballot, event.run, event.member, self.seq))
            out.numbered.append((self.seq, event))
        return out
