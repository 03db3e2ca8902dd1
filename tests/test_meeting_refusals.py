"""What the clerk's log and the record get from the meeting beyond verdicts: every refusal's
stable code with an English message naming what was wrong, and the time of every event a
command causes (the record says when the sitting closed, when a document was recalled).

Each test here was written from a mutant that survived (docs/benchmarks.md, "Mutation
testing"): a message dropped or the event's time lost, and no test noticed.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.bounds import MAX_BALLOTS
from server.core.chain import canonical
from server.core.decision import Decision, Receipt, Warning
from server.core.errors import AgendaError, CommandError
from server.core.ledger import Ledger, Participation, Written
from server.core.meeting import Meeting
from server.core.views import snapshot
from tests.support import agenda_data, make_agenda
from tests.test_meeting import T0, Sim, members, motion, sim
from tests.test_meeting_clerk import LOW_BAR, election

DOC = {
    "id": "d1",
    "title": "审议稿（秘密）",
    "filename": "d1.pdf",
    "item_id": "item1",
    "page_count": 3,
    "mime": "application/pdf",
    "classification": "confidential",
    "audience": "members",
    "size": 1000,
}


def refusal(s: Sim, command: c.Command) -> str:
    """The refusal as the clerk's log shows it: ``code: message``."""
    with pytest.raises(CommandError) as info:
        s.do(command)
    assert isinstance(info.value.message, str)
    return str(info.value)


def open_b1() -> Sim:
    s = sim(5, [motion()])
    s.do(c.OpenBallot("b1"))
    return s


@pytest.mark.parametrize(
    ("setup", "command", "shown"),
    [
        (
            lambda: sim(5),
            c.SetAttendanceMany(("m01", "m02", "m01"), "present"),
            "bad_message: a member is listed twice",
        ),
        (lambda: sim(5), c.SelectItem("item9"), "unknown_item: no agenda item 'item9'"),
        (lambda: sim(5), c.CreateBallot("item9", motion("x")), "unknown_item: no agenda item 'item9'"),
        (lambda: sim(5), c.SetAttendance("x1", "present"), "unknown_member: no member 'x1'"),
        (lambda: sim(5), c.SetAttendance("m01", "here"), "bad_message: status must be one of present, absent, leave"),
        (lambda: sim(5), c.SetAttendance("m01", "leave", by="self"), "forbidden: only the clerk records leave"),
        (lambda: sim(5), c.CreateFurtherRound("nope"), "unknown_ballot: no ballot 'nope'"),
        (open_b1, c.CloseSitting(), "another_ballot_open: ballot 'b1' is still open"),
        (
            lambda: sim(5),
            c.SetKeypadLine("east", False, "no_answer", "", ("S001", "Z99")),
            "unknown_seat: no seat 'Z99'",
        ),
    ],
)
def test_each_refusal_names_its_code_and_what_was_wrong(setup: Any, command: c.Command, shown: str) -> None:
    assert refusal(setup(), command) == shown


def test_every_event_a_command_causes_carries_the_time_it_was_decided() -> None:
    s = sim(5, [motion()])
    at = T0 + 10
    assert s.do(c.SetAttendanceMany(("m01", "m02"), "present"), at=at) == [
        e.AttendanceChanged("m01", "present", "clerk", at),
        e.AttendanceChanged("m02", "present", "clerk", at),
    ]
    assert s.do(c.SetKeypadLine("east", False, "no_answer", "", ("S001",)), at=at) == [
        e.KeypadLineChanged("east", False, "no_answer", "", ["S001"], at)
    ]
    s.do(c.AddDocument(DOC), at=at)
    s.do(c.GrantFloor("m01"), at=at)
    closing = s.do(c.CloseSitting(), at=T0 + 70)
    assert [type(ev) for ev in closing] == [e.SpeakerEnded, e.DocumentRecalled, e.SittingClosed]
    assert [ev.at for ev in closing] == [T0 + 70] * 3  # type: ignore[attr-defined]


def test_selecting_an_item_is_recorded_once_with_its_time() -> None:
    data = agenda_data(5)
    data["items"].append({"id": "item2", "title": "二", "ballots": []})
    s = Sim(agenda_from_dict(data))
    assert s.do(c.SelectItem("item1")) == []  # already current: nothing to record
    assert s.do(c.SelectItem("item2"), at=T0 + 5) == [e.ItemSelected("item2", T0 + 5)]
    assert s.do(c.SelectItem("item2"), at=T0 + 6) == []


