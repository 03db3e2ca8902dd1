"""One run of one ballot, and its lifecycle as a transition table.

draft -> open -> held <-> open -> closed -> announced; any run not yet voided may be
voided, and a voided ballot may be opened again as a new run (重新表决). Every run stays
in the record. ``LIFECYCLE`` is the whole table: ``Meeting`` checks a command against the
states its event may start from, and folding the event sets the state the table names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import events as e
from .agenda import BallotSpec
from .chain import canonical


class Status(StrEnum):
    """A ballot run's state; a ``str``, so views and the wire carry the plain word."""

    DRAFT = "draft"
    OPEN = "open"
    HELD = "held"
    CLOSED = "closed"
    ANNOUNCED = "announced"
    VOIDED = "voided"


@dataclass(frozen=True)
class Transition:
    verb: str  # the clerk's step, for refusals: "cannot hold a ballot that is closed"
    sources: frozenset[Status]
    target: Status


#: lifecycle event -> the states it may start from and the state it leads to
LIFECYCLE: dict[type[e.Event], Transition] = {
    e.BallotOpened: Transition("open", frozenset({Status.DRAFT, Status.VOIDED}), Status.OPEN),
    e.BallotHeld: Transition("hold", frozenset({Status.OPEN}), Status.HELD),
    e.BallotResumed: Transition("resume", frozenset({Status.HELD}), Status.OPEN),
    e.BallotClosed: Transition("close", frozenset({Status.OPEN, Status.HELD}), Status.CLOSED),
    e.BallotAnnounced: Transition("announce", frozenset({Status.CLOSED}), Status.ANNOUNCED),
    e.BallotVoided: Transition(
        "void", frozenset({Status.OPEN, Status.HELD, Status.CLOSED, Status.ANNOUNCED}), Status.VOIDED
    ),
}


@dataclass
class BallotRun:
    spec: BallotSpec
    run: int = 0
    status: Status = Status.DRAFT
    opened_at: float | None = None
    closed_at: float | None = None
    announced_at: float | None = None  # kept when the run is voided: the room saw its result
    deadline: float | None = None
    remaining: float | None = None
    voters: set[str] = field(default_factory=set)
    named: dict[str, Any] = field(default_factory=dict)
    urn: dict[str, Any] = field(default_factory=dict)
    # member -> urn entry, for changing a secret vote. Only ever filled by live casts,
    # never from storage, so it dies with the process and no file holds the link.
    slots: dict[str, str] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    urn_digest: str = ""

    @property
    def is_live(self) -> bool:
        return self.status in (Status.OPEN, Status.HELD)

    def choices(self) -> list[Any]:
        return list(self.urn.values()) if self.spec.secret else list(self.named.values())


def urn_digest(choices: list[Any]) -> str:
    """sha256 over the sorted canonical choices: the ballot set, without any order."""
    lines = sorted(canonical(c) for c in choices)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
