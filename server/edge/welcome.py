"""The answer to a ``hello``: a snapshot of the sitting, or the events a resuming client missed.

A snapshot for 3,000 members is ~300 kB of JSON, and most of it — the roster and the
attendance — is the same for every role. Building and encoding it for each of 3,000 seats
connecting at once took 10–20 s and kept the collector busy with millions of short-lived
dicts. ``WelcomeCache`` encodes those parts once (the roster once per sitting, attendance
and summary once per log position) as ``orjson.Fragment``s that each welcome splices in, so
a welcome costs the small, role-specific part only. The content is exactly what
``views.snapshot`` gives.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..core.meeting import Meeting
from ..core.views import attendance_summary, locked_votes, progress, roster, snapshot, visible_event
from ..live.sitting import Sitting
from .credentials import Identity
from .hub import Subscriber
from .protocol import PROTOCOL_VERSION, encode

RESUME_LIMIT = 5000  # a longer gap gets a fresh snapshot instead of the events


class WelcomeCache:
    """Pre-encoded large parts of the snapshot, valid for one meeting object at one seq."""

    def __init__(self) -> None:
        self._roster: tuple[Meeting, orjson.Fragment] | None = None
        self._state: tuple[Meeting, int, dict[str, orjson.Fragment]] | None = None

    def large(self, m: Meeting) -> dict[str, Any]:
        # the meeting object is replaced when the sitting is rebuilt from the store, and a
        # rebuilt meeting may reach the same seq with other content: compare identity too
        if self._roster is None or self._roster[0] is not m:
            self._roster = (m, orjson.Fragment(orjson.dumps(roster(m))))
        if self._state is None or self._state[0] is not m or self._state[1] != m.seq:
            self._state = (
                m,
                m.seq,
                {
                    "attendance": orjson.Fragment(orjson.dumps(m.attendance)),
                    "summary": orjson.Fragment(orjson.dumps(attendance_summary(m))),
                },
            )
        return {"members": self._roster[1], **self._state[2]}


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
        for seq, event in history[last_seq:]:
            data = visible_event(event, sub.role, sub.members, meeting)
            if data is not None:
                sub.push(encode({"type": "event", "seq": seq, "event": data}))
        # coalesced state is not in the log: give the resumed client the current one
        run = meeting.open_run()
        if run is not None and identity.role in ("clerk", "display"):
            extra = {"voters": sorted(run.voters)} if identity.role == "clerk" else {}
            sub.push(encode({"type": "progress", **progress(meeting, run), **extra}))
        if identity.role in ("seat", "device"):
            sub.push(encode({"type": "summary", **attendance_summary(meeting)}))
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
