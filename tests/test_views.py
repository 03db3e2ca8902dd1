"""What each role receives: displays never get a secret choice or hidden counts; a seat sees its own vote."""

from __future__ import annotations

import json
from typing import Any

from server.core import commands as c
from server.core import events as e
from server.core.views import (
    attendance_summary,
    ballot_view,
    locked_votes,
    progress,
    seat_scope,
    snapshot,
    visible_event,
)
from tests.test_documents_core import info
from tests.test_meeting import Sim, members, motion, sim

ROLES = ("clerk", "seat", "display", "device")


def ballot_in(snap: dict[str, Any], bid: str) -> dict[str, Any]:
    (view,) = [b for b in snap["ballots"] if b["id"] == bid]
    return view


def secret_sitting() -> tuple[Sim, list[e.Event]]:
    s = sim(6, [motion("sec", secret=True, live_counts=False)])
    s.present(*members(1, 4))
    events = s.do(c.OpenBallot("sec"))
    events += s.cast("m01", "sec", "for")
    events += s.cast("m02", "sec", "against")
    events += s.cast("m03", "sec", "abstain")
    events += s.cast("m01", "sec", "against")  # a change: withdraw + put
    return s, events


def test_no_role_ever_receives_an_urn_event() -> None:
    s, events = secret_sitting()
    urn_events = [ev for ev in events if isinstance(ev, (e.SecretChoice, e.SecretChoiceWithdrawn))]
    assert len(urn_events) == 5
    for ev in urn_events:
        for role in ROLES:
            assert visible_event(ev, role, ["m01", "m02", "m03"], s.meeting) is None


def test_a_display_receives_no_secret_choice_and_no_counts_while_open() -> None:
    s, events = secret_sitting()
    sent = [visible_event(ev, "display", (), s.meeting) for ev in events]
    assert all(msg is None or "choice" not in msg for msg in sent)
    assert not any(msg and msg["name"] == "vote.cast" for msg in sent)  # not even who voted
    run = s.meeting.ballots["sec"]
    assert progress(s.meeting, run) == {"ballot": "sec", "run": 1, "status": "open", "voted": 3, "present": 4}
    view = ballot_in(snapshot(s.meeting, "display"), "sec")
    assert view["voted"] == 3
    assert not {"live", "choices", "voters", "mine", "result"} & set(view)
    s.do(c.CloseBallot("sec"))
    view = ballot_in(snapshot(s.meeting, "display"), "sec")
    assert view["result"]["lines"][0]["counts"] == {"for": 0, "against": 2, "abstain": 1}
    assert "choices" not in view and "voters" not in view


def test_no_snapshot_of_a_secret_ballot_ties_a_member_to_a_choice() -> None:
    s, _ = secret_sitting()
    s.do(c.CloseBallot("sec"))
    for role in ("clerk", "display"):
        view = ballot_in(snapshot(s.meeting, role), "sec")
        assert "choices" not in view and "mine" not in view
    assert ballot_in(snapshot(s.meeting, "clerk"), "sec")["voters"] == ["m01", "m02", "m03"]


def test_live_counts_only_when_the_ballot_shows_them() -> None:
    s = sim(6, [motion("shown", live_counts=True), motion("hidden", live_counts=False)])
    s.present(*members(1, 4))
    for bid in ("shown", "hidden"):
        s.do(c.OpenBallot(bid))
        s.cast("m01", bid, "for")
        s.cast("m02", bid, "against")
        run = s.meeting.ballots[bid]
        prog = progress(s.meeting, run)
        views = {role: ballot_in(snapshot(s.meeting, role, ["m01"]), bid) for role in ROLES}
        if bid == "shown":
            assert prog["live"][0]["counts"] == {"for": 1, "against": 1, "abstain": 0}
            assert views["display"]["live"][0]["counts"] == {"for": 1, "against": 1, "abstain": 0}
        else:
            assert "live" not in prog
            assert all("live" not in v for v in views.values())
        # who voted what stays off the wall until the ballot closes
        assert not {"choices", "voters", "mine"} & set(views["display"])
        s.do(c.CloseBallot(bid))
        closed = ballot_in(snapshot(s.meeting, "display"), bid)
        assert "live" not in closed and "live" not in progress(s.meeting, run)
        assert closed["choices"] == {"m01": "for", "m02": "against"}  # a named ballot publishes at close


