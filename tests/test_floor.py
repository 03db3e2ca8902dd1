"""The floor in the pure core: requests, queue order and priority, grants, limits, totals,
and the same floor after a replay of the log."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.errors import AgendaError
from server.core.floor import totals
from server.core.views import snapshot
from tests.support import agenda_data
from tests.test_meeting import T0, Sim


def floor_agenda(**speaking: Any) -> dict[str, Any]:
    data = agenda_data(8)
    for i, m in enumerate(data["members"]):
        m["group"] = "甲组" if i % 2 == 0 else "乙组"
    data["meeting"]["speaking"] = {"normal": 300, "point_of_order": 60, "reply": 120, "warning": 30, **speaking}
    data["items"].append({"id": "item2", "title": "专题询问", "speaking": {"normal": 600, "warning": 60}})
    return data


@pytest.fixture
def sim() -> Sim:
    s = Sim(agenda_from_dict(floor_agenda()))
    s.present("m01", "m02", "m03", "m04", "m05", "m06")
    return s


def queue(sim: Sim, item: str = "item1") -> list[tuple[str, str]]:
    return [(r.member, r.kind) for r in sim.meeting.floor.queue(item)]


def test_requests_are_first_come_first_served(sim: Sim) -> None:
    for m in ("m03", "m01", "m02"):
        sim.do(c.RequestFloor(m))
    assert [m for m, _ in queue(sim)] == ["m03", "m01", "m02"]


def test_a_point_of_order_goes_ahead_and_a_reply_ahead_of_ordinary_requests(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.RequestFloor("m02"))
    sim.do(c.RequestFloor("m03", "reply"))
    sim.do(c.RequestFloor("m04", "point_of_order"))
    sim.do(c.RequestFloor("m05", "reply"))
    sim.do(c.RequestFloor("m06", "point_of_order"))
    assert queue(sim) == [
        ("m04", "point_of_order"),
        ("m06", "point_of_order"),
        ("m03", "reply"),
        ("m05", "reply"),
        ("m01", "normal"),
        ("m02", "normal"),
    ]


def test_the_clerk_inserts_moves_and_strikes(sim: Sim) -> None:
    for m in ("m01", "m02", "m03"):
        sim.do(c.RequestFloor(m))
    # the clerk adds someone not checked in, at the head
    (ev,) = sim.do(c.RequestFloor("m08", by="clerk", position=0))
    assert isinstance(ev, e.SpeakerRequested) and ev.by == "clerk"
    sim.do(c.MoveSpeaker("m03", 1))
    assert [m for m, _ in queue(sim)] == ["m08", "m03", "m01", "m02"]
    assert sim.do(c.MoveSpeaker("m03", 1)) == []  # already there: nothing happens
    sim.do(c.RemoveSpeaker("m01"))
    assert [m for m, _ in queue(sim)] == ["m08", "m03", "m02"]
    assert sim.refused(c.MoveSpeaker("m02", 3)) == "bad_message"
    assert sim.refused(c.RequestFloor("m04", by="clerk", position=9)) == "bad_message"
    sim.do(c.ClearSpeakers())
    assert queue(sim) == []


def test_requests_refused_change_nothing(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    before = len(sim.log)
    assert sim.refused(c.RequestFloor("m01")) == "already_queued"
    assert sim.refused(c.RequestFloor("m07")) == "not_checked_in"
    assert sim.refused(c.RequestFloor("nobody", by="clerk")) == "unknown_member"
    assert sim.refused(c.RequestFloor("m02", "filibuster")) == "bad_message"
    assert sim.refused(c.WithdrawFloor("m02")) == "not_queued"
    assert sim.refused(c.EndFloor()) == "nobody_speaking"
    assert sim.refused(c.GrantFloor("m09")) == "unknown_member"
    assert len(sim.log) == before
    sim.do(c.WithdrawFloor("m01"))
    assert queue(sim) == []
    assert sim.refused(c.GrantFloor()) == "queue_empty"


def test_grant_takes_the_head_ends_the_previous_speech_and_applies_the_limit(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.RequestFloor("m02", "point_of_order"))
    (granted,) = sim.do(c.GrantFloor(), at=T0 + 10)
    assert isinstance(granted, e.SpeakerGranted)
    assert (granted.member, granted.kind, granted.limit, granted.warning) == ("m02", "point_of_order", 60, 30)
    assert sim.refused(c.RequestFloor("m02")) == "bad_state"  # has the floor
    assert sim.refused(c.GrantFloor("m02")) == "bad_state"
    ended, granted = sim.do(c.GrantFloor(), at=T0 + 85.5)
    assert isinstance(ended, e.SpeakerEnded) and (ended.member, ended.seconds) == ("m02", 75.5)
    assert isinstance(granted, e.SpeakerGranted) and (granted.member, granted.limit) == ("m01", 300)
    (ended,) = sim.do(c.EndFloor(), at=T0 + 400)
    assert isinstance(ended, e.SpeakerEnded) and ended.seconds == 314.5
    assert sim.meeting.floor.speaker is None


def test_limits_come_from_the_item_then_the_sitting(sim: Sim) -> None:
    sim.do(c.SelectItem("item2"))
    (granted,) = sim.do(c.GrantFloor("m05"))  # not queued: the clerk gives the floor directly
    assert isinstance(granted, e.SpeakerGranted)
    assert (granted.item, granted.kind, granted.limit, granted.warning) == ("item2", "normal", 600, 60)
    _, reply = sim.do(c.GrantFloor("m06", "reply"))
    assert isinstance(reply, e.SpeakerGranted) and (reply.limit, reply.warning) == (120, 60)


def test_no_limit_when_the_agenda_gives_none() -> None:
    sim = Sim(agenda_from_dict(agenda_data(3)))
    (granted,) = sim.do(c.GrantFloor("m01"))
    assert isinstance(granted, e.SpeakerGranted) and (granted.limit, granted.warning) == (None, 0)


def test_queues_belong_to_their_item(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.SelectItem("item2"))
    sim.do(c.RequestFloor("m02"))
    assert queue(sim, "item1") == [("m01", "normal")]
    assert queue(sim, "item2") == [("m02", "normal")]
    assert sim.refused(c.WithdrawFloor("m01")) == "not_queued"  # not on this item


def test_totals_per_member_and_group_per_item_and_sitting(sim: Sim) -> None:
    sim.do(c.GrantFloor("m01"), at=T0)
    sim.do(c.GrantFloor("m03"), at=T0 + 100)  # m01 spoke 100 s
    sim.do(c.GrantFloor("m02"), at=T0 + 130)  # m03 spoke 30 s
    sim.do(c.SelectItem("item2"))
    sim.do(c.GrantFloor("m01"), at=T0 + 200)  # m02 spoke 70 s on item1
    sim.do(c.EndFloor(), at=T0 + 250)  # m01 spoke 50 s on item2
    t = totals(sim.meeting.floor, sim.meeting.agenda)
    assert t["members"]["m01"] == {"seconds": 150.0, "speeches": 2}
    assert t["groups"] == {"甲组": {"seconds": 180.0, "speeches": 3}, "乙组": {"seconds": 70.0, "speeches": 1}}
    assert t["items"]["item1"]["members"]["m01"] == {"seconds": 100.0, "speeches": 1}
    assert t["items"]["item2"]["groups"] == {"甲组": {"seconds": 50.0, "speeches": 1}}


def test_closing_the_sitting_ends_the_speech(sim: Sim) -> None:
    sim.do(c.GrantFloor("m01"), at=T0)
    events = sim.do(c.CloseSitting(), at=T0 + 42)
    assert isinstance(events[0], e.SpeakerEnded) and events[0].seconds == 42.0
    assert isinstance(events[-1], e.SittingClosed)
    assert sim.meeting.floor.speaker is None


def test_replay_reaches_the_same_floor(sim: Sim) -> None:
    for m in ("m01", "m02", "m03", "m04"):
        sim.do(c.RequestFloor(m))
    sim.do(c.RequestFloor("m05", "point_of_order"))
    sim.do(c.MoveSpeaker("m04", 1))
    sim.do(c.GrantFloor(), at=T0 + 5)
    sim.do(c.GrantFloor(), at=T0 + 65)
    sim.do(c.WithdrawFloor("m02"))
    again = sim.replay()
    assert again.floor == sim.meeting.floor
    assert snapshot(again, "clerk")["floor"] == snapshot(sim.meeting, "clerk")["floor"]


def test_views_the_queue_for_all_and_totals_for_the_clerk_and_displays(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.GrantFloor("m02"), at=T0 + 1)
    seat = snapshot(sim.meeting, "seat", ["m03"])["floor"]
    assert seat["queues"]["item1"][0]["member"] == "m01"
    assert seat["speaker"]["member"] == "m02" and seat["speaker"]["limit"] == 300
    assert "totals" not in seat
    assert "totals" in snapshot(sim.meeting, "display")["floor"]


@pytest.mark.parametrize(
    ("speaking", "problem"),
    [
        ({"normal": -1}, "meeting.speaking.normal"),
        ({"normal": 10**9}, "meeting.speaking.normal"),
        ({"warning": 601}, "meeting.speaking.warning"),
        ({"normal": True}, "meeting.speaking.normal"),
        ({"filibuster": 3}, "meeting.speaking.filibuster"),
    ],
)
def test_agenda_limits_are_bounded_numbers(speaking: dict[str, Any], problem: str) -> None:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(floor_agenda(**speaking))
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_a_priority_request_respects_an_order_the_clerk_set(sim: Sim) -> None:
    sim.do(c.RequestFloor("m01"))
    sim.do(c.RequestFloor("m02"))
    sim.do(c.MoveSpeaker("m02", 0))
    sim.do(c.RequestFloor("m03", "reply"))
    sim.do(c.RequestFloor("m04", "point_of_order"))
    assert [m for m, _ in queue(sim)] == ["m04", "m03", "m02", "m01"]
