"""The WebSocket protocol's edge: validate a client message and turn it into a command.

Everything a client sends is checked here, before anything changes: wrong types,
unknown message types, a seat speaking for another seat, a display trying to vote.
The message forms are documented in docs/protocol.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from ..core import commands as c
from ..core.agenda import Agenda
from ..core.bounds import MAX_MEMBERS, shown
from ..core.errors import CommandError
from .credentials import Identity

PROTOCOL_VERSION = 1
MAX_KEY_LENGTH = 64
MAX_LINE_NAME = 64
MAX_LINE_DETAIL = 200
MAX_LINE_SEATS = 247  # a keypad line's address space (docs/keypad-protocol.md)
LINE_REASON = re.compile(r"[a-z_]{0,32}")

# clerk command name -> (command class, {arg: type}, required args)
CLERK_COMMANDS: dict[str, tuple[type[c.Command], dict[str, type | tuple], set[str]]] = {
    "set_attendance": (c.SetAttendance, {"member": str, "status": str}, {"member", "status"}),
    "set_attendance_many": (c.SetAttendanceMany, {"members": list, "status": str}, {"members", "status"}),
    "select_item": (c.SelectItem, {"item": str}, {"item"}),
    "create_ballot": (c.CreateBallot, {"item": str, "spec": dict}, {"item", "spec"}),
    "create_further_round": (c.CreateFurtherRound, {"ballot": str}, {"ballot"}),
    "open_ballot": (c.OpenBallot, {"ballot": str, "countdown": int}, {"ballot"}),
    "hold_ballot": (c.HoldBallot, {"ballot": str}, {"ballot"}),
    "resume_ballot": (c.ResumeBallot, {"ballot": str}, {"ballot"}),
    "close_ballot": (c.CloseBallot, {"ballot": str}, {"ballot"}),
    "announce_ballot": (c.AnnounceBallot, {"ballot": str}, {"ballot"}),
    "void_ballot": (c.VoidBallot, {"ballot": str, "reason": str}, {"ballot"}),
    "close_sitting": (c.CloseSitting, {}, set()),
    "release_document": (c.ReleaseDocument, {"document": str}, {"document"}),
    "recall_documents": (c.RecallDocuments, {"document": str}, set()),
    "show_page": (c.ShowPage, {"document": str, "page": int}, {"document", "page"}),
    # the floor (docs/floor.md)
    "add_speaker": (c.RequestFloor, {"member": str, "kind": str, "position": int}, {"member"}),
    "remove_speaker": (c.RemoveSpeaker, {"member": str}, {"member"}),
    "move_speaker": (c.MoveSpeaker, {"member": str, "position": int}, {"member", "position"}),
    "grant_floor": (c.GrantFloor, {"member": str, "kind": str}, set()),
    "end_floor": (c.EndFloor, {}, set()),
    "clear_speakers": (c.ClearSpeakers, {}, set()),
}

MEMBER_TYPES = ("cast", "check_in", "check_out", "request_floor", "withdraw_floor")


def decode(text: str) -> dict[str, Any]:
    try:
        msg = orjson.loads(text)
    except ValueError:
        raise CommandError("bad_message", "not valid JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise CommandError("bad_message", 'a message is a JSON object with a string "type"')
    return msg


def encode(msg: dict[str, Any]) -> str:
    return orjson.dumps(msg).decode()


def _field(msg: dict[str, Any], name: str, kind: type | tuple, required: bool = True) -> Any:
    if name not in msg:
        if required:
            raise CommandError("bad_message", f'"{name}" is required')
        return None
    value = msg[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CommandError("bad_message", f'"{name}" has the wrong type')
    return value


def _keypad_line(msg: dict[str, Any]) -> c.SetKeypadLine:
    line = _field(msg, "line", str)
    if not 1 <= len(line) <= MAX_LINE_NAME:
        raise CommandError("bad_message", f'"line" must be 1 to {MAX_LINE_NAME} characters')
    online = _field(msg, "online", bool)
    reason = _field(msg, "reason", str, required=False) or ""
    detail = _field(msg, "detail", str, required=False) or ""
    if not LINE_REASON.fullmatch(reason):
        raise CommandError("bad_message", '"reason" is a code such as "port_failed"')
    if online and (reason or detail):
        raise CommandError("bad_message", 'a line that is back has no "reason" or "detail"')
    if not online and not reason:
        raise CommandError("bad_message", '"reason" is required when a line is down')
    if len(detail) > MAX_LINE_DETAIL:
        raise CommandError("bad_message", f'"detail" must be at most {MAX_LINE_DETAIL} characters')
    seats = _field(msg, "seats", list)
    if len(seats) > MAX_LINE_SEATS or not all(isinstance(s, str) for s in seats) or len(set(seats)) != len(seats):
        raise CommandError("bad_message", f'"seats" must list at most {MAX_LINE_SEATS} different seats')
    return c.SetKeypadLine(line, online, reason, detail, tuple(seats))


def _members(members: list[Any]) -> tuple[str, ...]:
    """The members of a bulk attendance command: 1 to MAX_MEMBERS ids, strings."""
    if not 1 <= len(members) <= MAX_MEMBERS or not all(isinstance(m, str) for m in members):
        raise CommandError("bad_message", f'"members" must list 1 to {MAX_MEMBERS} member ids')
    return tuple(members)


@dataclass(frozen=True)
class Resolver:
    """Turns messages from one authenticated connection into commands."""

    identity: Identity
    agenda: Agenda  # the seats, for devices speaking for seats

    def member_of(self, msg: dict[str, Any]) -> str:
        """Which member a member-type message speaks for; refuses speaking for others."""
        ident = self.identity
        seat = _field(msg, "seat", str, required=False)
        if ident.role == "seat":
            if seat is not None and seat != ident.seat:
                raise CommandError("not_your_seat", "a tablet speaks only for its own seat")
            member = _field(msg, "member", str, required=False)
            if member is not None and member != ident.member:
                raise CommandError("not_your_seat", "a tablet speaks only for its own member")
            assert ident.member is not None
            return ident.member
        if ident.role == "device":
            if seat is None:
                raise CommandError("bad_message", 'a device names the "seat" it speaks for')
            member = self.agenda.member_at_seat(seat)
            if member is None:
                raise CommandError("unknown_seat", f"no seat {shown(seat)}")
            return member.id
        raise CommandError("forbidden", f"a {ident.role} cannot vote, check in or ask to speak")

    def command(self, msg: dict[str, Any]) -> c.Command:
        kind = msg["type"]
        if kind == "cast":
            member = self.member_of(msg)
            key = _field(msg, "key", str)
            if not 1 <= len(key) <= MAX_KEY_LENGTH:
                raise CommandError("bad_message", f'"key" must be 1 to {MAX_KEY_LENGTH} characters')
            if "choice" not in msg:
                raise CommandError("bad_message", '"choice" is required')
            return c.Cast(member, _field(msg, "ballot", str), msg["choice"], key)
        if kind in ("check_in", "check_out"):
            member = self.member_of(msg)
            by = "keypad" if self.identity.role == "device" else "self"
            return c.SetAttendance(member, "present" if kind == "check_in" else "absent", by)
        if kind in ("request_floor", "withdraw_floor"):
            # a seat (or a keypad) asks or withdraws for its own member only
            member = self.member_of(msg)
            by = "keypad" if self.identity.role == "device" else "self"
            if kind == "withdraw_floor":
                return c.WithdrawFloor(member, by)
            return c.RequestFloor(member, _field(msg, "kind", str, required=False) or "normal", by)
        if kind == "doc_receipt":
            if self.identity.role != "seat":
                raise CommandError("forbidden", "only a tablet reports what it received")
            assert self.identity.member is not None
            return c.RecordReceipt(self.identity.member, _field(msg, "document", str), _field(msg, "state", str))
        if kind == "keypad_status":
            if self.identity.role != "device":
                raise CommandError("forbidden", "only a keypad bridge reports keypads")
            seat = _field(msg, "seat", str)
            return c.SetKeypadStatus(seat, _field(msg, "online", bool))
        if kind == "keypad_line":
            if self.identity.role != "device":
                raise CommandError("forbidden", "only a keypad bridge reports keypad lines")
            return _keypad_line(msg)
        if kind == "command":
            if self.identity.role != "clerk":
                raise CommandError("forbidden", "only the clerk runs the sitting")
            name = _field(msg, "name", str)
            if name not in CLERK_COMMANDS:
                raise CommandError("unknown_command", f"no clerk command {shown(name)}")
            cls, arg_types, required = CLERK_COMMANDS[name]
            args = _field(msg, "args", dict, required=False) or {}
            unknown = set(args) - set(arg_types)
            if unknown:
                raise CommandError(
                    "bad_message", f"unknown argument(s) {', '.join(shown(a) for a in sorted(unknown)[:5])}"
                )
            values = {a: _field(args, a, t, a in required) for a, t in arg_types.items() if a in args or a in required}
            if cls in (c.SetAttendance, c.RequestFloor):
                values["by"] = "clerk"
            if cls is c.SetAttendanceMany:
                values["members"] = _members(values["members"])
            return cls(**values)
        raise CommandError("unknown_type", f"unknown message type {shown(kind)}")
