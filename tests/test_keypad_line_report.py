"""The server's side of a keypad line report (``keypad_line``, docs/protocol.md): the edge
refuses bad reports with a clear error, the core keeps one state per line (a repeated
report changes nothing), the record replays to the same state, and the snapshot hands it
to the clerk's console."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.errors import CommandError
from server.core.views import snapshot
from server.edge.credentials import Identity
from server.edge.protocol import Resolver
from tests.support import agenda_data
from tests.test_meeting import Sim

T0 = 1_000_000.0
DOWN = {
    "type": "keypad_line",
    "line": "east",
    "online": False,
    "reason": "port_failed",
    "detail": "[Errno 111] Connection refused",
    "seats": ["S001", "S002", "S003"],
}


def resolve(msg: dict[str, Any], role: str = "device") -> c.Command:
    return Resolver(Identity(role), {}).command(msg)


def refusal(msg: dict[str, Any], role: str = "device") -> tuple[str, str]:
    with pytest.raises(CommandError) as info:
        resolve(msg, role)
    return info.value.code, str(info.value)


def test_the_edge_takes_a_line_report_from_a_keypad_bridge_only() -> None:
    assert resolve(DOWN) == c.SetKeypadLine(
        "east", False, "port_failed", "[Errno 111] Connection refused", ("S001", "S002", "S003")
    )
    back = {"type": "keypad_line", "line": "east", "online": True, "seats": ["S001"]}
    assert resolve(back) == c.SetKeypadLine("east", True, "", "", ("S001",))
    assert refusal(DOWN, role="clerk")[0] == "forbidden"
    assert refusal(DOWN, role="seat")[0] == "forbidden"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"line": ""}, '"line" must be 1 to 64'),
        ({"line": "x" * 65}, '"line" must be 1 to 64'),
        ({"online": "no"}, '"online" has the wrong type'),
        ({"reason": "Port Failed!"}, '"reason" is a code'),
        ({"reason": ""}, '"reason" is required when a line is down'),
        ({"online": True}, "a line that is back has no"),
        ({"detail": "e" * 201}, '"detail" must be at most 200'),
        ({"seats": ["S001", "S001"]}, '"seats" must list at most 247 different seats'),
        ({"seats": [f"S{i}" for i in range(248)]}, '"seats" must list at most 247'),
        ({"seats": [1]}, '"seats" must list'),
        ({"seats": "S001"}, '"seats" has the wrong type'),
    ],
)
def test_a_bad_line_report_gets_a_clear_error(change: dict[str, Any], says: str) -> None:
    code, message = refusal({**DOWN, **change})
    assert code == "bad_message" and says in message


def test_the_core_keeps_one_state_per_line_and_replays_it() -> None:
    s = Sim(agenda_from_dict(agenda_data(6)), T0)  # driven as the sitting drives it (tests/test_meeting.py)
    meeting, do = s.meeting, s.do
    down = resolve(DOWN)
    assert [type(ev) for ev in do(down)] == [e.KeypadLineChanged]
    assert do(down) == []  # the same report again: nothing new for the record or the clerk
    with pytest.raises(CommandError) as info:
        do(c.SetKeypadLine("west", False, "no_answer", "", ("S001", "Z99")))
    assert info.value.code == "unknown_seat"
    (changed,) = do(c.SetKeypadLine("east", True, "", "", ("S001", "S002", "S003")))
    assert e.to_data(changed) == {
        "name": "keypad.line",
        "line": "east",
        "online": True,
        "reason": "",
        "detail": "",
        "seats": ["S001", "S002", "S003"],
        "at": changed.at,
    }
    do(down)
    view = snapshot(meeting, "clerk")["keypad_lines"]
    assert view == {
        "east": {
            "online": False,
            "reason": "port_failed",
            "detail": "[Errno 111] Connection refused",
            "seats": ["S001", "S002", "S003"],
        }
    }
    assert snapshot(s.replay(), "clerk")["keypad_lines"] == view  # restart = replay of the stored form
