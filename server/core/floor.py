"""The floor (发言): requests to speak, each item's queue of speakers, who has the floor and
for how long.

Pure like the rest of the core: ``Floor.decide`` turns a floor command into events (or a
CommandError) and never mutates; ``Floor.apply`` folds them. Positions in the queue are
worked out when a request is decided and carried by the event, so replaying the log needs
no ordering rule and reaches the same queue even if the rule changes later.

Order: first come, first served, except that a point of order (程序性发言) goes ahead of
replies and ordinary requests, and a reply (插话) ahead of ordinary requests: a request
joins the queue just after the last one waiting of its own or a higher priority (so an
order the clerk set by hand stands). The clerk may move, insert or strike anyone.

Time: a speech starts at the receive time of the clerk's grant and ends at that of the
end (or of the next grant, or of the sitting's close). Limits come from the agenda
(``speaking`` tables, docs/agendas.md): per kind for the sitting, overridden per item;
screens show the warning and the overrun from ``since``, ``limit`` and ``warning``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import commands as c
from . import events as e
from .bounds import Checker, shown, whole_problem
from .errors import CommandError

if TYPE_CHECKING:
    from .agenda import Agenda

KINDS = ("normal", "point_of_order", "reply")
RANK = {"point_of_order": 0, "reply": 1, "normal": 2}
BY = ("self", "clerk", "keypad")
#: a speaking limit, in seconds (0: none), and the warning before its end
MAX_LIMIT = 7200
MAX_WARNING = 600
DEFAULT_WARNING = 30
SPEAKING_KEYS = {*KINDS, "warning"}


def speaking_from_dict(c_: Checker, data: Mapping[str, Any], key: str, path: str) -> dict[str, int]:
    """Validate a ``speaking`` table (``normal``, ``point_of_order``, ``reply``: seconds,
    0 for no limit; ``warning``: seconds before the end) with bounded whole numbers."""
    if key not in data:
        return {}
    where = f"{path}.{key}" if path else key
    raw = c_.table(data[key], where, SPEAKING_KEYS)
    out: dict[str, int] = {}
    for name in sorted(SPEAKING_KEYS & set(raw)):
        high = MAX_WARNING if name == "warning" else MAX_LIMIT
        problem = whole_problem(raw[name], 0, high, "seconds")
        if problem:
            c_.fail(f"{where}.{name}", problem)
        else:
            out[name] = raw[name]
    return out


@dataclass(frozen=True)
class Request:
    member: str
    kind: str
    by: str
    at: float


@dataclass(frozen=True)
class Turn:
    """Who has the floor now."""

    item: str
    member: str
    kind: str
    since: float
    limit: int | None
    warning: int


@dataclass(frozen=True)
class Speech:
    """A finished speech, for totals and the record."""

    item: str
    member: str
    kind: str
    start: float
    seconds: float
    limit: int | None


@dataclass
class Floor:
    queues: dict[str, list[Request]] = field(default_factory=dict)  # item -> waiting, in order
    speaker: Turn | None = None
    speeches: list[Speech] = field(default_factory=list)

    # -- queries --------------------------------------------------------------------
    def queue(self, item: str | None) -> list[Request]:
        return self.queues.get(item, []) if item is not None else []

    def place(self, item: str | None, member: str) -> int | None:
        """The member's index in the item's queue, or None."""
        for i, r in enumerate(self.queue(item)):
            if r.member == member:
                return i
        return None

    def limits(self, agenda: Agenda, item: str, kind: str) -> tuple[int | None, int]:
        """The speaking limit for ``kind`` on ``item`` (the item's table, else the sitting's)
        and the warning before it; a limit of 0 means none."""
        own = next((i.speaking for i in agenda.items if i.id == item), {})
        limit = own.get(kind, agenda.speaking.get(kind, 0))
        warning = own.get("warning", agenda.speaking.get("warning", DEFAULT_WARNING))
        return (limit or None), (min(warning, limit) if limit else 0)

    # -- decide ---------------------------------------------------------------------
    def decide(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str | None, cmd: c.Command, now: float
    ) -> list[e.Event]:
        if item is None:
            raise CommandError("unknown_item", "the sitting has no current item to speak on")
        return _DECIDE[type(cmd)](self, agenda, attendance, item, cmd, now)

    def _request(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.RequestFloor, now: float
    ) -> list[e.Event]:
        if agenda.member(cmd.member) is None:
            raise CommandError("unknown_member", f"no member {shown(cmd.member)}")
        if cmd.kind not in KINDS:
            raise CommandError("bad_message", f"kind must be one of {', '.join(KINDS)}")
        if cmd.by != "clerk" and attendance.get(cmd.member) != "present":
            raise CommandError("not_checked_in", "check in before asking to speak")
        if self.speaker is not None and self.speaker.member == cmd.member:
            raise CommandError("bad_state", "this member has the floor")
        if self.place(item, cmd.member) is not None:
            raise CommandError("already_queued", "this member is already waiting to speak on this item")
        queue = self.queue(item)
        if cmd.position is not None:
            if not 0 <= cmd.position <= len(queue):
                raise CommandError("bad_message", f"position must be between 0 and {len(queue)}")
            position = cmd.position
        else:
            # after the last request of the same or a higher priority: the clerk's moves stand
            rank = RANK[cmd.kind]
            position = next((i + 1 for i in range(len(queue) - 1, -1, -1) if RANK[queue[i].kind] <= rank), 0)
        return [e.SpeakerRequested(item, cmd.member, cmd.kind, cmd.by, position, now)]

    def _queued(self, item: str, member: str) -> int:
        place = self.place(item, member)
        if place is None:
            raise CommandError("not_queued", f"{shown(member)} is not waiting to speak on this item")
        return place

    def _withdraw(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.WithdrawFloor, now: float
    ) -> list[e.Event]:
        self._queued(item, cmd.member)
        return [e.SpeakerWithdrawn(item, cmd.member, now)]

    def _remove(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.RemoveSpeaker, now: float
    ) -> list[e.Event]:
        self._queued(item, cmd.member)
        return [e.SpeakerRemoved(item, cmd.member, now)]

    def _move(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.MoveSpeaker, now: float
    ) -> list[e.Event]:
        place = self._queued(item, cmd.member)
        last = len(self.queue(item)) - 1
        if not 0 <= cmd.position <= last:
            raise CommandError("bad_message", f"position must be between 0 and {last}")
        return [] if place == cmd.position else [e.SpeakerMoved(item, cmd.member, cmd.position, now)]

    def _grant(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.GrantFloor, now: float
    ) -> list[e.Event]:
        queue = self.queue(item)
        member = cmd.member
        if member is None:
            if not queue:
                raise CommandError("queue_empty", "nobody is waiting to speak on this item")
            member = queue[0].member
        elif agenda.member(member) is None:
            raise CommandError("unknown_member", f"no member {shown(member)}")
        if cmd.kind is not None and cmd.kind not in KINDS:
            raise CommandError("bad_message", f"kind must be one of {', '.join(KINDS)}")
        if self.speaker is not None and self.speaker.member == member:
            raise CommandError("bad_state", "this member already has the floor")
        place = self.place(item, member)
        kind = cmd.kind or (queue[place].kind if place is not None else "normal")
        limit, warning = self.limits(agenda, item, kind)
        return [*self.end(now), e.SpeakerGranted(item, member, kind, now, limit, warning)]

    def _end(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.EndFloor, now: float
    ) -> list[e.Event]:
        if self.speaker is None:
            raise CommandError("nobody_speaking", "nobody has the floor")
        return self.end(now)

    def _clear(
        self, agenda: Agenda, attendance: Mapping[str, str], item: str, cmd: c.ClearSpeakers, now: float
    ) -> list[e.Event]:
        return [e.SpeakersCleared(item, now)] if self.queue(item) else []

    def end(self, now: float) -> list[e.Event]:
        """The current speech's end (none when nobody speaks): also used by a new grant and
        by the close of the sitting, so no speech is left open in the record."""
        turn = self.speaker
        if turn is None:
            return []
        return [e.SpeakerEnded(turn.item, turn.member, now, round(max(0.0, now - turn.since), 3))]

    # -- apply ----------------------------------------------------------------------
    def apply(self, event: e.Event) -> None:
        _APPLY[type(event)](self, event)

    def _requested(self, ev: e.SpeakerRequested) -> None:
        queue = self.queues.setdefault(ev.item, [])
        queue.insert(ev.position, Request(ev.member, ev.kind, ev.by, ev.at))

    def _drop(self, item: str, member: str) -> Request | None:
        queue = self.queues.get(item, [])
        for i, r in enumerate(queue):
            if r.member == member:
                return queue.pop(i)
        return None

    def _withdrawn(self, ev: e.SpeakerWithdrawn | e.SpeakerRemoved) -> None:
        self._drop(ev.item, ev.member)

    def _moved(self, ev: e.SpeakerMoved) -> None:
        request = self._drop(ev.item, ev.member)
        if request is not None:
            self.queues[ev.item].insert(ev.position, request)

    def _granted(self, ev: e.SpeakerGranted) -> None:
        self._drop(ev.item, ev.member)
        self.speaker = Turn(ev.item, ev.member, ev.kind, ev.at, ev.limit, ev.warning)

    def _ended(self, ev: e.SpeakerEnded) -> None:
        turn = self.speaker
        if turn is not None:
            self.speeches.append(Speech(turn.item, turn.member, turn.kind, turn.since, ev.seconds, turn.limit))
        self.speaker = None

    def _cleared(self, ev: e.SpeakersCleared) -> None:
        self.queues.pop(ev.item, None)


_DECIDE: dict[type[c.Command], Callable[..., list[e.Event]]] = {
    c.RequestFloor: Floor._request,
    c.WithdrawFloor: Floor._withdraw,
    c.RemoveSpeaker: Floor._remove,
    c.MoveSpeaker: Floor._move,
    c.GrantFloor: Floor._grant,
    c.EndFloor: Floor._end,
    c.ClearSpeakers: Floor._clear,
}
_APPLY: dict[type[e.Event], Callable[[Floor, Any], None]] = {
    e.SpeakerRequested: Floor._requested,
    e.SpeakerWithdrawn: Floor._withdrawn,
    e.SpeakerRemoved: Floor._withdrawn,
    e.SpeakerMoved: Floor._moved,
    e.SpeakerGranted: Floor._granted,
    e.SpeakerEnded: Floor._ended,
    e.SpeakersCleared: Floor._cleared,
}


def totals(floor: Floor, agenda: Agenda) -> dict[str, Any]:
    """Speaking time per member and per group, for the sitting and per item:
    ``{"members": {id: {"seconds", "speeches"}}, "groups": {…}, "items": {item: {"members", "groups"}}}``."""

    def add(table: dict[str, dict[str, float]], key: str, seconds: float) -> None:
        row = table.setdefault(key, {"seconds": 0.0, "speeches": 0})
        row["seconds"] = round(row["seconds"] + seconds, 3)
        row["speeches"] += 1

    out: dict[str, Any] = {"members": {}, "groups": {}, "items": {}}
    for s in floor.speeches:
        member = agenda.member(s.member)
        group = member.group if member is not None else ""
        per_item = out["items"].setdefault(s.item, {"members": {}, "groups": {}})
        add(out["members"], s.member, s.seconds)
        add(per_item["members"], s.member, s.seconds)
        if group:
            add(out["groups"], group, s.seconds)
            add(per_item["groups"], group, s.seconds)
    return out


def floor_view(floor: Floor, agenda: Agenda, role: str) -> dict[str, Any]:
    """The floor as a screen shows it: every item's queue, the speaker, and — for the
    clerk and displays — the totals (seats need only their place and the speaker)."""
    view: dict[str, Any] = {
        "queues": {
            item: [{"member": r.member, "kind": r.kind, "by": r.by, "at": r.at} for r in queue]
            for item, queue in floor.queues.items()
            if queue
        },
        "speaker": None,
    }
    turn = floor.speaker
    if turn is not None:
        view["speaker"] = {
            "item": turn.item,
            "member": turn.member,
            "kind": turn.kind,
            "since": turn.since,
            "limit": turn.limit,
            "warning": turn.warning,
        }
    if role in ("clerk", "display"):
        view["totals"] = totals(floor, agenda)
    return view