def test_a_voided_election_leads_to_no_further_round() -> None:
    """Its result was declared void: a further round built on it would rest on a voided count."""
    s = sim(6, [election(rule=LOW_BAR)])
    s.present(*members(1, 6))
    s.do(c.OpenBallot("el"))
    for m, cand in zip(members(1, 6), ["a", "a", "a", "m", "m", "m"], strict=True):
        s.cast(m, "el", {cand: "for"})
    assert s.close("el")["further_round"]
    s.do(c.VoidBallot("el", "miscount"))
    assert refusal(s, c.CreateFurtherRound("el")) == "bad_state: only a closed election can lead to a further round"


def test_a_keypad_going_offline_is_recorded_once_per_change_for_a_known_seat() -> None:
    s = sim(3)
    assert refusal(s, c.SetKeypadStatus("Z99", True)) == "unknown_seat: no seat 'Z99'"
    assert s.do(c.SetKeypadStatus("S001", True), at=T0 + 1) == [e.KeypadStatusChanged("S001", True, T0 + 1)]
    assert s.do(c.SetKeypadStatus("S001", True)) == []
    assert s.do(c.SetKeypadStatus("S001", False), at=T0 + 2) == [e.KeypadStatusChanged("S001", False, T0 + 2)]
    assert s.meeting.keypads == {"S001": False}
    assert s.replay().keypads == {"S001": False}


def certificate(ballot: str = "b1", run: int = 1, void: bool = False) -> c.RecordCertificate:
    return c.RecordCertificate(ballot, run, 7, "d" * 64, "QR", "f" * 64, void)


def test_a_certificate_is_recorded_for_a_closed_run_and_marked_void_only_for_a_voided_one() -> None:
    s = sim(3, [motion()])
    assert refusal(s, certificate(run=0)) == "bad_state: a certificate needs a closed ballot"  # still a draft
    s.do(c.OpenBallot("b1"))
    s.close("b1")
    assert refusal(s, certificate(void=True)) == "bad_state: only a voided run's certificate is marked VOID"
    issued = e.CertificateIssued("b1", 1, 7, "d" * 64, "QR", "f" * 64, T0 + 3)
    assert s.do(certificate(), at=T0 + 3) == [issued]
    s.do(c.VoidBallot("b1"))
    assert s.do(certificate(void=True), at=T0 + 4) == [
        e.CertificateIssued("b1", 1, 7, "d" * 64, "QR", "f" * 64, T0 + 4, void=True)
    ]
    assert s.meeting.certificates == {("b1", 1): issued}
    assert s.meeting.void_certificates[("b1", 1)].void is True
    again = s.replay()
    assert (again.certificates, again.void_certificates) == (s.meeting.certificates, s.meeting.void_certificates)


def test_each_lifecycle_step_is_recorded_with_its_run_time_and_reason() -> None:
    s = sim(3, [motion(countdown=60)])
    s.do(c.OpenBallot("b1"), at=T0)
    # held half a second before the deadline: the half second is what resumes
    assert s.do(c.HoldBallot("b1"), at=T0 + 59.5) == [e.BallotHeld("b1", 1, T0 + 59.5, 0.5)]
    assert s.do(c.ResumeBallot("b1"), at=T0 + 100) == [e.BallotResumed("b1", 1, T0 + 100, T0 + 100.5)]
    s.do(c.CloseBallot("b1"), at=T0 + 101)
    assert s.do(c.VoidBallot("b1", "点" * 300), at=T0 + 102) == [e.BallotVoided("b1", 1, T0 + 102, "点" * 200)]
    s.do(c.OpenBallot("b1"), at=T0 + 103)
    s.do(c.HoldBallot("b1"), at=T0 + 104)
    assert s.do(c.VoidBallot("b1"), at=T0 + 105) == [e.BallotVoided("b1", 2, T0 + 105, "")]


def test_a_further_round_is_created_at_its_time_and_refused_when_the_election_needs_none() -> None:
    s = sim(6, [election(rule=LOW_BAR)])
    s.present(*members(1, 6))
    s.do(c.OpenBallot("el"))
    for m, cand in zip(members(1, 6), ["a", "a", "a", "m", "m", "m"], strict=True):
        s.cast(m, "el", {cand: "for"})
    s.close("el")
    (created,) = s.do(c.CreateFurtherRound("el"), at=T0 + 8)
    assert isinstance(created, e.BallotCreated) and created.at == T0 + 8
    done = sim(3, [election(rule=LOW_BAR)])
    done.present(*members(1, 3))
    done.do(c.OpenBallot("el"))
    for m in members(1, 3):
        done.cast(m, "el", {"a": "for"})
    done.close("el")
    assert refusal(done, c.CreateFurtherRound("el")) == "bad_state: this election result needs no further round"


