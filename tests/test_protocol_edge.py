"""What a client's message becomes at the edge (server/edge/protocol.py), for every role.

The edge is where a tablet is held to its own member, a keypad bridge to the seats it names,
a display to watching and only the clerk to running the sitting (docs/protocol.md, "Roles"
and "Messages"). Each row is a message a client could send; it becomes exactly one command
or one refusal, read whole (code and message), before anything changes. These are the
vote path's edge tests that mutation testing runs (pyproject.toml, ``[tool.mutmut]``).
"""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core.agenda import agenda_from_dict
from server.core.bounds import MAX_MEMBERS
from server.core.errors import CommandError
from server.edge.credentials import Identity
from server.edge.protocol import MAX_KEY_LENGTH, Resolver, decode, encode
from tests.support import agenda_data

AGENDA = agenda_from_dict(agenda_data(3))
SEAT = Identity("seat", member="m01", seat="S001")
DEVICE = Identity("device", device="bridge1")
CLERK = Identity("clerk")
DISPLAY = Identity("display")


def command(identity: Identity, msg: dict[str, Any]) -> c.Command:
    return Resolver(identity, AGENDA).command(msg)


def refused(identity: Identity, msg: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(CommandError) as info:
        command(identity, msg)
    return info.value.code, info.value.message


CAST = {"type": "cast", "ballot": "reg1", "choice": "yes", "key": "k1"}


@pytest.mark.parametrize(
    ("identity", "msg", "expected"),
    [
        (SEAT, CAST, c.Cast("m01", "reg1", "yes", "k1")),
        (SEAT, {**CAST, "seat": "S001", "member": "m01"}, c.Cast("m01", "reg1", "yes", "k1")),
        (SEAT, {**CAST, "key": "k"}, c.Cast("m01", "reg1", "yes", "k")),  # the shortest key
        (SEAT, {**CAST, "key": "k" * MAX_KEY_LENGTH}, c.Cast("m01", "reg1", "yes", "k" * MAX_KEY_LENGTH)),
        (SEAT, {**CAST, "choice": None}, c.Cast("m01", "reg1", None, "k1")),  # the core judges a choice
        (DEVICE, {**CAST, "seat": "S002"}, c.Cast("m02", "reg1", "yes", "k1")),
        (SEAT, {"type": "check_in"}, c.SetAttendance("m01", "present", "self")),
        (SEAT, {"type": "check_out"}, c.SetAttendance("m01", "absent", "self")),
        (DEVICE, {"type": "check_in", "seat": "S003"}, c.SetAttendance("m03", "present", "keypad")),
        (DEVICE, {"type": "check_out", "seat": "S003"}, c.SetAttendance("m03", "absent", "keypad")),
        (SEAT, {"type": "request_floor"}, c.RequestFloor("m01", "normal", "self")),
        (SEAT, {"type": "request_floor", "kind": "reply"}, c.RequestFloor("m01", "reply", "self")),
        (DEVICE, {"type": "request_floor", "seat": "S002"}, c.RequestFloor("m02", "normal", "keypad")),
        (SEAT, {"type": "withdraw_floor"}, c.WithdrawFloor("m01", "self")),
        (DEVICE, {"type": "withdraw_floor", "seat": "S002"}, c.WithdrawFloor("m02", "keypad")),
        (SEAT, {"type": "doc_receipt", "document": "d1", "state": "opened"}, c.RecordReceipt("m01", "d1", "opened")),
        (DEVICE, {"type": "keypad_status", "seat": "S002", "online": False}, c.SetKeypadStatus("S002", False)),
        (
            DEVICE,
            {"type": "keypad_line", "line": "bus1", "online": False, "reason": "port_failed", "seats": ["S001"]},
            c.SetKeypadLine("bus1", False, "port_failed", "", ("S001",)),
        ),
        (
            DEVICE,
            {"type": "keypad_line", "line": "b", "online": True, "seats": ["S002"]},  # the shortest name
            c.SetKeypadLine("b", True, "", "", ("S002",)),
        ),
        (
            DEVICE,
            {"type": "keypad_line", "line": "b" * 64, "online": True, "seats": []},
            c.SetKeypadLine("b" * 64, True, "", "", ()),
        ),
        (
            DEVICE,
            {"type": "keypad_line", "line": "bus1", "online": False, "reason": "", "detail": "", "seats": []}
            | {"reason": "x" * 32, "detail": "d" * 200},
            c.SetKeypadLine("bus1", False, "x" * 32, "d" * 200, ()),
        ),
    ],
)
def test_a_member_or_device_message_becomes_its_command(
    identity: Identity, msg: dict[str, Any], expected: c.Command
) -> None:
    assert command(identity, msg) == expected


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        ({"name": "close_sitting"}, c.CloseSitting()),
        ({"name": "end_floor", "args": {}}, c.EndFloor()),
        ({"name": "open_ballot", "args": {"ballot": "reg1"}}, c.OpenBallot("reg1")),
        ({"name": "open_ballot", "args": {"ballot": "reg1", "countdown": 60}}, c.OpenBallot("reg1", 60)),
        (
            {"name": "set_attendance", "args": {"member": "m02", "status": "present"}},
            c.SetAttendance("m02", "present", "clerk"),
        ),
        (
            {"name": "set_attendance_many", "args": {"members": ["m01", "m02"], "status": "leave"}},
            c.SetAttendanceMany(("m01", "m02"), "leave"),
        ),
        (
            {"name": "set_attendance_many", "args": {"members": ["m03"], "status": "absent"}},
            c.SetAttendanceMany(("m03",), "absent"),
        ),
        ({"name": "add_speaker", "args": {"member": "m02"}}, c.RequestFloor("m02", by="clerk")),
        (
            {"name": "add_speaker", "args": {"member": "m02", "kind": "reply", "position": 0}},
            c.RequestFloor("m02", "reply", "clerk", 0),
        ),
        ({"name": "move_speaker", "args": {"member": "m02", "position": 1}}, c.MoveSpeaker("m02", 1)),
        ({"name": "grant_floor"}, c.GrantFloor()),
        ({"name": "void_ballot", "args": {"ballot": "reg1", "reason": "错误"}}, c.VoidBallot("reg1", "错误")),
        ({"name": "show_page", "args": {"document": "d1", "page": 3}}, c.ShowPage("d1", 3)),
    ],
)
def test_a_clerk_command_becomes_its_command(msg: dict[str, Any], expected: c.Command) -> None:
    assert command(CLERK, {"type": "command", **msg}) == expected


