"""One run of one ballot, and the lifecycle as a transition table.

draft -> open -> held <-> open -> closed -> announced; any run not yet voided may be
voided, and a voided ballot may be opened again as a new run (重新表决). Every run stays
in the record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .agenda import BallotSpec
from .chain import canonical

# command -> states it may start from -> state it leads to
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({"draft", "voided"}), "open"),
    "hold": (frozenset({"open"}), "held"),
    "resume": (frozenset({"held"}), "open"),
    "close": (frozenset({"open", "held"}), "closed"),
    "announce": (frozenset({"closed"}), "announced"),
    "void": (frozenset({"open", "held", "closed", "announced"}), "voided"),
}


@dataclass
class BallotRun:
    spec: BallotSpec
    run: int = 0
    status: str = "draft"
    opened_at: float | None = None
    closed_at: float | None = None
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
        return self.status in ("open", "held")

    def choices(self) -> list[Any]:
        return list(self.urn.values()) if self.spec.secret else list(self.named.values())


def urn_digest(choices: list[Any]) -> str:
    """sha256 over the sorted canonical choices: the ballot set, without any order."""
    lines = sorted(canonical(c) for c in choices)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
