"""The floor's refusals, events and records compared whole (server/core/floor.py).

A clerk reads each refusal; the record keeps each event with its time; the speaking-time
totals and the screens read each finished speech. tests/test_floor.py shows the floor
working; these pin what mutation testing found nobody compared: the messages, the times the
events carry, the speeches as recorded and where each limit and warning comes from.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.errors import AgendaError, CommandError
from server.core.floor import Request, Speech, Turn, floor_view, totals
from tests.support import agenda_data
from tests.test_floor import floor_agenda
from tests.test_meeting import T0, Sim


@pytest.fixture
def sim() -> Sim:
    s = Sim(agenda_from_dict(floor_agenda()))
    s.present("m01", "m02", "m03")
    return s


def refusal(sim: Sim, command: c.Command) -> tuple[str, str]:
    before = (len(sim.log), sim.meeting.floor.queues.copy(), sim.meeting.floor.speaker)
    with pytest.raises(CommandError) as info:
        sim.do(command)
    assert (len(sim.log), sim.meeting.floor.queues, sim.meeting.floor.speaker) == before  # nothing changed
    return info.value.code, info.value.message


def test_every_refusal_reads_whole(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    assert refusal(sim, c.RequestFloor("m01")) == (
        "already_queued",
        "this member is already waiting to speak on this item",
    )
    assert refusal(sim, c.RequestFloor("m07")) == ("not_checked_in", "check in before asking to speak")
    assert refusal(sim, c.RequestFloor("x" * 60, by="clerk")) == ("unknown_member", f"no member '{'x' * 40}…'")
    assert refusal(sim, c.RequestFloor("m02", "filibuster")) == (
        "bad_message",
        "kind must be one of normal, point_of_order, reply",
    )
    assert refusal(sim, c.RequestFloor("m02", by="clerk", position=2)) == (
        "bad_message",
        "position must be between 0 and 1",
    )
    assert refusal(sim, c.RequestFloor("m02", by="clerk", position=-1)) == (
        "bad_message",
        "position must be between 0 and 1",
    )
    assert refusal(sim, c.WithdrawFloor("m02")) == ("not_queued", "'m02' is not waiting to speak on this item")
    assert refusal(sim, c.RemoveSpeaker("m03")) == ("not_queued", "'m03' is not waiting to speak on this item")
    assert refusal(sim, c.MoveSpeaker("m01", 1)) == ("bad_message", "position must be between 0 and 0")
    assert refusal(sim, c.MoveSpeaker("m01", -1)) == ("bad_message", "position must be between 0 and 0")
    assert refusal(sim, c.EndFloor()) == ("nobody_speaking", "nobody has the floor")
    assert refusal(sim, c.GrantFloor("m09")) == ("unknown_member", "no member 'm09'")
    assert refusal(sim, c.GrantFloor("m02", "filibuster")) == (
        "bad_message",
        "kind must be one of normal, point_of_order, reply",
    )
    sim.do(c.GrantFloor("m02"))
    assert refusal(sim, c.GrantFloor("m02")) == ("bad_state", "this member already has the floor")
    assert refusal(sim, c.RequestFloor("m02")) == ("bad_state", "this member has the floor")
    sim.do(c.GrantFloor())  # m01, the queue's head
    assert refusal(sim, c.GrantFloor()) == ("queue_empty", "nobody is waiting to speak on this item")


def test_without_a_current_item_nobody_can_ask_to_speak() -> None:
    data = agenda_data(3)
    data["items"] = []
    sim = Sim(agenda_from_dict(data))
    sim.present("m01")
    assert refusal(sim, c.RequestFloor("m01")) == ("unknown_item", "the sitting has no current item to speak on")


def test_each_floor_event_carries_the_time_of_its_command(sim: Sim) -> None:
    assert sim.do(c.RequestFloor("m01"), at=T0 + 1) == [e.SpeakerRequested("item1", "m01", "normal", "self", 0, T0 + 1)]
    assert sim.do(c.RequestFloor("m02", "reply", by="keypad"), at=T0 + 2) == [
        e.SpeakerRequested("item1", "m02", "reply", "keypad", 0, T0 + 2)
    ]
    assert sim.do(c.RequestFloor("m03"), at=T0 + 3) == [e.SpeakerRequested("item1", "m03", "normal", "self", 2, T0 + 3)]
    assert sim.do(c.MoveSpeaker("m03", 0), at=T0 + 4) == [e.SpeakerMoved("item1", "m03", 0, T0 + 4)]
    assert sim.do(c.RemoveSpeaker("m01"), at=T0 + 5) == [e.SpeakerRemoved("item1", "m01", T0 + 5)]
    assert sim.do(c.WithdrawFloor("m02"), at=T0 + 6) == [e.SpeakerWithdrawn("item1", "m02", T0 + 6)]
    assert sim.do(c.GrantFloor(), at=T0 + 7) == [e.SpeakerGranted("item1", "m03", "normal", T0 + 7, 300, 30)]
    assert sim.do(c.EndFloor(), at=T0 + 8.25) == [e.SpeakerEnded("item1", "m03", T0 + 8.25, 1.25)]
    sim.do(c.RequestFloor("m01"))
    assert sim.do(c.ClearSpeakers(), at=T0 + 9) == [e.SpeakersCleared("item1", T0 + 9)]
    assert sim.meeting.floor.queues.get("item1", []) == []
    assert sim.do(c.ClearSpeakers(), at=T0 + 10) == []  # an empty queue: nothing to record


def test_clearing_one_items_queue_leaves_the_others(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.SelectItem("item2"))
    sim.do(c.RequestFloor("m02"))
    sim.do(c.ClearSpeakers())
    assert [r.member for r in sim.meeting.floor.queue("item1")] == ["m01"]
    assert sim.meeting.floor.queue("item2") == []


def test_the_speaker_and_the_finished_speeches_are_recorded_whole(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01", "point_of_order"))
    sim.do(c.GrantFloor(), at=T0 + 10)
    assert sim.meeting.floor.speaker == Turn("item1", "m01", "point_of_order", T0 + 10, 60, 30)
    sim.do(c.GrantFloor("m02", "reply"), at=T0 + 40)
    assert sim.meeting.floor.speaker == Turn("item1", "m02", "reply", T0 + 40, 120, 30)
    sim.do(c.EndFloor(), at=T0 + 50.5)
    assert sim.meeting.floor.speeches == [
        Speech("item1", "m01", "point_of_order", T0 + 10, 30.0, 60),
        Speech("item1", "m02", "reply", T0 + 40, 10.5, 120),
    ]
    assert sim.replay().floor == sim.meeting.floor


def test_a_grant_takes_the_kind_the_member_asked_for_unless_the_clerk_names_one(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01", "reply"))
    sim.do(c.RequestFloor("m02", "reply"))
    (granted,) = sim.do(c.GrantFloor("m02"))
    assert granted == e.SpeakerGranted("item1", "m02", "reply", T0, 120, 30)
    _, granted = sim.do(c.GrantFloor("m01", "point_of_order"))
    assert granted == e.SpeakerGranted("item1", "m01", "point_of_order", T0, 60, 30)
    _, granted = sim.do(c.GrantFloor("m03"))  # not queued: an ordinary speech
    assert granted == e.SpeakerGranted("item1", "m03", "normal", T0, 300, 30)


def limits(meeting: dict[str, Any] | None, item: dict[str, Any] | None, kind: str) -> tuple[int | None, int]:
    data = agenda_data(3)
    if meeting is not None:
        data["meeting"]["speaking"] = meeting
    if item is not None:
        data["items"][0]["speaking"] = item
    sim = Sim(agenda_from_dict(data))
    return sim.meeting.floor.limits(sim.meeting.agenda, "item1", kind)


@pytest.mark.parametrize(
    ("meeting", "item", "kind", "expected"),
    [
        (None, None, "normal", (None, 0)),  # no table: no limit, no warning
        ({"normal": 300}, None, "normal", (300, 30)),  # the default warning
        ({"normal": 300}, None, "reply", (None, 0)),  # a kind the table does not name
        ({"normal": 300, "warning": 45}, None, "normal", (300, 45)),
        ({"normal": 20}, None, "normal", (20, 20)),  # the warning never exceeds the limit
        ({"normal": 300, "warning": 45}, {"normal": 600}, "normal", (600, 45)),  # the item's limit
        ({"normal": 300, "warning": 45}, {"warning": 10}, "normal", (300, 10)),  # the item's warning
        ({"normal": 300}, {"normal": 0}, "normal", (None, 0)),  # the item lifts the limit
        (None, {"reply": 90}, "reply", (90, 30)),
    ],
)
def test_where_a_limit_and_its_warning_come_from(
    meeting: dict[str, Any] | None, item: dict[str, Any] | None, kind: str, expected: tuple[int | None, int]
) -> None:
    assert limits(meeting, item, kind) == expected


def test_an_item_the_agenda_does_not_list_gets_the_sittings_limits(sim: Sim) -> None:
    assert sim.meeting.floor.limits(sim.meeting.agenda, "nowhere", "reply") == (120, 30)


@pytest.mark.parametrize(
    ("speaking", "problems"),
    [
        ({"normal": -1}, ["meeting.speaking.normal: must be a whole number of seconds from 0 to 7200, not -1"]),
        ({"normal": 7201}, ["meeting.speaking.normal: must be a whole number of seconds from 0 to 7200, not 7201"]),
        ({"warning": 601}, ["meeting.speaking.warning: must be a whole number of seconds from 0 to 600, not 601"]),
        ({"reply": 1.5}, ["meeting.speaking.reply: must be a whole number of seconds from 0 to 7200"]),
        (
            {"normal": True, "warning": -2},
            [
                "meeting.speaking.normal: must be a whole number of seconds from 0 to 7200",
                "meeting.speaking.warning: must be a whole number of seconds from 0 to 600, not -2",
            ],
        ),
    ],
)
def test_agenda_speaking_problems_read_whole(speaking: dict[str, Any], problems: list[str]) -> None:
    data = agenda_data(3)
    data["meeting"]["speaking"] = speaking
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    assert info.value.problems == problems


def test_an_items_speaking_problems_name_the_item() -> None:
    data = agenda_data(3)
    data["items"][0]["speaking"] = {"point_of_order": 7201}
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    assert info.value.problems == [
        "items[0].speaking.point_of_order: must be a whole number of seconds from 0 to 7200, not 7201"
    ]


def test_the_limits_at_their_edges_are_accepted() -> None:
    assert limits({"normal": 7200, "warning": 600}, None, "normal") == (7200, 600)
    assert limits({"normal": 0, "warning": 0}, None, "normal") == (None, 0)


def test_the_clerk_may_move_a_speaker_to_the_last_place(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.RequestFloor("m02"))
    assert sim.do(c.MoveSpeaker("m01", 1), at=T0 + 3) == [e.SpeakerMoved("item1", "m01", 1, T0 + 3)]
    assert [r.member for r in sim.meeting.floor.queue("item1")] == ["m02", "m01"]
    assert refusal(sim, c.MoveSpeaker("m01", 2)) == ("bad_message", "position must be between 0 and 1")


def test_a_speech_is_timed_to_the_millisecond_and_never_negative(sim: Sim) -> None:
    sim.do(c.GrantFloor("m01"), at=T0 + 10)
    assert sim.do(c.EndFloor(), at=T0 + 10.5) == [e.SpeakerEnded("item1", "m01", T0 + 10.5, 0.5)]
    sim.do(c.GrantFloor("m02"), at=T0 + 20)
    assert sim.do(c.EndFloor(), at=T0 + 21.23456) == [e.SpeakerEnded("item1", "m02", T0 + 21.23456, 1.235)]
    sim.do(c.GrantFloor("m03"), at=T0 + 30)
    # a receive time before the grant's (clocks are never perfect): no negative speech
    assert sim.do(c.EndFloor(), at=T0 + 29) == [e.SpeakerEnded("item1", "m03", T0 + 29, 0.0)]


def test_a_queued_request_keeps_who_asked_and_when(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01", by="keypad"), at=T0 + 1)
    sim.do(c.RequestFloor("m07", "reply", by="clerk"), at=T0 + 2)
    assert sim.meeting.floor.queue("item1") == [
        Request("m07", "reply", "clerk", T0 + 2),
        Request("m01", "normal", "keypad", T0 + 1),
    ]


def test_speaking_totals_add_fractions_of_a_second(sim: Sim) -> None:
    sim.do(c.GrantFloor("m01"), at=T0)
    sim.do(c.GrantFloor("m03"), at=T0 + 0.25)
    sim.do(c.GrantFloor("m01"), at=T0 + 0.5)
    sim.do(c.EndFloor(), at=T0 + 0.875)
    t = totals(sim.meeting.floor, sim.meeting.agenda)
    assert t["members"] == {"m01": {"seconds": 0.625, "speeches": 2}, "m03": {"seconds": 0.25, "speeches": 1}}
    assert t["groups"] == {"甲组": {"seconds": 0.875, "speeches": 3}}


def test_the_floor_as_each_screen_receives_it_whole(sim: Sim) -> None:
    assert floor_view(sim.meeting.floor, sim.meeting.agenda, "seat") == {"queues": {}, "speaker": None}
    sim.do(c.RequestFloor("m01", "reply"), at=T0 + 1)
    sim.do(c.RequestFloor("m03"), at=T0 + 2)
    sim.do(c.GrantFloor("m02"), at=T0 + 3)
    seat = floor_view(sim.meeting.floor, sim.meeting.agenda, "seat")
    assert seat == {
        "queues": {
            "item1": [
                {"member": "m01", "kind": "reply", "by": "self", "at": T0 + 1},
                {"member": "m03", "kind": "normal", "by": "self", "at": T0 + 2},
            ]
        },
        "speaker": {"item": "item1", "member": "m02", "kind": "normal", "since": T0 + 3, "limit": 300, "warning": 30},
    }
    sim.do(c.EndFloor(), at=T0 + 5)
    clerk = floor_view(sim.meeting.floor, sim.meeting.agenda, "clerk")
    assert clerk == {
        "queues": seat["queues"],
        "speaker": None,
        "totals": totals(sim.meeting.floor, sim.meeting.agenda),
    }
    assert clerk["totals"]["members"] == {"m02": {"seconds": 2.0, "speeches": 1}}
    assert floor_view(sim.meeting.floor, sim.meeting.agenda, "display") == clerk
