"""Which sitting a database holds, so one folder never mixes two sittings.

A record is one sitting: its first entry (``sitting.opened``) carries the whole agenda.
Serving another agenda file against that database would silently continue the stored
sitting under the other file's name, and overwrite the other sitting's credentials; so the
server compares the two first and refuses, saying what differs and what to do (a new data
folder, or ``--resume`` to continue the stored sitting with its own agenda). The same
reading lists the sittings of a data root (``hemicycle sittings``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..core import events as e
from ..core.chain import canonical
from ..store.base import EventStore

DB_NAME = "hemicycle.db"  # the record's file in a sitting's folder


class OtherSitting(Exception):
    """The database (or credentials file) belongs to another sitting than the agenda file."""


def identity(agenda_source: Mapping[str, Any]) -> str:
    """A sitting's identity: the digest of its validated agenda as the log's first entry holds it."""
    return hashlib.sha256(canonical(dict(agenda_source)).encode()).hexdigest()


def stored_agenda(store: EventStore) -> dict[str, Any] | None:
    """The agenda of the sitting in ``store`` (its first entry), or None for an empty store."""
    entries = store.load().entries
    if not entries:
        return None
    first = e.from_data(orjson.loads(entries[0].body))
    assert isinstance(first, e.SittingOpened), "the log must begin with sitting.opened"
    return dict(first.agenda)


def differences(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """What an operator must know about two agendas: the meeting, members, items, ballots."""
    out = []
    sm, wm = stored.get("meeting", {}), wanted.get("meeting", {})
    for key in ("title", "date", "body", "session", "language"):
        if sm.get(key) != wm.get(key):
            out.append(f"meeting {key}: {sm.get(key)!r} in the record, {wm.get(key)!r} in the file")
    for what, key in (("members", "members"), ("items", "items")):
        before = {m.get("id") for m in stored.get(key, []) if isinstance(m, Mapping)}
        after = {m.get("id") for m in wanted.get(key, []) if isinstance(m, Mapping)}
        if before - after:
            out.append(f"{what} only in the record: {', '.join(sorted(map(str, before - after)))}")
        if after - before:
            out.append(f"{what} only in the file: {', '.join(sorted(map(str, after - before)))}")
    if not out:
        out.append("the ballots, documents or settings of the items differ")
    return out


def refusal(db: str, stored: Mapping[str, Any], agenda_file: str, wanted: Mapping[str, Any]) -> str:
    """The message for an operator who pointed an agenda file at another sitting's record."""
    lines = [
        f"{db} holds another sitting: {stored.get('meeting', {}).get('title', '?')!r} "
        f"({stored.get('meeting', {}).get('date', '?')}), not the one in {agenda_file}:",
        *(f"  - {d}" for d in differences(stored, wanted)[:8]),
        "Nothing was changed. Either",
        "  - give this agenda its own data folder (each sitting keeps its record, certificates and tokens apart):",
        "      hemicycle serve --agenda FILE --data-dir var/<sitting> --db var/<sitting>/hemicycle.db "
        "--credentials var/<sitting>/credentials.json",
        "  - or continue the stored sitting with the agenda it was opened with: add --resume",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class SittingSummary:
    folder: Path
    title: str
    date: str
    language: str
    state: str  # "open" | "closed"
    ballots_closed: int
    ballots: int
    entries: int
    last_at: float | None


def summarize(folder: Path, store: EventStore) -> SittingSummary | None:
    """One sitting's state from its record (None for an empty database)."""
    from .sitting import replay

    meeting, hashes, history = replay(store)
    if meeting is None:
        return None
    runs = list(meeting.ballots.values())
    closed = sum(1 for r in runs if r.result is not None)
    info = meeting.agenda.meeting
    last_at = getattr(history[-1][1], "at", None) if history else None
    return SittingSummary(
        folder,
        info.title,
        info.date,
        info.language,
        "closed" if meeting.closed else "open",
        closed,
        len(runs),
        len(hashes),
        last_at,
    )


def folders(root: Path) -> Iterator[Path]:
    """Sitting folders under a data root: those holding a record (``hemicycle.db``)."""
    if (root / DB_NAME).is_file():
        yield root
    for child in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if (child / DB_NAME).is_file():
            yield child