@pytest.mark.parametrize(
    ("identity", "msg", "expected"),
    [
        # a tablet is held to its own seat and member
        (SEAT, {**CAST, "seat": "S002"}, ("not_your_seat", "a tablet speaks only for its own seat")),
        (SEAT, {**CAST, "member": "m02"}, ("not_your_seat", "a tablet speaks only for its own member")),
        (SEAT, {"type": "check_in", "member": "m02"}, ("not_your_seat", "a tablet speaks only for its own member")),
        (SEAT, {"type": "request_floor", "seat": "S003"}, ("not_your_seat", "a tablet speaks only for its own seat")),
        # a keypad bridge names a seat of the agenda
        (DEVICE, CAST, ("bad_message", 'a device names the "seat" it speaks for')),
        (DEVICE, {**CAST, "seat": "S999"}, ("unknown_seat", "no seat 'S999'")),
        (DEVICE, {"type": "check_in", "seat": 7}, ("bad_message", '"seat" has the wrong type')),
        # displays and the clerk never vote, check in or ask to speak for a member
        (DISPLAY, CAST, ("forbidden", "a display cannot vote, check in or ask to speak")),
        (CLERK, CAST, ("forbidden", "a clerk cannot vote, check in or ask to speak")),
        (DISPLAY, {"type": "request_floor"}, ("forbidden", "a display cannot vote, check in or ask to speak")),
        # a cast's fields
        (SEAT, {"type": "cast", "ballot": "reg1", "choice": "yes"}, ("bad_message", '"key" is required')),
        (SEAT, {**CAST, "key": ""}, ("bad_message", '"key" must be 1 to 64 characters')),
        (SEAT, {**CAST, "key": "k" * 65}, ("bad_message", '"key" must be 1 to 64 characters')),
        (SEAT, {**CAST, "key": 5}, ("bad_message", '"key" has the wrong type')),
        (SEAT, {"type": "cast", "ballot": "reg1", "key": "k1"}, ("bad_message", '"choice" is required')),
        (SEAT, {"type": "cast", "choice": "yes", "key": "k1"}, ("bad_message", '"ballot" is required')),
        (SEAT, {**CAST, "ballot": ["reg1"]}, ("bad_message", '"ballot" has the wrong type')),
        (SEAT, {"type": "request_floor", "kind": 1}, ("bad_message", '"kind" has the wrong type')),
        # who may report what
        (
            DEVICE,
            {"type": "doc_receipt", "document": "d1", "state": "opened"},
            ("forbidden", "only a tablet reports what it received"),
        ),
        (
            CLERK,
            {"type": "doc_receipt", "document": "d1", "state": "opened"},
            ("forbidden", "only a tablet reports what it received"),
        ),
        (
            SEAT,
            {"type": "keypad_status", "seat": "S001", "online": True},
            ("forbidden", "only a keypad bridge reports keypads"),
        ),
        (SEAT, {"type": "keypad_line", "line": "bus1"}, ("forbidden", "only a keypad bridge reports keypad lines")),
        (
            DEVICE,
            {"type": "keypad_status", "seat": "S001", "online": 1},
            ("bad_message", '"online" has the wrong type'),
        ),
        (SEAT, {"type": "command", "name": "close_sitting"}, ("forbidden", "only the clerk runs the sitting")),
        (DEVICE, {"type": "command", "name": "close_sitting"}, ("forbidden", "only the clerk runs the sitting")),
        (SEAT, {"type": "dance"}, ("unknown_type", "unknown message type 'dance'")),
    ],
)
def test_a_message_out_of_place_is_refused_whole(
    identity: Identity, msg: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert refused(identity, msg) == expected


LINE = {"type": "keypad_line", "line": "bus1", "online": False, "reason": "port_failed", "seats": []}


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        ({**LINE, "line": ""}, '"line" must be 1 to 64 characters'),
        ({**LINE, "line": "b" * 65}, '"line" must be 1 to 64 characters'),
        ({**LINE, "reason": "Port Failed"}, '"reason" is a code such as "port_failed"'),
        ({**LINE, "reason": "x" * 33}, '"reason" is a code such as "port_failed"'),
        ({**LINE, "online": True}, 'a line that is back has no "reason" or "detail"'),
        ({**LINE, "online": True, "reason": "", "detail": "why"}, 'a line that is back has no "reason" or "detail"'),
        ({**LINE, "reason": ""}, '"reason" is required when a line is down'),
        ({**LINE, "detail": "d" * 201}, '"detail" must be at most 200 characters'),
        ({**LINE, "seats": ["S001"] * 2}, '"seats" must list at most 247 different seats'),
        ({**LINE, "seats": [1]}, '"seats" must list at most 247 different seats'),
        ({**LINE, "seats": [f"S{i}" for i in range(248)]}, '"seats" must list at most 247 different seats'),
        ({k: v for k, v in LINE.items() if k != "seats"}, '"seats" is required'),
        ({k: v for k, v in LINE.items() if k != "online"}, '"online" is required'),
    ],
)
def test_a_keypad_line_report_is_checked_whole(msg: dict[str, Any], expected: str) -> None:
    assert refused(DEVICE, msg) == ("bad_message", expected)


