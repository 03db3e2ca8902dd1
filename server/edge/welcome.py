"""The answer to a ``hello``: a snapshot of the sitting, or the events a resuming client missed.

A snapshot for 3,000 members is ~300 kB of JSON, and most of it — the roster and the
attendance — is the same for every role. Building and encoding it for each of 3,000 seats
connecting at once took 10–20 s and kept the collector busy with millions of short-lived
dicts. ``WelcomeCache`` encodes those parts once (the roster once per sitting, attendance
and summary once per log position) as ``orjson.Fragment``s that each welcome splices in, so
a welcome costs the small, role-specific part only. The content is exactly what
``views.snapshot`` gives.

A resuming seat is sent only its own events and those every seat sees. Walking the whole gap
for each seat made the catch-up quadratic: after a takeover in a 3,000-seat burst, each of
3,000 tablets looked at 3,000 others' votes, the new leader's loop stalled for seconds, the
proxy's readiness check timed out and closed every session again. ``ResumeIndex`` keeps the
positions of the shared events and of each member's own (``views.seat_scope``), so a seat's
catch-up costs what it receives.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from heapq import merge
from typing import Any

import orjson

from ..core import events as e
from ..core.meeting import Meeting
from ..core.views import attendance_summary, locked_votes, progress, roster, seat_scope, snapshot, visible_event
from ..live.sitting import Sitting
from .credentials import Identity
from .hub import Subscriber
from .protocol import PROTOCOL_VERSION, encode

RESUME_LIMIT = 5000  # a longer gap gets a fresh snapshot instead of the events


class WelcomeCache:
    """Pre-encoded large parts of the snapshot, valid for one meeting object until its
    attendance changes."""

    def __init__(self) -> None:
        self._roster: tuple[Meeting, orjson.Fragment] | None = None
        self._state: tuple[Meeting, int, dict[str, orjson.Fragment]] | None = None
        self._summary: tuple[Meeting, int, str] | None = None
        self._results: tuple[Meeting | None, dict[tuple[int, str], str | None]] = (None, {})
        self.resume = ResumeIndex()

    def large(self, m: Meeting) -> dict[str, Any]:
        # the meeting object is replaced when the sitting is rebuilt from the store, and a
        # rebuilt meeting may reach the same seq with other content: compare identity too
        if self._roster is None or self._roster[0] is not m:
            self._roster = (m, orjson.Fragment(orjson.dumps(roster(m))))
        # attendance and summary change with attendance only: not with each of a burst's votes
        if self._state is None or self._state[0] is not m or self._state[1] != m.attendance_changes:
            self._state = (
                m,
                m.attendance_changes,
                {
                    "attendance": orjson.Fragment(orjson.dumps(m.attendance)),
                    "summary": orjson.Fragment(orjson.dumps(attendance_summary(m))),
                },
            )
        return {"members": self._roster[1], **self._state[2]}

    def summary(self, m: Meeting) -> str:
        """The seats' attendance summary message, encoded once per change of attendance."""
        if self._summary is None or self._summary[0] is not m or self._summary[1] != m.attendance_changes:
            self._summary = (m, m.attendance_changes, encode({"type": "summary", **attendance_summary(m)}))
        return self._summary[2]

    def result(self, m: Meeting, seq: int, event: e.BallotClosed | e.BallotAnnounced, role: str) -> str | None:
        """A result event as ``role`` sees it, encoded once: a named ballot's carries every
        member's choice, and 3,000 seats resuming must not each sort and encode 3,000 names."""
        if self._results[0] is not m:
            self._results = (m, {})
        texts = self._results[1]
        if (seq, role) not in texts:
            data = visible_event(event, role, frozenset(), m)  # the same for every member
            texts[seq, role] = None if data is None else encode({"type": "event", "seq": seq, "event": data})
        return texts[seq, role]


class ResumeIndex:
    """Positions in the history of the events every seat sees, and of each member's own."""

    def __init__(self) -> None:
        self._history: list[tuple[int, e.Event]] | None = None
        self._indexed = 0
        self.shared: list[int] = []
        self.own: defaultdict[str, list[int]] = defaultdict(list)

    def positions(self, history: list[tuple[int, e.Event]], members: frozenset[str], start: int) -> Any:
        """The history positions from ``start`` a seat speaking for ``members`` may see, in order."""
        if history is not self._history or len(history) < self._indexed:  # rebuilt: index it anew
            self._history, self._indexed, self.shared, self.own = history, 0, [], defaultdict(list)
        for i in range(self._indexed, len(history)):
            member = seat_scope(history[i][1])
            (self.shared if member is None else self.own[member]).append(i)
        self._indexed = len(history)
        lists = [self.shared, *(self.own[m] for m in members if m in self.own)]
        return merge(*(positions[bisect_left(positions, start) :] for positions in lists))


def welcome(sitting: Sitting, cache: WelcomeCache, sub: Subscriber, identity: Identity, last_seq: Any) -> None:
    """Snapshot or gap, queued synchronously so no event can slip in between."""
    meeting = sitting.meeting
    history = sitting.history
    head = {
        "type": "welcome",
        "v": PROTOCOL_VERSION,
        "role": identity.role,
        "member": identity.member,
        "seat": identity.seat,
    }
    if identity.role == "clerk":  # how this server began, and the votes that left locked
        began = sitting.began
        head["server"] = {"began": began.how, "at": began.at, "locked": locked_votes(meeting)}
    durable = history[-1][0] if history else 0
    if (
        isinstance(last_seq, int)
        and not isinstance(last_seq, bool)
        and 0 <= last_seq <= durable
        and durable - last_seq <= RESUME_LIMIT
    ):
        sub.push(encode({**head, "resumed": True, "seq": durable}))
        seat = identity.role in ("seat", "device")
        missed = cache.resume.positions(history, sub.members, last_seq) if seat else range(last_seq, len(history))
        for i in missed:
            seq, event = history[i]
            if isinstance(event, e.BallotClosed | e.BallotAnnounced):
                text = cache.result(meeting, seq, event, sub.role)
            else:
                data = visible_event(event, sub.role, sub.members, meeting)
                text = None if data is None else encode({"type": "event", "seq": seq, "event": data})
            if text is not None:
                sub.push(text)
        # coalesced state is not in the log: give the resumed client the current one
        run = meeting.open_run()
        if run is not None and identity.role in ("clerk", "display"):
            extra = {"voters": sorted(run.voters)} if identity.role == "clerk" else {}
            sub.push(encode({"type": "progress", **progress(meeting, run), **extra}))
        if seat:
            sub.push(cache.summary(meeting))
        return
    sub.push(
        encode(
            {
                **head,
                "resumed": False,
                "seq": meeting.seq,
                "snapshot": snapshot(meeting, identity.role, sub.members, cache.large(meeting)),
            }
        )
    )
