"""Recompute every tally from the record, as an auditor would.

Pure: takes the stored log entries and urn rows, returns the problems found (empty when
the record is sound). Checks the hash chain, that each closed ballot's stored result
equals a recount from the votes, that each secret urn holds exactly one choice per
participant and matches the digest sealed into the log.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import events as e
from .ballot_state import urn_digest
from .chain import LogEntry, first_bad_position
from .meeting import Meeting


@dataclass(frozen=True)
class Problem:
    position: int  # log sequence number (0 when not tied to one entry)
    message: str

    def __str__(self) -> str:
        return f"entry {self.position}: {self.message}" if self.position else self.message


@dataclass(frozen=True)
class AuditReport:
    entries: int
    ballots_checked: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_entry(
    meeting: Meeting,
    entry: LogEntry,
    event: e.Event,
    urns: dict[tuple[str, int], list[Any]],
    voters_in_log: dict[tuple[str, int], set[str]],
    problems: list[Problem],
) -> int:
    """Check one event against the state before it; returns 1 if it was a ballot close."""
    if isinstance(event, e.VoteCast):
        voters_in_log[(event.ballot, event.run)].add(event.member)
    if not isinstance(event, e.BallotClosed):
        return 0
    run = meeting.ballots[event.ballot]
    if run.spec.secret:
        choices = urns.get((event.ballot, event.run), [])
        run.urn = {str(i): ch for i, ch in enumerate(choices)}
        if len(choices) != len(run.voters):
            problems.append(
                Problem(
                    entry.seq,
                    f"ballot {event.ballot} run {event.run}: "
                    f"{len(choices)} secret choices for {len(run.voters)} voters",
                )
            )
        if urn_digest(choices) != event.urn_digest:
            problems.append(
                Problem(
                    entry.seq,
                    f"ballot {event.ballot} run {event.run}: the urn does not match the digest sealed at close",
                )
            )
    recount = meeting.tally(run)
    if recount != event.result:
        problems.append(
            Problem(
                entry.seq,
                f"ballot {event.ballot} run {event.run}: "
                f"stored result differs from the recount {json.dumps(recount, ensure_ascii=False)}",
            )
        )
    return 1


def audit(
    entries: list[LogEntry],
    urn_rows: Iterable[tuple[str, int, str]],
    participation: Iterable[tuple[str, int, str]] | None = None,
) -> AuditReport:
    """``urn_rows``: (ballot, run, canonical choice); ``participation``: (ballot, run, member)."""
    bad = first_bad_position(entries)
    if bad is not None:
        return AuditReport(len(entries), 0, [Problem(bad[0], bad[1])])
    urns: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for ballot, run, choice in urn_rows:
        urns[(ballot, run)].append(json.loads(choice))
    problems: list[Problem] = []
    meeting: Meeting | None = None
    checked = 0
    voters_in_log: dict[tuple[str, int], set[str]] = defaultdict(set)
    for entry in entries:
        try:
            event = e.from_data(json.loads(entry.body))
        except (ValueError, KeyError, TypeError) as exc:
            return AuditReport(len(entries), checked, [Problem(entry.seq, f"unreadable event: {exc}")])
        if entry.name != event.NAME:  # the name column is hashed too, but nothing else reads it
            problems.append(Problem(entry.seq, f"the entry is named {entry.name!r} but holds {event.NAME!r}"))
        if meeting is None:
            if not isinstance(event, e.SittingOpened):
                return AuditReport(len(entries), 0, [Problem(entry.seq, "the log must begin with sitting.opened")])
            meeting = Meeting.from_opening(event)
            continue
        try:
            checked += _check_entry(meeting, entry, event, urns, voters_in_log, problems)
            meeting.apply(event, entry.seq)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            # a record that chains but does not make sense (a forged entry about nothing)
            problems.append(Problem(entry.seq, f"the event does not fit the sitting: {type(exc).__name__}: {exc}"))
            return AuditReport(len(entries), checked, problems)
    if participation is not None:
        stored: dict[tuple[str, int], set[str]] = defaultdict(set)
        for ballot, run, member in participation:
            stored[(ballot, run)].add(member)
        if stored != voters_in_log:
            problems.append(Problem(0, "the participation table does not match the votes in the log"))
    return AuditReport(len(entries), checked, problems)