def test_a_seat_sees_its_own_vote_only() -> None:
    s = sim(6, [motion("named")])
    s.present(*members(1, 3))
    s.do(c.OpenBallot("named"))
    (mine,) = s.cast("m01", "named", "for")
    (theirs,) = s.cast("m02", "named", "against")
    assert visible_event(mine, "seat", ["m01"], s.meeting)["choice"] == "for"
    assert visible_event(theirs, "seat", ["m01"], s.meeting) is None
    view = ballot_in(snapshot(s.meeting, "seat", ["m01"]), "named")
    assert view["mine"] == {"m01": {"recorded": True, "choice": "for"}}
    assert "voters" not in view and "choices" not in view
    # a keypad bridge sees the seats it serves, and only those
    device = ballot_in(snapshot(s.meeting, "device", ["m02", "m03"]), "named")
    assert device["mine"] == {"m02": {"recorded": True, "choice": "against"}}


def test_a_seat_is_told_its_secret_vote_was_recorded_never_what_it_was() -> None:
    s, _ = secret_sitting()
    assert ballot_in(snapshot(s.meeting, "seat", ["m01"]), "sec")["mine"] == {"m01": {"recorded": True}}
    assert ballot_in(snapshot(s.meeting, "seat", ["m04"]), "sec")["mine"] == {}
    again = s.replay()  # after a restart nobody knows, not even the member's own tablet
    assert ballot_in(snapshot(again, "seat", ["m01"]), "sec")["mine"] == {"m01": {"recorded": True}}
    s.do(c.CloseBallot("sec"))  # closing forgets the link too
    assert ballot_in(snapshot(s.meeting, "seat", ["m01"]), "sec")["mine"] == {"m01": {"recorded": True}}


def test_the_clerk_sees_who_voted_in_the_ballot_view_not_per_vote_events() -> None:
    s, events = secret_sitting()
    casts = [visible_event(ev, "clerk", (), s.meeting) for ev in events if isinstance(ev, e.VoteCast)]
    assert casts == [None] * 4  # a burst of votes is not a burst of messages to the console
    run = s.meeting.ballots["sec"]
    view = ballot_view(s.meeting, run, "clerk", ())
    assert view["voters"] == ["m01", "m02", "m03"] and "mine" not in view


def test_the_opening_event_does_not_carry_the_agenda_and_badge_cards_reach_keypad_bridges_only() -> None:
    first = sim(3, [motion()])
    opening = e.SittingOpened(agenda=dict(first.meeting.agenda.source), at=1.0)
    for role in ROLES:
        assert visible_event(opening, role, (), first.meeting) == {"name": "sitting.opened", "at": 1.0}
    from server.core.agenda import agenda_from_dict
    from tests.support import agenda_data

    data = agenda_data(3, ballots=[motion()])
    data["members"][0]["card"] = "CARD-0007731"
    s = Sim(agenda_from_dict(data))
    for role in ROLES:
        seen = json.dumps(snapshot(s.meeting, role, ["m01"]), ensure_ascii=False)
        if role == "device":  # the bridge maps cards inserted in keypads to members
            assert snapshot(s.meeting, role, ["m01"])["cards"] == {"CARD-0007731": "m01"}
        else:
            assert "CARD-0007731" not in seen, role


def test_attendance_summary_counts_voting_members_only() -> None:
    s = sim(10, [motion()], observers=2)
    s.present("o1", *members(1, 5))
    s.do(c.SetAttendance("m06", "leave", by="clerk"))
    assert attendance_summary(s.meeting) == {
        "seated": 10,
        "present": 5,
        "leave": 1,
        "absent": 4,
        "quorum_met": False,
        "quorum_needed": 6,
    }
    s.present("m07")
    assert attendance_summary(s.meeting)["quorum_met"] is True


def test_a_rerun_shows_the_previous_run() -> None:
    s = sim(5, [motion()])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    first = s.close("b1")
    s.do(c.VoidBallot("b1", reason="wrong text shown"))
    s.do(c.OpenBallot("b1"))
    view = ballot_in(snapshot(s.meeting, "display"), "b1")
    assert (view["run"], view["voted"]) == (2, 0)
    assert view["previous_runs"] == [{"run": 1, "status": "voided", "result": first}]


def test_under_on_announce_the_room_gets_the_urn_digest_with_the_result_not_before() -> None:
    s = sim(4, [motion("sec", secret=True, reveal="on_announce")])
    s.present(*members(1, 3))
    s.do(c.OpenBallot("sec"))
    s.cast("m01", "sec", "for")
    (closed,) = s.do(c.CloseBallot("sec"))
    digest = s.meeting.ballots["sec"].urn_digest
    assert digest and (visible_event(closed, "clerk", (), s.meeting) or {})["urn_digest"] == digest
    for role in ("seat", "display", "device"):
        sent = visible_event(closed, role, ["m01"], s.meeting) or {}
        assert sent["name"] == "ballot.closed" and not {"result", "urn_digest"} & set(sent)
    (announced,) = s.do(c.AnnounceBallot("sec"))
    for role in ("seat", "display", "device"):
        sent = visible_event(announced, role, ["m01"], s.meeting) or {}
        assert sent["urn_digest"] == digest and sent["result"]["voted"] == 1
        assert "choices" not in sent  # a secret ballot has no named list


