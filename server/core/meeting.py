"""The meeting state machine: ``decide`` turns a command into events, ``apply`` folds them.

``decide`` never mutates; ``apply`` never refuses. Restart is replay: a new Meeting fed
the stored events (and a secret urn's entries) reaches the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import commands as c
from . import events as e
from .agenda import Agenda, agenda_from_dict, ballot_from_dict
from .ballot_state import TRANSITIONS, BallotRun, urn_digest
from .documents import DocumentBook
from .errors import AgendaError, CommandError
from .kinds import KINDS
from .kinds.common import Turnout

ATTENDANCE = ("present", "absent", "leave")


@dataclass(frozen=True)
class KeyRecord:
    """What an idempotency key was used for, so a resend gets the same acknowledgement."""

    seq: int
    ballot: str
    run: int
    choice: Any  # None for secret ballots: the log never links a member to a choice


class Meeting:
    def __init__(self, agenda: Agenda) -> None:
        self.agenda = agenda
        self.attendance: dict[str, str] = {m.id: "absent" for m in agenda.members}
        self.ballots: dict[str, BallotRun] = {b: BallotRun(spec) for b, spec in agenda.ballots.items()}
        self.history: list[BallotRun] = []  # voided runs, kept for the record
        self.current_item: str | None = agenda.items[0].id if agenda.items else None
        self.keys: dict[tuple[str, str], KeyRecord] = {}
        self.documents = DocumentBook()
        self.server_key: str | None = None
        self.certificates: dict[tuple[str, int], e.CertificateIssued] = {}
        self.keypads: dict[str, bool] = {}  # seat -> online, for seats a keypad bridge serves
        self.keypad_lines: dict[str, dict[str, Any]] = {}  # line -> {online, reason, detail, seats}
        self.closed = False
        self.seq = 0

    # -- construction ---------------------------------------------------------------
    @classmethod
    def opening_events(cls, agenda: Agenda, now: float) -> list[e.Event]:
        return [e.SittingOpened(agenda=dict(agenda.source), at=now)]

    @classmethod
    def from_opening(cls, event: e.SittingOpened) -> Meeting:
        meeting = cls(agenda_from_dict(event.agenda, "log"))
        meeting.seq = 1
        return meeting

    # -- queries --------------------------------------------------------------------
    @property
    def seated(self) -> int:
        return len(self.agenda.voting_members)

    def present_count(self) -> int:
        return sum(1 for m in self.agenda.voting_members if self.attendance[m.id] == "present")

    def quorum_met(self) -> bool:
        return self.agenda.quorum.passes(self.present_count(), self.seated)

    def open_run(self) -> BallotRun | None:
        for run in self.ballots.values():
            if run.is_live:
                return run
        return None

    def turnout(self, run: BallotRun) -> Turnout:
        """Present = voting members checked in now, plus any who voted and left since."""
        present = {m.id for m in self.agenda.voting_members if self.attendance[m.id] == "present"}
        return Turnout(self.seated, len(present | run.voters), len(run.voters))

    def tally(self, run: BallotRun) -> dict[str, Any]:
        return KINDS[run.spec.kind].tally(run.spec, run.choices(), self.turnout(run))

    # -- decide ---------------------------------------------------------------------
    def decide(self, command: c.Command, now: float) -> list[e.Event]:
        if self.closed and not isinstance(command, (c.RecordCertificate, c.RecordServerKey, c.RecallDocuments)):
            raise CommandError("sitting_closed", "the sitting is closed")
        if isinstance(command, c.DOCUMENT_COMMANDS):
            return self.documents.decide(self.agenda, command, now)
        handler = getattr(self, f"_decide_{type(command).__name__}")
        return handler(command, now)

    def _decide_SetAttendance(self, cmd: c.SetAttendance, now: float) -> list[e.Event]:
        if cmd.member not in self.attendance:
            raise CommandError("unknown_member", f"no member {cmd.member!r}")
        if cmd.status not in ATTENDANCE:
            raise CommandError("bad_message", f"status must be one of {', '.join(ATTENDANCE)}")
        if cmd.status == "leave" and cmd.by != "clerk":
            raise CommandError("forbidden", "only the clerk records leave")
        if self.attendance[cmd.member] == cmd.status:
            return []
        return [e.AttendanceChanged(cmd.member, cmd.status, cmd.by, now)]

    def _decide_SelectItem(self, cmd: c.SelectItem, now: float) -> list[e.Event]:
        if cmd.item not in {i.id for i in self.agenda.items}:
            raise CommandError("unknown_item", f"no agenda item {cmd.item!r}")
        return [] if cmd.item == self.current_item else [e.ItemSelected(cmd.item, now)]

    def _decide_CreateBallot(self, cmd: c.CreateBallot, now: float) -> list[e.Event]:
        if cmd.item not in {i.id for i in self.agenda.items}:
            raise CommandError("unknown_item", f"no agenda item {cmd.item!r}")
        try:
            spec = ballot_from_dict(
                cmd.spec, "ballot", cmd.item, self.agenda.source["meeting"].get("rule", "majority_of_all")
            )
        except AgendaError as exc:
            raise CommandError("invalid_ballot", "; ".join(exc.problems)) from None
        if spec.id in self.ballots:
            raise CommandError("invalid_ballot", f"a ballot {spec.id!r} already exists")
        return [e.BallotCreated(dict(cmd.spec), cmd.item, now)]

    def _decide_CreateFurtherRound(self, cmd: c.CreateFurtherRound, now: float) -> list[e.Event]:
        run = self.ballots.get(cmd.ballot)
        if run is None:
            raise CommandError("unknown_ballot", f"no ballot {cmd.ballot!r}")
        further = getattr(KINDS[run.spec.kind], "further_round", None)
        if further is None or run.result is None or run.status not in ("closed", "announced"):
            raise CommandError("bad_state", "only a closed election can lead to a further round")
        try:
            spec = further(run.spec, run.result)
        except ValueError as exc:
            raise CommandError("bad_state", str(exc)) from None
        return self._decide_CreateBallot(c.CreateBallot(run.spec.item, spec), now)

    def _run_for(self, ballot: str, action: str) -> BallotRun:
        run = self.ballots.get(ballot)
        if run is None:
            raise CommandError("unknown_ballot", f"no ballot {ballot!r}")
        allowed, _ = TRANSITIONS[action]
        if run.status not in allowed:
            raise CommandError("bad_state", f"cannot {action} a ballot that is {run.status}")
        return run

    def _decide_OpenBallot(self, cmd: c.OpenBallot, now: float) -> list[e.Event]:
        run = self._run_for(cmd.ballot, "open")
        live = self.open_run()
        if live is not None:
            raise CommandError("another_ballot_open", f"ballot {live.spec.id!r} is still open")
        countdown = cmd.countdown if cmd.countdown is not None else run.spec.countdown
        if countdown is not None and not 5 <= countdown <= 3600:
            raise CommandError("bad_message", "countdown must be between 5 and 3600 seconds")
        deadline = now + countdown if countdown else None
        return [e.BallotOpened(cmd.ballot, run.run + 1, now, deadline)]

    def _decide_HoldBallot(self, cmd: c.HoldBallot, now: float) -> list[e.Event]:
        run = self._run_for(cmd.ballot, "hold")
        remaining = max(0.0, run.deadline - now) if run.deadline is not None else None
        return [e.BallotHeld(cmd.ballot, run.run, now, remaining)]

    def _decide_ResumeBallot(self, cmd: c.ResumeBallot, now: float) -> list[e.Event]:
        run = self._run_for(cmd.ballot, "resume")
        deadline = now + run.remaining if run.remaining is not None else None
        return [e.BallotResumed(cmd.ballot, run.run, now, deadline)]

    def _decide_CloseBallot(self, cmd: c.CloseBallot, now: float) -> list[e.Event]:
        run = self._run_for(cmd.ballot, "close")
        result = self.tally(run)
        digest = urn_digest(run.choices()) if run.spec.secret else ""
        return [e.BallotClosed(cmd.ballot, run.run, now, result, digest)]

    def _decide_AnnounceBallot(self, cmd: c.AnnounceBallot, now: float) -> list[e.Event]:
        run = self._run_for(cmd.ballot, "announce")
        return [e.BallotAnnounced(cmd.ballot, run.run, now)]

    def _decide_VoidBallot(self, cmd: c.VoidBallot, now: float) -> list[e.Event]:
        run = self._run_for(cmd.ballot, "void")
        return [e.BallotVoided(cmd.ballot, run.run, now, cmd.reason[:200])]

    def _decide_CloseSitting(self, cmd: c.CloseSitting, now: float) -> list[e.Event]:
        live = self.open_run()
        if live is not None:
            raise CommandError("another_ballot_open", f"ballot {live.spec.id!r} is still open")
        # confidential documents are recalled from every tablet when the sitting ends
        return [*self.documents.recall(None, now), e.SittingClosed(now)]

    def _decide_SetKeypadStatus(self, cmd: c.SetKeypadStatus, now: float) -> list[e.Event]:
        if self.agenda.member_at_seat(cmd.seat) is None:
            raise CommandError("unknown_seat", f"no seat {cmd.seat!r}")
        if self.keypads.get(cmd.seat) == cmd.online:
            return []
        return [e.KeypadStatusChanged(cmd.seat, cmd.online, now)]

    def _decide_SetKeypadLine(self, cmd: c.SetKeypadLine, now: float) -> list[e.Event]:
        for seat in cmd.seats:
            if self.agenda.member_at_seat(seat) is None:
                raise CommandError("unknown_seat", f"no seat {seat!r}")
        state = {"online": cmd.online, "reason": cmd.reason, "detail": cmd.detail, "seats": list(cmd.seats)}
        if self.keypad_lines.get(cmd.line) == state:
            return []
        return [e.KeypadLineChanged(cmd.line, cmd.online, cmd.reason, cmd.detail, list(cmd.seats), now)]

    def _decide_RecordServerKey(self, cmd: c.RecordServerKey, now: float) -> list[e.Event]:
        if self.server_key == cmd.public_key:
            return []
        return [e.ServerKeyRecorded(cmd.public_key, cmd.fingerprint, now)]

    def _decide_RecordCertificate(self, cmd: c.RecordCertificate, now: float) -> list[e.Event]:
        run = self._run_of(cmd.ballot, cmd.run)
        if run.result is None:
            raise CommandError("bad_state", "a certificate needs a closed ballot")
        return [e.CertificateIssued(cmd.ballot, cmd.run, cmd.seq, cmd.digest, cmd.payload, cmd.file_sha256, now)]

    def keypad_refusals(self, ballot: str) -> list[str]:
        """Keypad seats that cannot vote this ballot (its kind needs more than three keys)."""
        from .kinds import keypad_ok

        run = self.ballots[ballot]
        if keypad_ok(run.spec):
            return []
        return sorted(self.keypads)

    def _decide_Cast(self, cmd: c.Cast, now: float) -> list[e.Event]:
        run = self.ballots.get(cmd.ballot)
        if run is None:
            raise CommandError("unknown_ballot", f"no ballot {cmd.ballot!r}")
        if run.status == "held":
            raise CommandError("ballot_held", "voting is on hold")
        if run.status != "open" or (run.deadline is not None and now >= run.deadline):
            code = "ballot_not_open" if run.status in ("draft", "voided") else "ballot_closed"
            raise CommandError(code, "this ballot is not open for voting")
        member = self.agenda.member(cmd.member)
        if member is None:
            raise CommandError("unknown_member", f"no member {cmd.member!r}")
        if not member.can_vote:
            raise CommandError("no_voting_right", "this member has no vote")
        if self.attendance[cmd.member] != "present":
            raise CommandError("not_checked_in", "check in before voting")
        choice = KINDS[run.spec.kind].normalize_choice(run.spec, cmd.choice)
        first = cmd.member not in run.voters
        if not first and not run.spec.allow_change:
            raise CommandError("already_voted", "your first vote counts in this ballot")
        cast = e.VoteCast(cmd.ballot, run.run, cmd.member, cmd.key, now, first, None if run.spec.secret else choice)
        if not run.spec.secret:
            return [cast]
        if not cmd.entry:
            raise ValueError("a secret cast needs a random urn entry id from the adapter")
        out: list[e.Event] = [cast]
        if not first:
            old = run.slots.get(cmd.member)
            if old is None:
                raise CommandError("vote_locked", "this secret vote can no longer be changed")
            out.append(e.SecretChoiceWithdrawn(cmd.ballot, run.run, old))
        out.append(e.SecretChoice(cmd.ballot, run.run, cmd.entry, choice, member=cmd.member))
        return out

    # -- apply ----------------------------------------------------------------------
    def apply(self, event: e.Event, seq: int | None = None) -> None:
        """Fold one event. ``seq`` is the log position of logged events."""
        if seq is not None:
            self.seq = seq
        if isinstance(event, e.DOCUMENT_EVENTS):
            self.documents.apply(event)
            return
        getattr(self, f"_apply_{type(event).__name__}")(event, seq)

    def _apply_SittingOpened(self, ev: e.SittingOpened, seq: int | None) -> None:
        pass

    def _apply_SittingClosed(self, ev: e.SittingClosed, seq: int | None) -> None:
        self.closed = True

    def _apply_AttendanceChanged(self, ev: e.AttendanceChanged, seq: int | None) -> None:
        self.attendance[ev.member] = ev.status

    def _apply_ItemSelected(self, ev: e.ItemSelected, seq: int | None) -> None:
        self.current_item = ev.item

    def _apply_BallotCreated(self, ev: e.BallotCreated, seq: int | None) -> None:
        spec = ballot_from_dict(
            ev.spec, "ballot", ev.item, self.agenda.source["meeting"].get("rule", "majority_of_all")
        )
        self.ballots[spec.id] = BallotRun(spec)

    def _apply_BallotOpened(self, ev: e.BallotOpened, seq: int | None) -> None:
        old = self.ballots[ev.ballot]
        if old.status == "voided":
            self.history.append(old)
        self.ballots[ev.ballot] = BallotRun(old.spec, run=ev.run, status="open", opened_at=ev.at, deadline=ev.deadline)

    def _apply_BallotHeld(self, ev: e.BallotHeld, seq: int | None) -> None:
        run = self.ballots[ev.ballot]
        run.status, run.remaining, run.deadline = "held", ev.remaining, None

    def _apply_BallotResumed(self, ev: e.BallotResumed, seq: int | None) -> None:
        run = self.ballots[ev.ballot]
        run.status, run.deadline, run.remaining = "open", ev.deadline, None

    def _apply_BallotClosed(self, ev: e.BallotClosed, seq: int | None) -> None:
        run = self.ballots[ev.ballot]
        run.status, run.closed_at, run.result, run.urn_digest = "closed", ev.at, ev.result, ev.urn_digest
        run.deadline = run.remaining = None
        run.slots.clear()  # the change-of-vote link is forgotten as soon as it is useless

    def _apply_BallotAnnounced(self, ev: e.BallotAnnounced, seq: int | None) -> None:
        self.ballots[ev.ballot].status = "announced"

    def _apply_BallotVoided(self, ev: e.BallotVoided, seq: int | None) -> None:
        run = self.ballots[ev.ballot]
        run.status = "voided"
        run.slots.clear()

    def _apply_VoteCast(self, ev: e.VoteCast, seq: int | None) -> None:
        run = self.ballots[ev.ballot]
        run.voters.add(ev.member)
        if not run.spec.secret:
            run.named[ev.member] = ev.choice
        self.keys[(ev.member, ev.key)] = KeyRecord(seq or 0, ev.ballot, ev.run, ev.choice)

    def _apply_SecretChoice(self, ev: e.SecretChoice, seq: int | None) -> None:
        run = self._run_of(ev.ballot, ev.run)
        run.urn[ev.entry] = ev.choice
        if ev.member is not None and run.is_live and run.spec.allow_change:
            run.slots[ev.member] = ev.entry

    def _apply_SecretChoiceWithdrawn(self, ev: e.SecretChoiceWithdrawn, seq: int | None) -> None:
        self._run_of(ev.ballot, ev.run).urn.pop(ev.entry, None)

    def _apply_ServerKeyRecorded(self, ev: e.ServerKeyRecorded, seq: int | None) -> None:
        self.server_key = ev.public_key

    def _apply_CertificateIssued(self, ev: e.CertificateIssued, seq: int | None) -> None:
        self.certificates[(ev.ballot, ev.run)] = ev

    def _apply_KeypadStatusChanged(self, ev: e.KeypadStatusChanged, seq: int | None) -> None:
        self.keypads[ev.seat] = ev.online

    def _apply_KeypadLineChanged(self, ev: e.KeypadLineChanged, seq: int | None) -> None:
        self.keypad_lines[ev.line] = {
            "online": ev.online,
            "reason": ev.reason,
            "detail": ev.detail,
            "seats": list(ev.seats),
        }

    def _run_of(self, ballot: str, run_no: int) -> BallotRun:
        run = self.ballots[ballot]
        if run.run == run_no:
            return run
        for old in self.history:
            if old.spec.id == ballot and old.run == run_no:
                return old
        raise KeyError(f"{ballot} run {run_no}")
