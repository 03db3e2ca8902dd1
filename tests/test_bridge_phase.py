"""The keypads' phase, derived from a real core meeting without any I/O: the snapshot and
events a device connection would receive are folded into device_drivers.bridge_phase."""

from __future__ import annotations

from typing import Any

from device_drivers.bridge_outputs import keypad_texts
from device_drivers.bridge_phase import Phase, SittingPhases
from device_drivers.messages import Key, Mode
from server.core import commands as c
from server.core.agenda import agenda_from_dict
from server.core.views import snapshot, visible_event
from tests.support import agenda_data
from tests.test_meeting import Sim, members, motion, sim

EN = keypad_texts("en")
VOTE_KEYS = frozenset({Key.FOR, Key.AGAINST, Key.ABSTAIN})
BALLOTS = [
    motion("m1", title="Budget"),
    motion("s1", title="Secret one", secret=True, live_counts=False),
    {"id": "sat", "title": "Report", "kind": "evaluation", "subjects": [{"id": "s1", "title": "Report"}]},
    {"id": "sc", "title": "Scores", "kind": "score", "subjects": [{"id": "a", "title": "A", "min": 0, "max": 100}]},
]


class Follower:
    """A SittingPhases fed as the bridge feeds it: a snapshot, then the device's events."""

    def __init__(self, s: Sim, *, checkin: bool = True) -> None:
        self.sim = s
        self.phases = SittingPhases(checkin=checkin, texts=EN)
        self.phases.load(snapshot(s.meeting, "device", self.seated()), EN)
        self.phases.refresh()

    def seated(self) -> list[str]:
        return [m.id for m in self.sim.meeting.agenda.members]

    def do(self, command: c.Command) -> Phase:
        self.sim.now += 1.0  # each step a moment later: the latest ballot is the one opened last
        for event in self.sim.do(command):
            data = visible_event(event, "device", self.seated(), self.sim.meeting)
            if data is not None and self.phases.fold(data):
                self.phases.refresh()
        assert self.phases.phase is not None
        return self.phases.phase

    @property
    def phase(self) -> Phase:
        assert self.phases.phase is not None
        return self.phases.phase


def follower(**kw: Any) -> Follower:
    s = sim(6, BALLOTS)
    s.present(*members(1, 6))
    return Follower(s, **kw)


def test_check_in_mode_before_any_ballot_and_idle_without_keypad_check_in() -> None:
    phase = follower().phase
    assert (phase.mode, phase.keys, phase.text, phase.ballot) == (Mode.CHECK_IN, {Key.CHECK_IN}, "Press CHECK-IN", None)
    phase = follower(checkin=False).phase
    assert (phase.mode, phase.keys, phase.text) == (Mode.IDLE, frozenset(), "")


def test_an_open_motion_puts_its_keys_in_vote_mode_and_closing_returns_to_check_in() -> None:
    f = follower()
    start = f.phase.epoch
    vote = f.do(c.OpenBallot("m1"))
    assert vote.mode is Mode.VOTE and vote.keys == VOTE_KEYS | {Key.CHECK_IN} and not vote.secret
    assert dict(vote.choices) == {Key.FOR: "for", Key.AGAINST: "against", Key.ABSTAIN: "abstain"}
    assert (vote.text, vote.run_key) == ("Vote: Budget", ("m1", 1))
    assert f.phases.accepting == vote
    after = f.do(c.CloseBallot("m1"))
    assert after.mode is Mode.CHECK_IN and len({start, vote.epoch, after.epoch}) == 3
    assert f.phases.accepting == vote  # a press made before the close still reaches the server, which refuses it


def test_check_in_key_stays_off_during_a_vote_when_keypad_check_in_is_off() -> None:
    f = follower(checkin=False)
    assert f.do(c.OpenBallot("m1")).keys == VOTE_KEYS


def test_hold_is_idle_with_its_own_epoch_and_resume_returns_to_the_same_vote_epoch() -> None:
    f = follower()
    vote = f.do(c.OpenBallot("s1"))
    assert vote.secret
    held = f.do(c.HoldBallot("s1"))
    assert (held.mode, held.text, held.secret, held.run_key) == (Mode.IDLE, "Voting on hold", True, ("s1", 1))
    assert held.epoch != vote.epoch
    assert f.phases.accepting == vote  # presses made just before the hold still count after resume
    assert f.do(c.ResumeBallot("s1")) == vote