def test_a_screen_resuming_from_an_old_position_gets_each_runs_own_result() -> None:
    """The announcement of run 1, replayed after run 2 was counted, carries run 1's result."""
    s = sim(4, [motion("a", reveal="on_announce")])
    s.present(*members(1, 4))
    s.do(c.OpenBallot("a"))
    s.cast("m01", "a", "for")
    s.do(c.CloseBallot("a"))
    (announced,) = s.do(c.AnnounceBallot("a"))
    s.do(c.VoidBallot("a", "wrong paper"))
    s.do(c.OpenBallot("a"))
    s.cast("m01", "a", "against")
    s.cast("m02", "a", "against")
    s.do(c.CloseBallot("a"))
    resumed = visible_event(announced, "display", (), s.meeting) or {}
    assert resumed["run"] == 1 and resumed["result"]["voted"] == 1
    assert resumed["choices"] == {"m01": "for"}


def test_a_vote_reaches_the_voters_own_tablet_and_keypad_bridge_only() -> None:
    s = sim(4, [motion()])
    s.present("m01", "m02")
    s.do(c.OpenBallot("b1"))
    (cast,) = s.cast("m01", "b1", "for")
    data = e.to_data(cast)
    assert visible_event(cast, "seat", ["m01"], s.meeting) == data
    assert visible_event(cast, "device", ["m02", "m01"], s.meeting) == data  # the bridge serves m01's keypad
    assert visible_event(cast, "device", ["m02"], s.meeting) is None
    assert visible_event(cast, "seat", ["m02"], s.meeting) is None
    assert visible_event(cast, "clerk", [], s.meeting) is None  # the clerk follows progress instead
    assert visible_event(cast, "display", [], s.meeting) is None


def test_an_ad_hoc_ballot_reaches_each_role_as_that_role_sees_it() -> None:
    s = sim(4, [motion()])
    s.present("m01")
    (created,) = s.do(c.CreateBallot("item1", motion("adhoc")), at=12.5)
    for role in ROLES:
        run = s.meeting.ballots["adhoc"]
        assert visible_event(created, role, ["m01"], s.meeting) == {
            "name": "ballot.created",
            "ballot": ballot_view(s.meeting, run, role, ["m01"]),
            "at": 12.5,
        }
    clerk = visible_event(created, "clerk", [], s.meeting) or {}
    assert clerk["ballot"]["voters"] == []  # the clerk's view, with who voted
    assert "voters" not in (visible_event(created, "display", [], s.meeting) or {})["ballot"]


def test_a_snapshot_has_the_documented_parts_and_uses_the_shared_large_parts_it_is_given() -> None:
    """docs/protocol.md, welcome: every screen reads these keys; the edge passes the parts that
    grow with the members already built (and encoded) once for all connections."""
    s = sim(2)
    s.do(c.SetKeypadStatus("S001", True))
    snap = snapshot(s.meeting, "display")
    assert sorted(snap) == [
        "attendance", "ballots", "closed", "current_item", "documents", "floor", "items", "keypad_lines",
        "keypads", "layout", "meeting", "members", "page", "seq", "summary",
    ]  # fmt: skip
    assert snap["meeting"] == {
        "body": "某市人大常委会",
        "term": "",
        "session": "",
        "title": "常委会第二十三次会议",
        "date": "2026-11-25",
        "language": "zh-CN",
    }
    assert snap["items"] == [
        {"id": "item1", "title": "审议条例草案", "ballots": ["reg1", "reg2", "secret1"], "documents": []}
    ]
    assert (snap["current_item"], snap["keypads"], snap["attendance"]) == (
        "item1",
        {"S001": True},
        {"m01": "absent", "m02": "absent"},
    )
    assert snap["summary"] == attendance_summary(s.meeting)
    shared = {"members": ["prebuilt"], "attendance": {"pre": "built"}, "summary": {"pre": 1}}
    given = snapshot(s.meeting, "seat", ["m01"], large=shared)
    assert (given["members"], given["attendance"], given["summary"]) == (["prebuilt"], {"pre": "built"}, {"pre": 1})