def test_a_secret_choice_put_and_withdrawn_within_one_batch_is_never_written() -> None:
    """A store gets the batch's rows at once: the withdrawn choice must not be among them,
    and the one that stays must be the other, not whichever came first."""
    rows = Written()
    Ledger().write(
        [
            e.SecretChoice("b1", 1, "entryA", "for"),
            e.SecretChoice("b1", 1, "entryB", "against"),
            e.SecretChoiceWithdrawn("b1", 1, "entryA"),
            e.SecretChoiceWithdrawn("b1", 1, "entryOld"),
        ],
        rows,
    )
    assert [put.entry for put in rows.urn_puts] == ["entryB"]
    assert rows.urn_drops == ["entryOld"]


def test_a_resend_is_answered_with_the_receipt_of_the_vote_it_repeats() -> None:
    """The acknowledgement of a resent vote is built from this receipt: the same log position,
    ballot, run, key and (named ballot) choice as the first time — also after a restart."""
    s = sim(3, [motion(), motion("s1", secret=True)])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    s.do(c.Cast("m01", "b1", "for", "key-1"))
    seq = s.log[-1][0]
    assert s.meeting.keys[("m01", "key-1")] == Receipt(seq, "b1", 1, "key-1", "for")
    assert s.meeting.decide(c.Cast("m01", "b1", "against", "key-1"), T0, lambda: "x") == Decision(cast=("m01", "key-1"))
    s.close("b1")
    s.do(c.OpenBallot("s1"))
    s.do(c.Cast("m01", "s1", "for", "key-2"))
    assert s.meeting.keys[("m01", "key-2")] == Receipt(s.log[-1][0], "s1", 1, "key-2", None)
    assert s.replay().keys == s.meeting.keys


def test_the_server_key_is_recorded_once() -> None:
    s = sim(3)
    assert s.do(c.RecordServerKey("PEM1", "fp1"), at=T0 + 1) == [e.ServerKeyRecorded("PEM1", "fp1", T0 + 1)]
    assert s.do(c.RecordServerKey("PEM1", "fp1")) == []
    assert s.meeting.server_key == "PEM1"
    assert s.do(c.RecordServerKey("PEM2", "fp2"), at=T0 + 2) == [e.ServerKeyRecorded("PEM2", "fp2", T0 + 2)]
    assert s.replay().server_key == "PEM2"


def test_a_closed_ballot_shows_no_countdown() -> None:
    s = sim(3, [motion(countdown=60)])
    s.do(c.OpenBallot("b1"))
    s.do(c.HoldBallot("b1"))
    s.close("b1")
    view = snapshot(s.meeting, "clerk")["ballots"][0]
    assert (view["deadline"], view["remaining"]) == (None, None)


def test_a_certificate_marked_void_is_for_the_voided_run_it_names() -> None:
    s = sim(3, [motion()])
    s.do(c.OpenBallot("b1"))
    s.do(c.VoidBallot("b1"))  # run 1: voided while open, never counted
    s.do(c.OpenBallot("b1"))
    s.close("b1")
    s.do(c.VoidBallot("b1"))  # run 2: counted, then voided
    s.do(c.OpenBallot("b1"))
    assert len(s.do(certificate(run=2, void=True))) == 1
    assert refusal(s, certificate(run=1, void=True)) == "bad_state: a certificate needs a closed ballot"


def voting(**ballot: Any) -> Sim:
    s = sim(4, [motion(**ballot), motion("b2")], observers=1)
    s.present("m01", "m02", "o1")
    s.do(c.OpenBallot("b1"))
    return s


@pytest.mark.parametrize(
    ("setup", "cast", "shown"),
    [
        (voting, c.Cast("m01", "b9", "for", "k"), "unknown_ballot: no ballot 'b9'"),
        (voting, c.Cast("m01", "b2", "for", "k"), "ballot_not_open: this ballot is not open for voting"),
        (voting, c.Cast("x1", "b1", "for", "k"), "unknown_member: no member 'x1'"),
        (voting, c.Cast("o1", "b1", "for", "k"), "no_voting_right: this member has no vote"),
        (voting, c.Cast("m03", "b1", "for", "k"), "not_checked_in: check in before voting"),
    ],
)
def test_each_refused_vote_names_its_code_and_why(setup: Any, cast: c.Cast, shown: str) -> None:
    assert refusal(setup(), cast) == shown