def test_a_ballot_keys_cannot_vote_sends_members_to_the_tablet() -> None:
    f = follower()
    phase = f.do(c.OpenBallot("sc"))
    assert (phase.mode, phase.text, phase.keys, phase.run_key) == (
        Mode.IDLE,
        "Please vote on your tablet",
        frozenset(),
        ("sc", 1),
    )
    assert f.phases.accepting is None


def test_a_one_subject_evaluation_puts_its_grades_on_the_three_keys() -> None:
    f = follower()
    assert dict(f.do(c.OpenBallot("sat")).choices) == {
        Key.FOR: "satisfied",
        Key.AGAINST: "basically_satisfied",
        Key.ABSTAIN: "dissatisfied",
    }


def test_a_re_run_has_a_new_vote_epoch() -> None:
    f = follower()
    first = f.do(c.OpenBallot("m1"))
    f.do(c.VoidBallot("m1", "a fault"))
    second = f.do(c.OpenBallot("m1"))
    assert second.run_key == ("m1", 2) and second.mode is Mode.VOTE and second.epoch != first.epoch


def test_a_closed_sitting_leaves_keypads_idle() -> None:
    f = follower()
    phase = f.do(c.CloseSitting())
    assert (phase.mode, phase.text, phase.keys) == (Mode.IDLE, "The sitting has ended", frozenset())


def test_epochs_are_the_same_for_a_restarted_bridge_and_differ_between_meetings() -> None:
    f = follower()
    vote = f.do(c.OpenBallot("m1"))
    restarted = Follower(f.sim)  # a new bridge reading the snapshot mid-vote
    assert restarted.phase == vote and restarted.phases.accepting == vote
    data = agenda_data(6, ballots=BALLOTS)
    data["meeting"]["title"] = "Another sitting"
    other = Sim(agenda_from_dict(data))
    other.present(*members(1, 6))
    assert Follower(other).do(c.OpenBallot("m1")).epoch != vote.epoch


def test_recorded_lamps_light_the_chosen_key_of_a_named_ballot_and_no_key_of_a_secret_one() -> None:
    f = follower()
    seat = {m.id: m.seat for m in f.sim.meeting.agenda.members}
    f.do(c.OpenBallot("m1"))
    f.sim.cast("m01", "m1", "for")
    f.sim.cast("m02", "m1", "against")
    run_key, lamps = f.phases.recorded_lamps(snapshot(f.sim.meeting, "device", f.seated()))
    assert run_key == ("m1", 1)
    assert lamps == {seat["m01"]: frozenset({Key.FOR}), seat["m02"]: frozenset({Key.AGAINST})}
    f.do(c.CloseBallot("m1"))
    f.do(c.OpenBallot("s1"))
    f.sim.cast("m03", "s1", "abstain")
    run_key, lamps = f.phases.recorded_lamps(snapshot(f.sim.meeting, "device", f.seated()))
    assert run_key == ("s1", 1) and lamps == {seat["m03"]: frozenset()}


def test_nothing_to_light_when_keypads_cannot_vote_the_latest_ballot() -> None:
    f = follower()
    f.do(c.OpenBallot("sc"))
    assert f.phases.recorded_lamps(snapshot(f.sim.meeting, "device", f.seated())) == (None, {})


def test_a_ballot_created_during_the_sitting_can_be_voted_and_other_events_change_nothing() -> None:
    f = follower()
    assert not f.phases.fold({"name": "attendance.changed", "member": "m01", "status": "absent"})
    f.do(c.CreateBallot("item1", motion("late", title="Late motion")))
    assert "late" in f.phases.ballots
    phase = f.do(c.OpenBallot("late"))
    assert phase.mode is Mode.VOTE and phase.text == "Vote: Late motion"


def test_a_created_ballot_that_keypads_cannot_vote_sends_members_to_the_tablet() -> None:
    f = follower()
    f.do(
        c.CreateBallot(
            "item1",
            {
                "id": "el",
                "title": "By-election",
                "kind": "election",
                "seats": 2,
                "candidates": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}, {"id": "c", "name": "C"}],
            },
        )
    )
    assert f.phases.ballots["el"].keypad is None  # the server's view says so: the bridge folds no definition
    phase = f.do(c.OpenBallot("el"))
    assert phase.mode is Mode.IDLE and phase.ballot == "el" and f.phases.accepting is None