def test_a_ballot_view_names_the_choices_a_keypads_three_keys_send_or_none() -> None:
    s = sim(
        2,
        [
            motion(),
            {
                "id": "el",
                "title": "选举",
                "kind": "election",
                "seats": 1,
                "candidates": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
            },
        ],
    )
    views = {b["id"]: b for b in snapshot(s.meeting, "device", ["m01"])["ballots"]}
    assert views["b1"]["keypad"] == ["for", "against", "abstain"]
    assert views["el"]["keypad"] is None


def test_a_ballot_view_shows_the_close_and_the_digest_of_a_counted_run_and_no_result_once_voided() -> None:
    s = sim(3, [motion("sec", secret=True)])
    s.present("m01")
    s.do(c.OpenBallot("sec"))
    s.cast("m01", "sec", "for")
    s.do(c.CloseBallot("sec"), at=42.0)
    view = ballot_in(snapshot(s.meeting, "clerk"), "sec")
    assert view["closed_at"] == 42.0 and view["urn_digest"] == s.meeting.ballots["sec"].urn_digest != ""
    s.do(c.VoidBallot("sec", "wrong paper"))
    for role in ROLES:
        assert not {"result", "urn_digest"} & set(ballot_in(snapshot(s.meeting, role, ["m01"]), "sec"))


def test_after_a_restart_the_clerk_is_told_only_the_open_secret_ballot_whose_votes_are_locked() -> None:
    s = sim(6, [motion("named"), motion("sec", secret=True), motion("fixed", secret=True, allow_change=False)])
    s.present(*members(1, 5))
    assert locked_votes(s.meeting) == []
    s.do(c.OpenBallot("fixed"))
    s.cast("m01", "fixed", "for")
    s.meeting = s.replay()
    assert locked_votes(s.meeting) == []  # a ballot that forbids changes has nothing to lock
    s.close("fixed")
    s.do(c.OpenBallot("sec"))
    s.cast("m01", "sec", "for")
    s.cast("m02", "sec", "for")
    assert locked_votes(s.meeting) == []  # the process that took them can still change them
    s.meeting = s.replay()
    s.cast("m03", "sec", "for")  # cast after the restart: changeable
    locked = [{"ballot": "sec", "run": 1, "title": "Motion sec", "votes": 2}]
    assert locked_votes(s.meeting) == locked
    s.do(c.HoldBallot("sec"))
    assert locked_votes(s.meeting) == locked  # held is still open
    s.do(c.ResumeBallot("sec"))
    s.close("sec")
    s.do(c.OpenBallot("named"))
    s.cast("m01", "named", "for")
    s.meeting = s.replay()
    # a closed secret ballot and a named one (its choices are in the log) lock nothing
    assert locked_votes(s.meeting) == []


def test_a_members_vote_attendance_and_receipt_reach_only_their_own_seat_and_bridge() -> None:
    """Who receives each event of a sitting live, and the member ``seat_scope`` keeps it to
    (the resume index skips other members' events by it: server/edge/welcome.py)."""
    s = sim(3, [motion("named"), motion("sec", secret=True)])
    s.present("m01", "m02")
    s.do(c.AddDocument(info()))
    s.do(c.RecordReceipt("m02", "d1", "delivered"))
    s.do(c.OpenBallot("named"))
    s.cast("m01", "named", "for")
    s.close("named")
    s.do(c.OpenBallot("sec"))
    s.cast("m02", "sec", "for")
    s.close("sec")
    readers = {
        "clerk": ("clerk", ()),
        "display": ("display", ()),
        "seat m01": ("seat", ("m01",)),
        "seat m02": ("seat", ("m02",)),
        "bridge m01+m03": ("device", ("m01", "m03")),
    }
    everyone = list(readers)
    sent = [
        (ev.NAME, seat_scope(ev), [k for k, (role, ms) in readers.items() if visible_event(ev, role, ms, s.meeting)])
        for _, ev in s.log
    ]
    assert sent == [
        ("sitting.opened", None, everyone),
        ("attendance.changed", "m01", ["clerk", "display", "seat m01", "bridge m01+m03"]),
        ("attendance.changed", "m02", ["clerk", "display", "seat m02"]),
        ("document.added", None, ["clerk", "display", "seat m01", "seat m02"]),  # keypads have no screen
        ("document.receipt", "m02", ["clerk", "seat m02"]),
        ("ballot.opened", None, everyone),
        ("vote.cast", "m01", ["seat m01", "bridge m01+m03"]),
        ("ballot.closed", None, everyone),
        ("ballot.opened", None, everyone),
        ("vote.cast", "m02", ["seat m02"]),
        ("ballot.closed", None, everyone),
    ]