def test_a_held_closed_or_repeated_vote_is_refused_saying_why() -> None:
    s = voting(allow_change=False)
    s.do(c.Cast("m01", "b1", "for", "k1"))
    assert refusal(s, c.Cast("m01", "b1", "against", "k2")) == "already_voted: your first vote counts in this ballot"
    s.do(c.HoldBallot("b1"))
    assert refusal(s, c.Cast("m02", "b1", "for", "k3")) == "ballot_held: voting is on hold"
    s.do(c.ResumeBallot("b1"))
    s.close("b1")
    assert refusal(s, c.Cast("m02", "b1", "for", "k4")) == "ballot_closed: this ballot is not open for voting"


def test_a_vote_and_a_close_are_recorded_whole_and_a_named_ballot_has_no_urn_digest() -> None:
    s = voting()
    assert s.do(c.Cast("m01", "b1", "for", "k1"), at=T0 + 1) == [e.VoteCast("b1", 1, "m01", "k1", T0 + 1, True, "for")]
    (closed,) = s.do(c.CloseBallot("b1"), at=T0 + 2)
    assert isinstance(closed, e.BallotClosed)
    assert (closed.ballot, closed.run, closed.at, closed.urn_digest) == ("b1", 1, T0 + 2, "")


def test_a_cast_decision_names_the_vote_it_acknowledges() -> None:
    """The edge answers the voter from ``Decision.cast``: without it a recorded vote is never acknowledged."""
    s = sim(3, [motion(), motion("s1", secret=True)])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    assert s.meeting.decide(c.Cast("m01", "b1", "for", "k1"), T0, lambda: "x").cast == ("m01", "k1")
    s.close("b1")
    s.do(c.OpenBallot("s1"))
    assert s.meeting.decide(c.Cast("m01", "s1", "for", "k2"), T0, lambda: "x").cast == ("m01", "k2")


def test_a_secret_vote_locked_by_a_restart_says_so() -> None:
    s = sim(3, [motion("s1", secret=True)])
    s.present("m01")
    s.do(c.OpenBallot("s1"))
    s.cast("m01", "s1", "for")
    s.meeting = s.replay()
    assert refusal(s, c.Cast("m01", "s1", "against", "k9")) == "vote_locked: this secret vote can no longer be changed"


def test_opening_refusals_say_why_and_five_seconds_is_the_shortest_countdown() -> None:
    s = sim(3, [motion(), motion("b2")])
    assert refusal(s, c.OpenBallot("b1", countdown=4)) == (
        "bad_message: countdown must be 0 (none) or between 5 and 3600 seconds"
    )
    (opened,) = s.do(c.OpenBallot("b1", countdown=5), at=T0)
    assert isinstance(opened, e.BallotOpened) and opened.deadline == T0 + 5
    assert refusal(s, c.OpenBallot("b2")) == "another_ballot_open: ballot 'b1' is still open"


def test_opening_a_ballot_keypads_cannot_vote_warns_the_clerk_naming_their_seats() -> None:
    s = sim(4, [motion(), election(seats=1)])
    s.do(c.SetKeypadStatus("S002", True))
    s.do(c.SetKeypadStatus("S001", False))
    plain = s.meeting.decide(c.OpenBallot("b1"), T0, lambda: "x")
    assert plain.warnings == ()  # a motion is voted with three keys
    decision = s.meeting.decide(c.OpenBallot("el"), T0 + 1, lambda: "x")
    assert decision.warnings == (Warning("keypad_unsupported", ("S001", "S002")),)
    assert decision.events == [e.BallotOpened("el", 1, T0 + 1, None)]
    s.do(c.OpenBallot("el"), at=T0 + 1)
    assert snapshot(s.meeting, "clerk")["ballots"][1]["opened_at"] == T0 + 1
    assert refusal(s, c.CloseBallot("b9")) == "unknown_ballot: no ballot 'b9'"


def test_a_restart_on_a_log_whose_agenda_is_damaged_says_the_log_is_at_fault() -> None:
    opening = Meeting.opening_events(make_agenda(3), T0)[0]
    assert isinstance(opening, e.SittingOpened)
    assert Meeting.from_opening(opening).seq == 1  # the opening is entry 1
    damaged = e.SittingOpened({**opening.agenda, "members": "none"}, T0)
    with pytest.raises(AgendaError) as info:
        Meeting.from_opening(damaged)
    assert info.value.source == "log" and str(info.value).startswith("log: members: must be a list")


