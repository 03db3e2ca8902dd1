"""Attendance in bulk (``set_attendance_many``): the clerk marks several members at once —
all or nothing, one decision, so the changes are written in one commit — and the edge
refuses a careless or hostile list with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.errors import CommandError
from server.edge.credentials import Identity
from server.edge.protocol import Resolver
from tests.test_meeting import members, sim


def test_several_members_are_marked_in_one_decision_and_replay_the_same() -> None:
    s = sim(6)
    s.do(c.SetAttendance("m01", "present"))
    events = s.do(c.SetAttendanceMany(tuple(members(1, 4)), "present"))
    # m01 was already present: only the three who change get an event, all in one decision
    assert [(ev.member, ev.status, ev.by) for ev in events if isinstance(ev, e.AttendanceChanged)] == [
        ("m02", "present", "clerk"),
        ("m03", "present", "clerk"),
        ("m04", "present", "clerk"),
    ]
    s.do(c.SetAttendanceMany(("m05", "m06"), "leave"))
    assert s.replay().attendance == s.meeting.attendance
    assert s.meeting.present_count() == 4


def test_one_bad_member_refuses_the_whole_list_and_changes_nothing() -> None:
    s = sim(4)
    before = dict(s.meeting.attendance)
    assert s.refused(c.SetAttendanceMany(("m01", "nobody", "m02"), "present")) == "unknown_member"
    assert s.refused(c.SetAttendanceMany(("m01", "m01"), "present")) == "bad_message"
    assert s.refused(c.SetAttendanceMany(("m01",), "gone")) == "bad_message"
    assert s.meeting.attendance == before


def clerk(msg: dict[str, Any]) -> c.Command:
    return Resolver(Identity("clerk"), {}).command({"type": "command", "name": "set_attendance_many", "args": msg})


@pytest.mark.parametrize(
    "args",
    [
        {"members": [], "status": "present"},
        {"members": ["m01", 7], "status": "present"},
        {"members": "m01", "status": "present"},
        {"members": ["m01"] * 10_001, "status": "present"},
        {"members": ["m01"]},
    ],
)
def test_the_edge_refuses_a_malformed_list(args: dict[str, Any]) -> None:
    with pytest.raises(CommandError) as info:
        clerk(args)
    assert info.value.code == "bad_message"


def test_the_edge_builds_the_command_for_the_clerk_only() -> None:
    assert clerk({"members": ["m01", "m02"], "status": "leave"}) == c.SetAttendanceMany(("m01", "m02"), "leave")
    with pytest.raises(CommandError) as info:
        Resolver(Identity("seat", member="m01", seat="S001"), {}).command(
            {"type": "command", "name": "set_attendance_many", "args": {"members": ["m01"], "status": "present"}}
        )
    assert info.value.code == "forbidden"
