"""The clerk's steps as the core rules them: countdowns, the current item, further election
rounds, and when the room (tablets, keypads, displays) is given a result."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.errors import AgendaError
from server.core.views import ballot_view, snapshot, visible_event
from tests.support import agenda_data
from tests.test_meeting import T0, Sim, members, motion, sim

ROOM = ("seat", "device", "display")


def ballot_in(snap: dict[str, Any], bid: str) -> dict[str, Any]:
    (view,) = [b for b in snap["ballots"] if b["id"] == bid]
    return view


# -- countdown ------------------------------------------------------------------------------


def test_the_agendas_countdown_applies_unless_the_clerk_opens_without_one() -> None:
    s = sim(5, [motion("a", countdown=60), motion("b", countdown=60), motion("c", countdown=60)])
    s.do(c.OpenBallot("a"), at=T0)
    assert s.meeting.ballots["a"].deadline == T0 + 60  # nothing said: the agenda's
    s.do(c.CloseBallot("a"))
    (opened,) = s.do(c.OpenBallot("b", countdown=0), at=T0)  # the clerk emptied the field
    assert isinstance(opened, e.BallotOpened) and opened.deadline is None
    s.do(c.CloseBallot("b"))
    s.do(c.OpenBallot("c", countdown=90), at=T0)
    assert s.meeting.ballots["c"].deadline == T0 + 90
    s.do(c.CloseBallot("c"))


def test_a_countdown_outside_the_bounds_is_refused_and_zero_is_none() -> None:
    s = sim(5, [motion()])
    for bad in (-5, 1, 4, 3601):
        assert s.refused(c.OpenBallot("b1", countdown=bad)) == "bad_message"
    s.do(c.OpenBallot("b1", countdown=0))
    assert s.meeting.ballots["b1"].deadline is None


# -- the current item -----------------------------------------------------------------------


def two_items() -> Sim:
    data = agenda_data(5)
    data["items"] = [
        {"id": "item1", "title": "一", "ballots": [motion("a")]},
        {"id": "item2", "title": "二", "ballots": [motion("b")]},
    ]
    return Sim(agenda_from_dict(data))


def test_opening_a_ballot_of_another_item_makes_that_item_current() -> None:
    s = two_items()
    assert s.meeting.current_item == "item1"
    events = s.do(c.OpenBallot("b"))
    assert [type(ev) for ev in events] == [e.ItemSelected, e.BallotOpened]
    assert s.meeting.current_item == "item2"
    # every screen hears it, tablets included
    assert visible_event(events[0], "seat", ["m01"], s.meeting) == {"name": "item.selected", "item": "item2", "at": T0}
    s.do(c.CloseBallot("b"))
    assert [type(ev) for ev in s.do(c.OpenBallot("a"))] == [e.ItemSelected, e.BallotOpened]
    s.do(c.CloseBallot("a"))
    s.do(c.VoidBallot("a"))
    assert [type(ev) for ev in s.do(c.OpenBallot("a"))] == [e.BallotOpened]  # already current
    assert s.replay().current_item == "item1"


# -- further rounds -------------------------------------------------------------------------


def election(**kw: Any) -> dict[str, Any]:
    return {
        "id": "el",
        "title": "选举副主任",
        "kind": "election",
        "seats": 1,
        "secret": False,
        "candidates": [{"id": "z", "name": "甲"}, {"id": "a", "name": "乙"}, {"id": "m", "name": "丙"}],
        **kw,
    }


LOW_BAR = {"fraction": "1/3", "cmp": ">=", "base": "cast"}


def test_a_further_round_is_created_once_and_a_second_request_says_it_exists() -> None:
    s = sim(6, [election(rule=LOW_BAR)])
    s.present(*members(1, 6))
    s.do(c.OpenBallot("el"))
    for m, cand in zip(members(1, 6), ["a", "a", "a", "m", "m", "m"]):
        s.cast(m, "el", {cand: "for"})
    s.close("el")
    (created,) = s.do(c.CreateFurtherRound("el"))
    assert isinstance(created, e.BallotCreated) and created.spec["id"] == "el-r2"
    assert [x["id"] for x in created.spec["candidates"]] == ["a", "m"]  # the paper's order
    with pytest.raises(Exception) as info:
        s.do(c.CreateFurtherRound("el"))
    assert getattr(info.value, "code", None) == "bad_state" and "el-r2" in str(info.value)


def test_too_few_elected_keeps_the_papers_order_not_the_vote_order() -> None:
    s = sim(6, [election(seats=2)])
    s.present(*members(1, 6))
    s.do(c.OpenBallot("el"))
    # 丙 (m) gets most votes, 甲 (z) fewest: nobody passes more than half of 6
    for m, paper in zip(members(1, 6), [{"m": "for"}] * 3 + [{"a": "for"}] * 2 + [{"z": "for"}]):
        s.cast(m, "el", paper)
    result = s.close("el")
    assert result["further_round"]["reason"] == "too_few_elected"
    assert [x["id"] for x in result["further_round"]["candidates"]] == ["z", "a", "m"]


def test_a_tied_write_in_becomes_a_candidate_with_a_plain_id_in_the_next_round() -> None:
    s = sim(4, [election(candidates=[{"id": "w1", "name": "甲"}], rule=LOW_BAR)])
    s.present(*members(1, 4))
    s.do(c.OpenBallot("el"))
    s.cast("m01", "el", {"w1": "for"})
    s.cast("m02", "el", {"w1": "for"})
    s.cast("m03", "el", {"w1": {"mark": "against", "write_in": "吴新"}})
    s.cast("m04", "el", {"w1": {"mark": "against", "write_in": "吴新"}})
    result = s.close("el")
    assert result["further_round"]["reason"] == "tie_at_last_seat"
    (created,) = s.do(c.CreateFurtherRound("el"))
    assert created.spec["candidates"] == [{"id": "w1", "name": "甲"}, {"id": "w2", "name": "吴新"}]
    assert created.spec["title"] == "选举副主任（第2轮）" and created.spec["round"] == 2


# -- reveal: when the room sees the result -----------------------------------------------------


def revealed(reveal: str | None = None, meeting_reveal: str | None = None) -> Sim:
    data = agenda_data(4, ballots=[motion("a", **({"reveal": reveal} if reveal else {}))])
    if meeting_reveal:
        data["meeting"]["reveal"] = meeting_reveal
    s = Sim(agenda_from_dict(data))
    s.present(*members(1, 4))
    return s


def test_on_announce_keeps_the_result_from_the_room_until_the_chair_announces() -> None:
    s = revealed("on_announce")
    s.do(c.OpenBallot("a"))
    s.cast("m01", "a", "for")
    s.cast("m02", "a", "against")
    (closed,) = s.do(c.CloseBallot("a"))
    clerk = visible_event(closed, "clerk", (), s.meeting)
    assert clerk is not None and clerk["result"]["lines"][0]["counts"]["for"] == 1
    assert clerk["choices"] == {"m01": "for", "m02": "against"}  # the named list comes with the result
    for role in ROOM:
        sent = visible_event(closed, role, ["m01"], s.meeting)
        assert sent is not None and sent["name"] == "ballot.closed" and "result" not in sent
        view = ballot_in(snapshot(s.meeting, role, ["m01"]), "a")
        assert view["status"] == "closed" and not {"result", "choices", "urn_digest"} & set(view)
        assert view["reveal"] == "on_announce"
    assert "result" in ballot_in(snapshot(s.meeting, "clerk"), "a")
    (announced,) = s.do(c.AnnounceBallot("a"))
    for role in ROOM:
        sent = visible_event(announced, role, ["m01"], s.meeting)
        assert sent is not None and sent["result"]["lines"][0]["counts"] == {"for": 1, "against": 1, "abstain": 0}
        assert sent["choices"] == {"m01": "for", "m02": "against"}
        view = ballot_in(snapshot(s.meeting, role, ["m01"]), "a")
        assert view["result"]["verdict"] == "failed" and view["choices"] == {"m01": "for", "m02": "against"}
    # a screen resuming from before the close gets the same: a bare close, then the result
    replayed = [visible_event(ev, "display", (), s.meeting) for _, ev in s.log[-2:]]
    assert [("result" in x) for x in replayed if x] == [False, True]


def test_on_close_is_the_default_and_shows_the_result_at_once() -> None:
    s = revealed()
    s.do(c.OpenBallot("a"))
    s.cast("m01", "a", "for")
    (closed,) = s.do(c.CloseBallot("a"))
    for role in ROOM:
        assert "result" in (visible_event(closed, role, ["m01"], s.meeting) or {})
        assert (visible_event(closed, role, ["m01"], s.meeting) or {})["choices"] == {"m01": "for"}
        assert "result" in ballot_in(snapshot(s.meeting, role, ["m01"]), "a")
    (announced,) = s.do(c.AnnounceBallot("a"))
    assert "result" not in (visible_event(announced, "display", (), s.meeting) or {})


def test_the_meeting_sets_the_default_and_a_ballot_may_differ() -> None:
    s = revealed(meeting_reveal="on_announce")
    assert s.meeting.ballots["a"].spec.reveal == "on_announce"
    s = revealed("on_close", meeting_reveal="on_announce")
    assert s.meeting.ballots["a"].spec.reveal == "on_close"
    with pytest.raises(AgendaError) as info:
        revealed("at_once")
    assert "items[0].ballots[0].reveal: must be one of on_close, on_announce, not 'at_once'" in info.value.problems
    with pytest.raises(AgendaError) as info:
        revealed(meeting_reveal="later")
    assert any(p.startswith("meeting.reveal: must be one of") for p in info.value.problems)


def test_a_voided_run_never_announced_stays_unseen_by_the_room() -> None:
    s = revealed("on_announce")
    s.do(c.OpenBallot("a"))
    s.cast("m01", "a", "for")
    s.do(c.CloseBallot("a"))
    s.do(c.VoidBallot("a", "wrong paper"))
    s.do(c.OpenBallot("a"))
    run = s.meeting.ballots["a"]
    assert ballot_view(s.meeting, run, "display", ())["previous_runs"] == [
        {"run": 1, "status": "voided", "result": None}
    ]
    assert ballot_view(s.meeting, run, "clerk", ())["previous_runs"][0]["result"]["voted"] == 1