def test_a_full_keypad_line_is_accepted() -> None:
    seats = [f"S{i}" for i in range(247)]
    cmd = command(DEVICE, {**LINE, "seats": seats})
    assert isinstance(cmd, c.SetKeypadLine) and cmd.seats == tuple(seats)


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        ({"name": 3}, ("bad_message", '"name" has the wrong type')),
        ({}, ("bad_message", '"name" is required')),
        ({"name": "dissolve"}, ("unknown_command", "no clerk command 'dissolve'")),
        ({"name": "open_ballot"}, ("bad_message", '"ballot" is required')),
        ({"name": "open_ballot", "args": []}, ("bad_message", '"args" has the wrong type')),
        (
            {"name": "open_ballot", "args": {"ballot": "reg1", "countdown": True}},
            ("bad_message", '"countdown" has the wrong type'),
        ),
        (
            {"name": "open_ballot", "args": {"ballot": "reg1", "countdown": "60"}},
            ("bad_message", '"countdown" has the wrong type'),
        ),
        (
            {"name": "open_ballot", "args": {"ballot": "reg1", "f": 1, "e": 2, "d": 3, "c": 4, "b": 5, "a": 6}},
            ("bad_message", "unknown argument(s) 'a', 'b', 'c', 'd', 'e'"),
        ),
        (
            {"name": "set_attendance_many", "args": {"members": [], "status": "present"}},
            ("bad_message", f'"members" must list 1 to {MAX_MEMBERS} member ids'),
        ),
        (
            {"name": "set_attendance_many", "args": {"members": ["m01", 2], "status": "present"}},
            ("bad_message", f'"members" must list 1 to {MAX_MEMBERS} member ids'),
        ),
        (
            {"name": "set_attendance_many", "args": {"members": ["m01"] * (MAX_MEMBERS + 1), "status": "present"}},
            ("bad_message", f'"members" must list 1 to {MAX_MEMBERS} member ids'),
        ),
    ],
)
def test_a_bad_clerk_command_is_refused_whole(msg: dict[str, Any], expected: tuple[str, str]) -> None:
    assert refused(CLERK, {"type": "command", **msg}) == expected


def test_a_full_attendance_list_is_accepted() -> None:
    members = [f"m{i}" for i in range(MAX_MEMBERS)]
    msg = {"type": "command", "name": "set_attendance_many", "args": {"members": members, "status": "present"}}
    assert command(CLERK, msg) == c.SetAttendanceMany(tuple(members), "present")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not valid JSON"),
        ("[1]", 'a message is a JSON object with a string "type"'),
        ('{"type": 1}', 'a message is a JSON object with a string "type"'),
        ("{}", 'a message is a JSON object with a string "type"'),
    ],
)
def test_text_that_is_no_message_is_refused_whole(text: str, expected: str) -> None:
    with pytest.raises(CommandError) as info:
        decode(text)
    assert (info.value.code, info.value.message) == ("bad_message", expected)


def test_a_message_reads_back_as_it_was_written() -> None:
    msg = {"type": "cast", "ballot": "reg1", "choice": {"a": ["赞成", 1.5]}, "key": "k1"}
    assert decode(encode(msg)) == msg
    assert encode({"type": "ok", "text": "赞成"}) == '{"type":"ok","text":"赞成"}'
