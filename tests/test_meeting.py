"""The pure meeting state machine: decide -> apply, without an event loop or a store.

``Sim`` drives a Meeting the way the sitting does — decide, number and split the events
with the core's Ledger, apply them — and keeps what a store would (the log, the urn rows)
so a test can replay it like a restart would.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import Agenda, agenda_from_dict
from server.core.chain import LogEntry
from server.core.errors import AgendaError, CommandError
from server.core.ledger import Ledger, UrnEntry, Written
from server.core.meeting import Meeting
from tests.support import agenda_data, make_agenda

T0 = 1_000_000.0


class Sim:
    """A Meeting plus its log and urn, as a store would hold them."""

    def __init__(self, agenda: Agenda, now: float = T0) -> None:
        self.now = now
        self.meeting = Meeting(agenda)
        self.ledger = Ledger()
        self.log: list[tuple[int, e.Event]] = []
        self.entries: list[LogEntry] = []  # the log as stored: numbered and chained
        self.urn: dict[str, UrnEntry] = {}  # entry -> the stored row
        self._entries = itertools.count(1)
        self._keys = itertools.count(1)
        self._commit(Meeting.opening_events(agenda, now))

    def _draw(self) -> str:
        return f"entry{next(self._entries):04d}"

    def _commit(self, events: list[e.Event]) -> None:
        written = Written()
        numbered = self.ledger.write(events, written)
        self.entries += written.entries
        for seq, ev in numbered:
            self.meeting.apply(ev, seq)
            if seq is not None:
                self.log.append((seq, ev))
        for drop in written.urn_drops:
            del self.urn[drop]
        for put in written.urn_puts:
            self.urn[put.entry] = put

    def do(self, command: c.Command, at: float | None = None) -> list[e.Event]:
        decision = self.meeting.decide(command, self.now if at is None else at, self._draw)
        self._commit(list(decision.events))
        return list(decision.events)

    def refused(self, command: c.Command, at: float | None = None) -> str:
        with pytest.raises(CommandError) as info:
            self.do(command, at)
        return info.value.code

    # conveniences ---------------------------------------------------------------------
    def present(self, *members: str) -> None:
        for m in members:
            self.do(c.SetAttendance(m, "present"))

    def cast(self, member: str, ballot: str, choice: Any, at: float | None = None) -> list[e.Event]:
        return self.do(c.Cast(member, ballot, choice, f"k{next(self._keys)}"), at)

    def cast_refused(self, member: str, ballot: str, choice: Any, at: float | None = None) -> str:
        return self.refused(c.Cast(member, ballot, choice, f"k{next(self._keys)}"), at)

    def vote(self, ballot: str, plan: dict[str, int], start: int = 1) -> None:
        """Cast ``plan`` = {"for": n, ...} by members m<start>, m<start+1>, ... in order."""
        n = start
        for choice, count in plan.items():
            for _ in range(count):
                self.cast(mid(n), ballot, choice)
                n += 1

    def close(self, ballot: str) -> dict[str, Any]:
        (closed,) = self.do(c.CloseBallot(ballot))
        assert isinstance(closed, e.BallotClosed)
        return closed.result

    def replay(self) -> Meeting:
        """A new Meeting fed only what a store keeps: the logged events and the urn rows."""
        (_, opening), *rest = self.log
        again = Meeting.from_opening(e.from_data(e.to_data(opening)))
        for seq, ev in rest:
            again.apply(e.from_data(e.to_data(ev)), seq)
        for row in self.urn.values():
            again.apply(e.SecretChoice(row.ballot, row.run, row.entry, json.loads(row.choice)))
        return again


def mid(n: int) -> str:
    return f"m{n:02d}"


def members(a: int, b: int) -> list[str]:
    return [mid(n) for n in range(a, b + 1)]


def sim(n: int = 41, ballots: list[dict[str, Any]] | None = None, **kw: Any) -> Sim:
    return Sim(make_agenda(n, ballots=ballots, **kw) if ballots is not None else make_agenda(n, **kw))


def motion(bid: str = "b1", **kw: Any) -> dict[str, Any]:
    return {"id": bid, "title": f"Motion {bid}", **kw}


def line(result: dict[str, Any]) -> dict[str, Any]:
    (only,) = result["lines"]
    return only


# -- the worked example and the arithmetic of verdicts --------------------------------------


@pytest.mark.parametrize(("n_for", "verdict"), [(21, "passed"), (20, "failed")])
def test_standing_committee_rule_counts_all_41_members_not_the_30_present(n_for: int, verdict: str) -> None:
    s = sim(41, [motion(rule="majority_of_all")])
    s.present(*members(1, 30))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", {"for": n_for, "against": 30 - n_for})
    result = s.close("b1")
    assert (result["seated"], result["present"], result["voted"], result["not_voted"]) == (41, 30, 30, 0)
    assert line(result)["counts"] == {"for": n_for, "against": 30 - n_for, "abstain": 0}
    assert (line(result)["base_value"], line(result)["needed"]) == (41, 21)
    assert result["verdict"] == verdict


def test_a_tie_under_simple_majority_fails() -> None:
    s = sim(41, [motion(rule="simple_majority")])
    s.present(*members(1, 10))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", {"for": 5, "against": 5})
    assert s.close("b1")["verdict"] == "failed"


@pytest.mark.parametrize(
    ("rule", "present", "plan", "verdict"),
    [
        # ">=" 2/3 of all: exactly 20 of 30 seated reaches the bar
        ("two_thirds_of_all", 30, {"for": 20, "against": 10}, "passed"),
        ("two_thirds_of_all", 30, {"for": 19, "against": 11}, "failed"),
        # ">" 1/2: exactly half is not a majority
        ("majority_of_present", 20, {"for": 10, "against": 10}, "failed"),
        ("majority_of_present", 20, {"for": 11, "against": 9}, "passed"),
        ("simple_majority", 20, {"for": 10, "against": 9, "abstain": 1}, "failed"),
    ],
)
def test_exact_boundaries(rule: str, present: int, plan: dict[str, int], verdict: str) -> None:
    s = sim(30, [motion(rule=rule)])
    s.present(*members(1, present))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", plan)
    assert s.close("b1")["verdict"] == verdict


# seated 41, present 30: for 16, against 8, abstain 6 (cast 30, cast without abstentions 24)
PRESET_CASES = [
    ("majority_of_all", 41, 21, "failed"),
    ("simple_majority", 30, 16, "passed"),
    ("majority_excluding_abstentions", 24, 13, "passed"),
    ("two_thirds_of_all", 41, 28, "failed"),
    ("two_thirds_of_cast", 30, 20, "failed"),
    ("majority_of_present", 30, 16, "passed"),
]


@pytest.mark.parametrize(("rule", "base_value", "needed", "verdict"), PRESET_CASES)
def test_each_preset_measures_against_its_own_base(rule: str, base_value: int, needed: int, verdict: str) -> None:
    s = sim(41, [motion(rule=rule)])
    s.present(*members(1, 30))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", {"for": 16, "against": 8, "abstain": 6})
    result = s.close("b1")
    assert (line(result)["base_value"], line(result)["needed"], result["verdict"]) == (base_value, needed, verdict)


def test_every_preset_has_a_case() -> None:
    from server.core.rules import PRESETS

    assert {case[0] for case in PRESET_CASES} == set(PRESETS)


def test_a_custom_rule_with_a_constant() -> None:
    rule = {"option": "for", "cmp": ">=", "fraction": "1/3", "base": "seated", "constant": 2}
    s = sim(30, [motion("b1", rule=rule), motion("b2", rule=rule)])
    s.present(*members(1, 20))
    for ballot, n_for, verdict in (("b1", 12, "passed"), ("b2", 11, "failed")):
        s.do(c.OpenBallot(ballot))
        s.vote(ballot, {"for": n_for, "against": 20 - n_for})
        result = s.close(ballot)
        assert (line(result)["needed"], result["verdict"]) == (12, verdict)  # 1/3 x 30 + 2


@pytest.mark.parametrize(
    "rule",
    [
        "majority_of_all",
        "simple_majority",
        "majority_excluding_abstentions",
        "two_thirds_of_all",
        "two_thirds_of_cast",
        "majority_of_present",
    ],
)
def test_nobody_present_nobody_can_vote_and_the_motion_fails(rule: str) -> None:
    s = sim(41, [motion(rule=rule)])
    assert not s.meeting.quorum_met()
    s.do(c.OpenBallot("b1"))
    assert s.cast_refused("m01", "b1", "for") == "not_checked_in"
    result = s.close("b1")
    assert (result["present"], result["voted"], result["not_voted"]) == (0, 0, 0)
    assert line(result)["counts"] == {"for": 0, "against": 0, "abstain": 0}
    assert result["verdict"] == "failed"


def test_everyone_abstaining_does_not_pass_a_motion() -> None:
    s = sim(10, [motion(rule="two_thirds_of_cast"), motion("b2", rule="majority_excluding_abstentions")])
    s.present(*members(1, 6))
    for ballot in ("b1", "b2"):
        s.do(c.OpenBallot(ballot))
        s.vote(ballot, {"abstain": 6})
        assert s.close(ballot)["verdict"] == "failed"


def test_a_member_who_leaves_after_voting_still_counts() -> None:
    s = sim(41, [motion(rule="majority_of_present")])
    s.present(*members(1, 10))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", {"for": 5, "against": 2})
    s.do(c.SetAttendance("m01", "absent"))  # voted for, then walked out
    s.do(c.SetAttendance("m02", "leave", by="clerk"))
    assert s.cast_refused("m01", "b1", "against") == "not_checked_in"
    result = s.close("b1")
    assert line(result)["counts"]["for"] == 5
    # they still count as present, so the bar stays at more than half of 10
    assert (result["present"], result["voted"], line(result)["base_value"]) == (10, 7, 10)
    assert result["verdict"] == "failed"


def test_quorum_is_more_than_half_of_the_seated_members_observers_aside() -> None:
    s = sim(41, [motion()], observers=3)
    s.present("o1", "o2", "o3", *members(1, 20))
    assert s.meeting.seated == 41 and not s.meeting.quorum_met()
    s.do(c.SetAttendance("m41", "leave", by="clerk"))
    assert not s.meeting.quorum_met()  # leave is not presence
    s.present("m21")
    assert s.meeting.quorum_met()


# -- who may vote ------------------------------------------------------------------------


def test_only_checked_in_members_with_a_vote_may_vote() -> None:
    data = agenda_data(5, ballots=[motion()], observers=1)
    data["members"][4]["votes"] = False  # m05: a member without a vote
    s = Sim(agenda_from_dict(data))
    s.present("m01", "m05", "o1")
    s.do(c.SetAttendance("m03", "leave", by="clerk"))
    s.do(c.OpenBallot("b1"))
    assert s.cast_refused("o1", "b1", "for") == "no_voting_right"
    assert s.cast_refused("m05", "b1", "for") == "no_voting_right"
    assert s.cast_refused("m02", "b1", "for") == "not_checked_in"  # absent
    assert s.cast_refused("m03", "b1", "for") == "not_checked_in"  # on leave
    assert s.cast_refused("nobody", "b1", "for") == "unknown_member"
    assert s.cast_refused("m01", "b1", "yes") == "invalid_choice"
    s.cast("m01", "b1", "for")
    result = s.close("b1")
    assert (result["seated"], result["voted"]) == (4, 1)


def test_only_the_clerk_records_leave() -> None:
    s = sim(5, [motion()])
    assert s.refused(c.SetAttendance("m01", "leave", by="self")) == "forbidden"


# -- the ballot lifecycle -----------------------------------------------------------------


def test_the_full_lifecycle() -> None:
    s = sim(5, [motion()])
    s.present("m01")

    def status() -> str:
        return s.meeting.ballots["b1"].status

    assert status() == "draft"
    for command, after in (
        (c.OpenBallot("b1"), "open"),
        (c.HoldBallot("b1"), "held"),
        (c.ResumeBallot("b1"), "open"),
        (c.HoldBallot("b1"), "held"),
        (c.ResumeBallot("b1"), "open"),
        (c.CloseBallot("b1"), "closed"),
        (c.AnnounceBallot("b1"), "announced"),
    ):
        s.do(command)
        assert status() == after


ILLEGAL = [
    ([], c.HoldBallot),
    ([], c.ResumeBallot),
    ([], c.CloseBallot),
    ([], c.AnnounceBallot),
    ([], c.VoidBallot),
    ([c.OpenBallot], c.OpenBallot),
    ([c.OpenBallot], c.ResumeBallot),
    ([c.OpenBallot], c.AnnounceBallot),
    ([c.OpenBallot, c.HoldBallot], c.HoldBallot),
    ([c.OpenBallot, c.HoldBallot], c.AnnounceBallot),
    ([c.OpenBallot, c.CloseBallot], c.OpenBallot),
    ([c.OpenBallot, c.CloseBallot], c.CloseBallot),
    ([c.OpenBallot, c.CloseBallot], c.HoldBallot),
    ([c.OpenBallot, c.CloseBallot], c.ResumeBallot),
    ([c.OpenBallot, c.CloseBallot, c.AnnounceBallot], c.AnnounceBallot),
    ([c.OpenBallot, c.CloseBallot, c.AnnounceBallot], c.OpenBallot),
    ([c.OpenBallot, c.VoidBallot], c.CloseBallot),
    ([c.OpenBallot, c.VoidBallot], c.VoidBallot),
]


@pytest.mark.parametrize(
    ("path", "command"),
    ILLEGAL,
    ids=[f"{'-'.join(p.__name__ for p in path) or 'draft'}:{cmd.__name__}" for path, cmd in ILLEGAL],
)
def test_illegal_transitions_are_refused_and_change_nothing(path: list[type], command: type) -> None:
    s = sim(5, [motion()])
    for step in path:
        s.do(step("b1"))
    before = (s.meeting.ballots["b1"].status, len(s.log))
    assert s.refused(command("b1")) == "bad_state"
    assert (s.meeting.ballots["b1"].status, len(s.log)) == before


def test_casting_outside_an_open_ballot() -> None:
    s = sim(5, [motion()])
    s.present("m01")
    assert s.cast_refused("m01", "b1", "for") == "ballot_not_open"
    assert s.cast_refused("m01", "nope", "for") == "unknown_ballot"
    s.do(c.OpenBallot("b1"))
    s.do(c.HoldBallot("b1"))
    assert s.cast_refused("m01", "b1", "for") == "ballot_held"
    s.do(c.ResumeBallot("b1"))
    s.do(c.CloseBallot("b1"))
    assert s.cast_refused("m01", "b1", "for") == "ballot_closed"


def test_only_one_ballot_is_live_at_a_time() -> None:
    s = sim(5, [motion("b1"), motion("b2")])
    s.do(c.OpenBallot("b1"))
    assert s.refused(c.OpenBallot("b2")) == "another_ballot_open"
    s.do(c.HoldBallot("b1"))
    assert s.refused(c.OpenBallot("b2")) == "another_ballot_open"  # held is still live
    assert s.refused(c.CloseSitting()) == "another_ballot_open"
    s.do(c.CloseBallot("b1"))
    s.do(c.OpenBallot("b2"))
    s.do(c.CloseBallot("b2"))
    s.do(c.CloseSitting())
    assert s.refused(c.SetAttendance("m01", "present")) == "sitting_closed"


# -- countdowns ---------------------------------------------------------------------------


def test_a_countdown_refuses_casts_from_its_deadline_and_hold_keeps_the_time_left() -> None:
    s = sim(5, [motion(countdown=60)])
    s.present("m01", "m02", "m03")
    s.do(c.OpenBallot("b1"), at=T0)
    assert s.meeting.ballots["b1"].deadline == T0 + 60
    s.cast("m01", "b1", "for", at=T0 + 20)
    s.do(c.HoldBallot("b1"), at=T0 + 20)
    assert s.meeting.ballots["b1"].remaining == 40
    assert s.cast_refused("m02", "b1", "for", at=T0 + 500) == "ballot_held"
    s.do(c.ResumeBallot("b1"), at=T0 + 1000)  # a long pause costs the members nothing
    assert s.meeting.ballots["b1"].deadline == T0 + 1040
    s.cast("m02", "b1", "for", at=T0 + 1039.999)
    assert s.cast_refused("m03", "b1", "for", at=T0 + 1040) == "ballot_closed"
    assert s.cast_refused("m03", "b1", "for", at=T0 + 1041) == "ballot_closed"
    assert s.close("b1")["voted"] == 2


def test_the_clerk_may_give_a_countdown_when_opening_within_bounds() -> None:
    s = sim(5, [motion()])
    assert s.refused(c.OpenBallot("b1", countdown=4)) == "bad_message"
    assert s.refused(c.OpenBallot("b1", countdown=3601)) == "bad_message"
    s.do(c.OpenBallot("b1", countdown=30), at=T0)
    assert s.meeting.ballots["b1"].deadline == T0 + 30


# -- changing a vote ------------------------------------------------------------------------


def test_a_vote_may_be_changed_until_close_and_counts_once() -> None:
    s = sim(5, [motion()])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    (again,) = s.cast("m01", "b1", "against")
    assert isinstance(again, e.VoteCast) and again.first is False
    result = s.close("b1")
    assert line(result)["counts"] == {"for": 0, "against": 1, "abstain": 0} and result["voted"] == 1


@pytest.mark.parametrize("secret", [False, True])
def test_first_vote_counts_when_changes_are_not_allowed(secret: bool) -> None:
    s = sim(5, [motion(allow_change=False, secret=secret)])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    assert s.cast_refused("m01", "b1", "against") == "already_voted"
    assert line(s.close("b1"))["counts"]["for"] == 1


# -- named and secret ballots -----------------------------------------------------------------


def test_a_named_ballot_records_each_choice_in_the_log() -> None:
    s = sim(5, [motion()])
    s.present("m01", "m02")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    s.cast("m02", "b1", "against")
    casts = [e.to_data(ev) for _, ev in s.log if isinstance(ev, e.VoteCast)]
    assert [(d["member"], d["choice"]) for d in casts] == [("m01", "for"), ("m02", "against")]


def test_a_secret_ballot_keeps_choices_out_of_the_log_and_members_out_of_the_urn() -> None:
    s = sim(5, [motion(secret=True)])
    s.present("m01", "m02", "m03")
    s.do(c.OpenBallot("b1"))
    for m, choice in (("m01", "for"), ("m02", "against"), ("m03", "for")):
        events = s.cast(m, "b1", choice)
        cast, put = events
        assert isinstance(cast, e.VoteCast) and cast.choice is None
        assert isinstance(put, e.SecretChoice) and not put.LOGGED
        assert put.member == m  # known in memory for the member's own tablet ...
        assert "member" not in e.to_data(put)  # ... never in the stored form
    for _, ev in s.log:
        data = e.to_data(ev)
        assert data.get("choice") is None, data
    assert sorted(json.loads(u.choice) for u in s.urn.values()) == ["against", "for", "for"]
    assert all(set(dataclasses.asdict(u)) == {"ballot", "run", "entry", "choice"} for u in s.urn.values())
    result = s.close("b1")
    assert line(result)["counts"] == {"for": 2, "against": 1, "abstain": 0}


def test_changing_a_secret_vote_withdraws_the_old_choice() -> None:
    s = sim(5, [motion(secret=True)])
    s.present("m01", "m02")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    s.cast("m02", "b1", "for")
    events = s.cast("m01", "b1", "against")
    assert [type(ev) for ev in events] == [e.VoteCast, e.SecretChoiceWithdrawn, e.SecretChoice]
    assert events[1].entry == "entry0001"
    assert sorted(json.loads(u.choice) for u in s.urn.values()) == ["against", "for"]
    assert line(s.close("b1"))["counts"] == {"for": 1, "against": 1, "abstain": 0}


def test_after_a_restart_a_secret_vote_is_locked_while_a_named_one_may_still_change() -> None:
    s = sim(5, [motion("named"), motion("secret", secret=True)])
    s.present("m01", "m02")
    s.do(c.OpenBallot("named"))
    s.cast("m01", "named", "for")
    s.meeting = s.replay()
    s.cast("m01", "named", "against")  # still allowed: the choice is in the log
    assert line(s.close("named"))["counts"] == {"for": 0, "against": 1, "abstain": 0}

    s.do(c.OpenBallot("secret"))
    s.cast("m01", "secret", "for")
    s.meeting = s.replay()
    assert s.cast_refused("m01", "secret", "against") == "vote_locked"
    s.cast("m02", "secret", "against")  # who has not voted yet still can
    assert line(s.close("secret"))["counts"] == {"for": 1, "against": 1, "abstain": 0}


def test_replay_reaches_the_same_state() -> None:
    s = sim(12, [motion("b1"), motion("b2", secret=True), motion("b3")])
    s.present(*members(1, 10))
    s.do(c.SetAttendance("m11", "leave", by="clerk"))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", {"for": 6, "against": 3, "abstain": 1})
    s.close("b1")
    s.do(c.AnnounceBallot("b1"))
    s.do(c.OpenBallot("b2"))
    s.vote("b2", {"for": 4, "against": 4})
    s.cast("m01", "b2", "abstain")  # a change, withdrawn in the urn
    s.do(c.HoldBallot("b2"))
    again = s.replay()
    assert again.attendance == s.meeting.attendance
    assert again.seq == s.meeting.seq
    assert again.keys == s.meeting.keys
    for bid in ("b1", "b2", "b3"):
        live, replayed = s.meeting.ballots[bid], again.ballots[bid]
        assert (replayed.status, replayed.run, replayed.voters, replayed.result) == (
            live.status,
            live.run,
            live.voters,
            live.result,
        )
        assert again.tally(replayed) == s.meeting.tally(live)
    assert again.ballots["b2"].slots == {}  # the member -> urn link is never restored


# -- void and re-run ------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [False, True])
def test_a_voided_ballot_is_rerun_empty_and_both_runs_stay_on_record(secret: bool) -> None:
    s = sim(10, [motion(secret=secret)])
    s.present(*members(1, 8))
    s.do(c.OpenBallot("b1"))
    s.vote("b1", {"for": 3, "against": 5})
    first = s.close("b1")
    s.do(c.VoidBallot("b1", reason="keypad fault in row 3"))
    assert s.meeting.ballots["b1"].status == "voided"
    s.do(c.OpenBallot("b1"))
    rerun = s.meeting.ballots["b1"]
    assert (rerun.run, rerun.status, rerun.voters, rerun.named, rerun.urn) == (2, "open", set(), {}, {})
    s.cast("m01", "b1", "for")  # may vote again in the new run
    s.vote("b1", {"for": 5}, start=2)
    second = s.close("b1")
    assert line(first)["counts"]["for"] == 3 and line(second)["counts"]["for"] == 6
    assert [(old.run, old.status, old.result) for old in s.meeting.history] == [(1, "voided", first)]
    again = s.replay()
    assert [(old.run, old.status, old.result) for old in again.history] == [(1, "voided", first)]
    assert again.tally(again.ballots["b1"]) == s.meeting.tally(s.meeting.ballots["b1"])
    assert again.tally(again.history[0]) == s.meeting.tally(s.meeting.history[0])


def test_an_open_ballot_can_be_voided() -> None:
    s = sim(5, [motion(secret=True)])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    s.do(c.VoidBallot("b1"))
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "against")
    assert line(s.close("b1"))["counts"] == {"for": 0, "against": 1, "abstain": 0}


# -- agenda validation ---------------------------------------------------------------------------


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    return info.value.problems


def test_agenda_errors_name_the_key_path_and_are_all_reported_at_once() -> None:
    data = agenda_data(5, ballots=[motion("b1"), {"id": "b2", "title": "x", "secret": "yes"}, motion("b1")])
    data["members"][2]["colour"] = "red"
    data["members"][3]["seat"] = data["members"][0]["seat"]
    data["members"][4]["id"] = "m01"
    data["meeting"]["language"] = "fr"
    problems = problems_of(data)
    joined = "\n".join(problems)
    assert "members[2].colour: unknown key" in problems
    assert "items[0].ballots[1].secret: must be true or false, not str" in problems
    assert any(p.startswith("members[3].seat: duplicate seat 'S001'") for p in problems), joined
    assert any(p.startswith("members[4].id: duplicate member id 'm01'") for p in problems), joined
    assert any(p.startswith("items[0].ballots[2].id: duplicate ballot id 'b1'") for p in problems), joined
    assert any(p.startswith("meeting.language:") for p in problems), joined


@pytest.mark.parametrize(
    ("ballot", "path"),
    [
        (motion(rule="most_votes"), "items[0].ballots[0].rule"),
        (motion(rule={"fraction": "3/2"}), "items[0].ballots[0].rule"),
        (motion(rule={"cmp": "="}), "items[0].ballots[0].rule"),
        (motion(countdown=2), "items[0].ballots[0].countdown"),
        (motion(kind="raffle"), "items[0].ballots[0].kind"),
        ({"title": "no id"}, "items[0].ballots[0].id"),
    ],
)
def test_a_bad_ballot_definition_names_its_key(ballot: dict[str, Any], path: str) -> None:
    problems = problems_of(agenda_data(5, ballots=[ballot]))
    assert any(p.startswith(f"{path}:") for p in problems), problems


def test_a_missing_member_field_and_a_wrong_list_type_name_their_keys() -> None:
    data = agenda_data(3, ballots=[motion()])
    del data["members"][1]["seat"]
    data["items"][0]["ballots"] = "b1"
    problems = problems_of(data)
    assert "members[1].seat: is required" in problems
    assert "items[0].ballots: must be a list, not str" in problems


def test_a_meeting_rule_given_as_a_table_is_the_default_of_ballots_created_during_the_sitting() -> None:
    """It was passed on as the text of the table, so every ad hoc motion without a rule of its
    own was refused as an "unknown rule preset"."""
    data = agenda_data(5)
    data["meeting"]["rule"] = {"fraction": "2/3", "cmp": ">="}
    meeting = Meeting(agenda_from_dict(data))
    decision = meeting.decide(c.CreateBallot("item1", {"id": "adhoc", "title": "临时动议"}), 1.0, lambda: "x")
    meeting.apply(decision.events[0], 1)
    assert meeting.ballots["adhoc"].spec.rule.to_dict()["fraction"] == "2/3"
    data["meeting"]["rule"] = {"fraction": "1e-5000"}
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    assert any(p.startswith("meeting.rule:") for p in info.value.problems)