def test_the_ledger_writes_one_participation_row_per_member_and_run_with_its_encoder() -> None:
    rows = Written()
    seen: list[Any] = []

    def encode(value: Any) -> str:
        seen.append(value)
        return canonical(value)

    ledger = Ledger(encode=encode)
    ledger.write(
        [
            e.VoteCast("b1", 2, "m01", "k1", T0, True, "for"),
            e.VoteCast("b1", 2, "m01", "k2", T0, False, "against"),  # a change: no second row
        ],
        rows,
    )
    assert rows.participations == [Participation("b1", 2, "m01", 1)]
    assert len(seen) == 2 and [entry.seq for entry in rows.entries] == [1, 2]


def bad_election(n: int) -> dict[str, Any]:
    """An election whose ``n`` candidates each have an id outside the grammar: ``n`` problems."""
    return {
        "id": "el",
        "title": "t",
        "kind": "election",
        "seats": 1,
        "candidates": [{"id": f"../{i}", "name": "n"} for i in range(n)],
    }


@pytest.mark.parametrize(("n", "tail"), [(20, None), (21, "and 1 more"), (25, "and 5 more")])
def test_an_ad_hoc_ballot_refused_lists_its_first_twenty_problems_and_how_many_more(n: int, tail: str | None) -> None:
    message = refusal(sim(3), c.CreateBallot("item1", bad_election(n)))
    assert message.startswith("invalid_ballot: ballot.candidates[0].id: '../0' is not an id")
    parts = message.split("; ")
    assert len(parts) == (20 if tail is None else 21)
    assert parts[19].startswith("ballot.candidates[19].id:")
    if tail:
        assert parts[20] == tail


def test_an_ad_hoc_ballot_is_checked_against_the_meetings_rule_and_reveal() -> None:
    data = agenda_data(3)
    data["meeting"]["rule"] = {"fraction": "1/2", "option": "against"}
    data["meeting"]["reveal"] = "on_announce"
    s = Sim(agenda_from_dict(data))
    assert refusal(s, c.CreateBallot("item1", {"id": "x", "title": "t", "options": ["for", "abstain"]})) == (
        "invalid_ballot: ballot.options: the rule counts 'against', which is not an option"
    )
    spec = {"id": "x", "title": "临时动议"}
    assert s.do(c.CreateBallot("item1", spec), at=T0 + 3) == [e.BallotCreated(spec, "item1", T0 + 3)]
    for meeting in (s.meeting, s.replay()):
        created = meeting.ballots["x"].spec
        assert (created.item, created.reveal, created.rule.option) == ("item1", "on_announce", "against")
    assert refusal(s, c.CreateBallot("item1", spec)) == "invalid_ballot: a ballot 'x' already exists"


def test_a_sitting_holds_at_most_a_thousand_ballots() -> None:
    s = sim(3, [motion(f"b{i}") for i in range(MAX_BALLOTS - 1)])
    assert len(s.do(c.CreateBallot("item1", motion("last")))) == 1
    assert refusal(s, c.CreateBallot("item1", motion("over"))) == "invalid_ballot: a sitting holds at most 1000 ballots"


def test_after_the_close_only_paper_and_recalls_are_taken_and_the_state_knows_its_log_position() -> None:
    s = sim(3, [motion()])
    s.do(c.CloseSitting())
    assert refusal(s, c.SetAttendance("m01", "present")) == "sitting_closed: the sitting is closed"
    assert s.do(c.RecallDocuments()) == []  # still allowed: nothing confidential to recall
    assert s.meeting.seq == s.log[-1][0] == s.replay().seq  # a resuming screen compares this


def test_every_role_sees_the_members_as_the_roster_lists_them() -> None:
    s = sim(2, observers=1)
    assert snapshot(s.meeting, "display")["members"][0] == {
        "id": "m01",
        "name": s.meeting.agenda.members[0].name,
        "seat": "S001",
        "group": "",
        "role": "member",
        "votes": True,
    }
    assert snapshot(s.meeting, "display")["members"][2]["votes"] is False  # an observer


def test_the_opening_records_when_the_sitting_opened() -> None:
    (opening,) = Meeting.opening_events(make_agenda(2), T0 + 7)
    assert isinstance(opening, e.SittingOpened) and opening.at == T0 + 7


def test_a_sitting_without_items_opens_with_no_current_item_and_not_closed() -> None:
    data = agenda_data(2)
    data["items"] = []
    meeting = Meeting(agenda_from_dict(data))
    assert (meeting.current_item, meeting.closed, meeting.server_key) == (None, False, None)
    assert snapshot(meeting, "display")["closed"] is False
