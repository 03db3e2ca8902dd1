"""The meeting state machine: ``decide`` turns a command into a decision, ``apply`` folds events.

``decide`` never mutates; ``apply`` never refuses. Restart is replay: a new Meeting fed
the stored events (and a secret urn's entries) reaches the same state. Both dispatch
through explicit tables (``DECIDE``, ``APPLY``) over every command and event type; a test
checks that no type is missing, so a new command cannot be forgotten in one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import commands as c
from . import events as e
from .agenda import Agenda, agenda_from_dict, ballot_from_dict
from .ballot_state import LIFECYCLE, BallotRun, Status, urn_digest
from .bounds import MAX_BALLOTS, shown
from .decision import Decision, Draw, Receipt, Warning
from .documents import DocumentBook
from .errors import AgendaError, CommandError
from .floor import Floor
from .kinds import KINDS, keypad_ok
from .kinds.common import Turnout

ATTENDANCE = ("present", "absent", "leave")
#: what may still happen once the sitting is closed: paper, and recalling documents
AFTER_CLOSE = frozenset({c.RecordCertificate, c.RecordServerKey, c.RecallDocuments})
#: how many of an ad hoc ballot's problems ``invalid_ballot`` lists
PROBLEMS_SHOWN = 20


class Meeting:
    def __init__(self, agenda: Agenda) -> None:
        self.agenda = agenda
        self.attendance: dict[str, str] = {m.id: "absent" for m in agenda.members}
        self.attendance_changes = 0  # grows with each change: what caches of attendance key on
        self.ballots: dict[str, BallotRun] = {b: BallotRun(spec) for b, spec in agenda.ballots.items()}
        self.history: list[BallotRun] = []  # voided runs, kept for the record
        self.current_item: str | None = agenda.items[0].id if agenda.items else None
        self.keys: dict[tuple[str, str], Receipt] = {}  # (member, key)
        self.documents = DocumentBook()
        self.floor = Floor()
        self.server_key: str | None = None
        self.certificates: dict[tuple[str, int], e.CertificateIssued] = {}
        self.void_certificates: dict[tuple[str, int], e.CertificateIssued] = {}  # re-issued marked VOID
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
    def decide(self, command: c.Command, now: float, draw: Draw) -> Decision:
        """Check ``command`` against the rules at time ``now``; ``draw`` gives fresh random ids.

        Raises CommandError when refused. Mutates nothing: the caller applies the events.
        """
        if self.closed and type(command) not in AFTER_CLOSE:
            raise CommandError("sitting_closed", "the sitting is closed")
        return DECIDE[type(command)](self, command, now, draw)

    def _attendance(self, cmd: c.SetAttendance, now: float, draw: Draw) -> Decision:
        if cmd.member not in self.attendance:
            raise CommandError("unknown_member", f"no member {shown(cmd.member)}")
        if cmd.status not in ATTENDANCE:
            raise CommandError("bad_message", f"status must be one of {', '.join(ATTENDANCE)}")
        if cmd.status == "leave" and cmd.by != "clerk":
            raise CommandError("forbidden", "only the clerk records leave")
        if self.attendance[cmd.member] == cmd.status:
            return Decision()
        return Decision([e.AttendanceChanged(cmd.member, cmd.status, cmd.by, now)])

    def _attendance_many(self, cmd: c.SetAttendanceMany, now: float, draw: Draw) -> Decision:
        """All or nothing: one unknown member or bad status refuses the whole command."""
        if len(set(cmd.members)) != len(cmd.members):
            raise CommandError("bad_message", "a member is listed twice")
        events: list[e.Event] = []
        for member in cmd.members:
            events.extend(self._attendance(c.SetAttendance(member, cmd.status, cmd.by), now, draw).events)
        return Decision(events)

    def _select_item(self, cmd: c.SelectItem, now: float, draw: Draw) -> Decision:
        if cmd.item not in {i.id for i in self.agenda.items}:
            raise CommandError("unknown_item", f"no agenda item {shown(cmd.item)}")
        return Decision() if cmd.item == self.current_item else Decision([e.ItemSelected(cmd.item, now)])

    def _create_ballot(self, cmd: c.CreateBallot, now: float, draw: Draw) -> Decision:
        if cmd.item not in {i.id for i in self.agenda.items}:
            raise CommandError("unknown_item", f"no agenda item {shown(cmd.item)}")
        try:
            spec = ballot_from_dict(cmd.spec, "ballot", cmd.item, self._default_rule, self._default_reveal)
        except AgendaError as exc:
            # the first problems name what to fix; an answer should not outgrow the question
            more = len(exc.problems) - PROBLEMS_SHOWN
            shown_problems = exc.problems[:PROBLEMS_SHOWN] + ([f"and {more} more"] if more > 0 else [])
            raise CommandError("invalid_ballot", "; ".join(shown_problems)) from None
        if spec.id in self.ballots:
            raise CommandError("invalid_ballot", f"a ballot {shown(spec.id)} already exists")
        if len(self.ballots) >= MAX_BALLOTS:
            raise CommandError("invalid_ballot", f"a sitting holds at most {MAX_BALLOTS} ballots")
        return Decision([e.BallotCreated(dict(cmd.spec), cmd.item, now)])

    def _further_round(self, cmd: c.CreateFurtherRound, now: float, draw: Draw) -> Decision:
        run = self.ballots.get(cmd.ballot)
        if run is None:
            raise CommandError("unknown_ballot", f"no ballot {shown(cmd.ballot)}")
        further = getattr(KINDS[run.spec.kind], "further_round", None)
        if further is None or run.result is None or run.status not in (Status.CLOSED, Status.ANNOUNCED):
            raise CommandError("bad_state", "only a closed election can lead to a further round")
        try:
            spec = further(run.spec, run.result)
        except ValueError as exc:
            raise CommandError("bad_state", str(exc)) from None
        if spec["id"] in self.ballots:
            raise CommandError("bad_state", f"the further round {spec['id']!r} has already been created")
        return self._create_ballot(c.CreateBallot(run.spec.item, spec), now, draw)

    @property
    def _default_rule(self) -> Any:
        """The meeting's default rule as the agenda gives it: a preset name or a rule table."""
        return self.agenda.source["meeting"].get("rule", "majority_of_all")

    @property
    def _default_reveal(self) -> str:
        return str(self.agenda.source["meeting"].get("reveal", "on_close"))

    def _run_for(self, ballot: str, event: type[e.Event]) -> BallotRun:
        """The ballot's current run, if it may take the lifecycle step ``event``."""
        run = self.ballots.get(ballot)
        if run is None:
            raise CommandError("unknown_ballot", f"no ballot {shown(ballot)}")
        step = LIFECYCLE[event]
        if run.status not in step.sources:
            raise CommandError("bad_state", f"cannot {step.verb} a ballot that is {run.status}")
        return run

    def _open(self, cmd: c.OpenBallot, now: float, draw: Draw) -> Decision:
        run = self._run_for(cmd.ballot, e.BallotOpened)
        live = self.open_run()
        if live is not None:
            raise CommandError("another_ballot_open", f"ballot {live.spec.id!r} is still open")
        # no countdown given: the agenda's; 0: explicitly none (the clerk emptied the field)
        countdown = cmd.countdown if cmd.countdown is not None else run.spec.countdown
        if countdown and not 5 <= countdown <= 3600:
            raise CommandError("bad_message", "countdown must be 0 (none) or between 5 and 3600 seconds")
        deadline = now + countdown if countdown else None
        refused = self.keypad_refusals(cmd.ballot)
        warnings = (Warning("keypad_unsupported", tuple(refused)),) if refused else ()
        events: list[e.Event] = []
        if run.spec.item != self.current_item:
            # the item being voted on is the current one, so tablets show the right 当前议程
            events.append(e.ItemSelected(run.spec.item, now))
        events.append(e.BallotOpened(cmd.ballot, run.run + 1, now, deadline))
        return Decision(events, warnings=warnings)

    def _hold(self, cmd: c.HoldBallot, now: float, draw: Draw) -> Decision:
        run = self._run_for(cmd.ballot, e.BallotHeld)
        remaining = max(0.0, run.deadline - now) if run.deadline is not None else None
        return Decision([e.BallotHeld(cmd.ballot, run.run, now, remaining)])

    def _resume(self, cmd: c.ResumeBallot, now: float, draw: Draw) -> Decision:
        run = self._run_for(cmd.ballot, e.BallotResumed)
        deadline = now + run.remaining if run.remaining is not None else None
        return Decision([e.BallotResumed(cmd.ballot, run.run, now, deadline)])

    def _close(self, cmd: c.CloseBallot, now: float, draw: Draw) -> Decision:
        run = self._run_for(cmd.ballot, e.BallotClosed)
        result = self.tally(run)
        digest = urn_digest(run.choices()) if run.spec.secret else ""
        return Decision([e.BallotClosed(cmd.ballot, run.run, now, result, digest)])

    def _announce(self, cmd: c.AnnounceBallot, now: float, draw: Draw) -> Decision:
        run = self._run_for(cmd.ballot, e.BallotAnnounced)
        return Decision([e.BallotAnnounced(cmd.ballot, run.run, now)])

    def _void(self, cmd: c.VoidBallot, now: float, draw: Draw) -> Decision:
        run = self._run_for(cmd.ballot, e.BallotVoided)
        return Decision([e.BallotVoided(cmd.ballot, run.run, now, cmd.reason[:200])])

    def _close_sitting(self, cmd: c.CloseSitting, now: float, draw: Draw) -> Decision:
        live = self.open_run()
        if live is not None:
            raise CommandError("another_ballot_open", f"ballot {live.spec.id!r} is still open")
        # confidential documents are recalled from every tablet when the sitting ends
        # and nobody keeps the floor: the last speech ends with the sitting, in the record
        return Decision([*self.floor.end(now), *self.documents.recall(None, now), e.SittingClosed(now)])

    def _keypad_status(self, cmd: c.SetKeypadStatus, now: float, draw: Draw) -> Decision:
        if self.agenda.member_at_seat(cmd.seat) is None:
            raise CommandError("unknown_seat", f"no seat {shown(cmd.seat)}")
        if self.keypads.get(cmd.seat) == cmd.online:
            return Decision()
        return Decision([e.KeypadStatusChanged(cmd.seat, cmd.online, now)])

    def _keypad_line(self, cmd: c.SetKeypadLine, now: float, draw: Draw) -> Decision:
        for seat in cmd.seats:
            if self.agenda.member_at_seat(seat) is None:
                raise CommandError("unknown_seat", f"no seat {seat!r}")
        state = {"online": cmd.online, "reason": cmd.reason, "detail": cmd.detail, "seats": list(cmd.seats)}
        if self.keypad_lines.get(cmd.line) == state:
            return Decision()
        return Decision([e.KeypadLineChanged(cmd.line, cmd.online, cmd.reason, cmd.detail, list(cmd.seats), now)])

    def _server_key(self, cmd: c.RecordServerKey, now: float, draw: Draw) -> Decision:
        if self.server_key == cmd.public_key:
            return Decision()
        return Decision([e.ServerKeyRecorded(cmd.public_key, cmd.fingerprint, now)])

    def _certificate(self, cmd: c.RecordCertificate, now: float, draw: Draw) -> Decision:
        run = self._run_of(cmd.ballot, cmd.run)
        if run.result is None:
            raise CommandError("bad_state", "a certificate needs a closed ballot")
        if cmd.void and run.status != Status.VOIDED:
            raise CommandError("bad_state", "only a voided run's certificate is marked VOID")
        issued = e.CertificateIssued(cmd.ballot, cmd.run, cmd.seq, cmd.digest, cmd.payload, cmd.file_sha256, now)
        return Decision([replace(issued, void=True) if cmd.void else issued])

    def keypad_refusals(self, ballot: str) -> list[str]:
        """Keypad seats that cannot vote this ballot (its kind needs more than three keys)."""
        run = self.ballots[ballot]
        if keypad_ok(run.spec):
            return []
        return sorted(self.keypads)

    def _cast(self, cmd: c.Cast, now: float, draw: Draw) -> Decision:
        key = (cmd.member, cmd.key)
        if key in self.keys:  # a resend: the same receipt, counted once
            return Decision(cast=key)
        run = self.ballots.get(cmd.ballot)
        if run is None:
            raise CommandError("unknown_ballot", f"no ballot {shown(cmd.ballot)}")
        if run.status == Status.HELD:
            raise CommandError("ballot_held", "voting is on hold")
        if run.status != Status.OPEN or (run.deadline is not None and now >= run.deadline):
            code = "ballot_not_open" if run.status in (Status.DRAFT, Status.VOIDED) else "ballot_closed"
            raise CommandError(code, "this ballot is not open for voting")
        member = self.agenda.member(cmd.member)
        if member is None:
            raise CommandError("unknown_member", f"no member {shown(cmd.member)}")
        if not member.can_vote:
            raise CommandError("no_voting_right", "this member has no vote")
        if self.attendance[cmd.member] != "present":
            raise CommandError("not_checked_in", "check in before voting")
        choice = KINDS[run.spec.kind].normalize_choice(run.spec, cmd.choice)
        first = cmd.member not in run.voters
        if not first and not run.spec.allow_change:
            raise CommandError("already_voted", "your first vote counts in this ballot")
        secret = run.spec.secret
        cast = e.VoteCast(cmd.ballot, run.run, cmd.member, cmd.key, now, first, None if secret else choice)
        if not secret:
            return Decision([cast], cast=key)
        out: list[e.Event] = [cast]
        if not first:
            old = run.slots.get(cmd.member)
            if old is None:
                raise CommandError("vote_locked", "this secret vote can no longer be changed")
            out.append(e.SecretChoiceWithdrawn(cmd.ballot, run.run, old))
        out.append(e.SecretChoice(cmd.ballot, run.run, draw(), choice, member=cmd.member))
        return Decision(out, cast=key)

    def _documents(self, cmd: c.Command, now: float, draw: Draw) -> Decision:
        return Decision(self.documents.decide(self.agenda, cmd, now))

    def _floor(self, cmd: c.Command, now: float, draw: Draw) -> Decision:
        return Decision(self.floor.decide(self.agenda, self.attendance, self.current_item, cmd, now))

    # -- apply ----------------------------------------------------------------------
    def apply(self, event: e.Event, seq: int | None = None) -> None:
        """Fold one event. ``seq`` is the log position of logged events."""
        if seq is not None:
            self.seq = seq
        APPLY[type(event)](self, event, seq)

    def _opened(self, ev: e.SittingOpened, seq: int | None) -> None:
        pass

    def _sitting_closed(self, ev: e.SittingClosed, seq: int | None) -> None:
        self.closed = True

    def _attendance_changed(self, ev: e.AttendanceChanged, seq: int | None) -> None:
        self.attendance[ev.member] = ev.status
        self.attendance_changes += 1

    def _item_selected(self, ev: e.ItemSelected, seq: int | None) -> None:
        self.current_item = ev.item

    def _ballot_created(self, ev: e.BallotCreated, seq: int | None) -> None:
        spec = ballot_from_dict(ev.spec, "ballot", ev.item, self._default_rule, self._default_reveal)
        self.ballots[spec.id] = BallotRun(spec)

    def _ballot_opened(self, ev: e.BallotOpened, seq: int | None) -> None:
        old = self.ballots[ev.ballot]
        if old.status == Status.VOIDED:
            self.history.append(old)
        self.ballots[ev.ballot] = BallotRun(
            old.spec, run=ev.run, status=LIFECYCLE[e.BallotOpened].target, opened_at=ev.at, deadline=ev.deadline
        )

    def _ballot_held(self, ev: e.BallotHeld, seq: int | None) -> None:
        run = self._step(ev, ev.ballot)
        run.remaining, run.deadline = ev.remaining, None

    def _ballot_resumed(self, ev: e.BallotResumed, seq: int | None) -> None:
        run = self._step(ev, ev.ballot)
        run.deadline, run.remaining = ev.deadline, None

    def _ballot_closed(self, ev: e.BallotClosed, seq: int | None) -> None:
        run = self._step(ev, ev.ballot)
        run.closed_at, run.result, run.urn_digest = ev.at, ev.result, ev.urn_digest
        run.deadline = run.remaining = None
        run.slots.clear()  # the change-of-vote link is forgotten as soon as it is useless

    def _ballot_announced(self, ev: e.BallotAnnounced, seq: int | None) -> None:
        self._step(ev, ev.ballot).announced_at = ev.at

    def _ballot_voided(self, ev: e.BallotVoided, seq: int | None) -> None:
        self._step(ev, ev.ballot).slots.clear()

    def _step(self, ev: e.Event, ballot: str) -> BallotRun:
        """A lifecycle event moves the run to the state the transition table names."""
        run = self.ballots[ballot]
        run.status = LIFECYCLE[type(ev)].target
        return run

    def _vote_cast(self, ev: e.VoteCast, seq: int | None) -> None:
        run = self.ballots[ev.ballot]
        run.voters.add(ev.member)
        if not run.spec.secret:
            run.named[ev.member] = ev.choice
        self.keys[(ev.member, ev.key)] = Receipt(seq or 0, ev.ballot, ev.run, ev.key, ev.choice)

    def _secret_choice(self, ev: e.SecretChoice, seq: int | None) -> None:
        run = self._run_of(ev.ballot, ev.run)
        run.urn[ev.entry] = ev.choice
        if ev.member is not None and run.is_live and run.spec.allow_change:
            run.slots[ev.member] = ev.entry

    def _secret_withdrawn(self, ev: e.SecretChoiceWithdrawn, seq: int | None) -> None:
        self._run_of(ev.ballot, ev.run).urn.pop(ev.entry, None)

    def _server_key_recorded(self, ev: e.ServerKeyRecorded, seq: int | None) -> None:
        self.server_key = ev.public_key

    def _certificate_issued(self, ev: e.CertificateIssued, seq: int | None) -> None:
        (self.void_certificates if ev.void else self.certificates)[(ev.ballot, ev.run)] = ev

    def _keypad_changed(self, ev: e.KeypadStatusChanged, seq: int | None) -> None:
        self.keypads[ev.seat] = ev.online

    def _keypad_line_changed(self, ev: e.KeypadLineChanged, seq: int | None) -> None:
        self.keypad_lines[ev.line] = {
            "online": ev.online,
            "reason": ev.reason,
            "detail": ev.detail,
            "seats": list(ev.seats),
        }

    def _document_event(self, ev: e.Event, seq: int | None) -> None:
        self.documents.apply(ev)

    def _floor_event(self, ev: e.Event, seq: int | None) -> None:
        self.floor.apply(ev)

    def _run_of(self, ballot: str, run_no: int) -> BallotRun:
        run = self.ballots[ballot]
        if run.run == run_no:
            return run
        for old in self.history:
            if old.spec.id == ballot and old.run == run_no:
                return old
        raise KeyError(f"{ballot} run {run_no}")


Decide = Callable[[Meeting, Any, float, Draw], Decision]
Apply = Callable[[Meeting, Any, "int | None"], None]

#: every command type -> its rule (tests/test_meeting.py checks that none is missing)
DECIDE: dict[type[c.Command], Decide] = {
    c.SetAttendance: Meeting._attendance,
    c.SetAttendanceMany: Meeting._attendance_many,
    c.SelectItem: Meeting._select_item,
    c.CreateBallot: Meeting._create_ballot,
    c.CreateFurtherRound: Meeting._further_round,
    c.OpenBallot: Meeting._open,
    c.HoldBallot: Meeting._hold,
    c.ResumeBallot: Meeting._resume,
    c.CloseBallot: Meeting._close,
    c.AnnounceBallot: Meeting._announce,
    c.VoidBallot: Meeting._void,
    c.Cast: Meeting._cast,
    c.CloseSitting: Meeting._close_sitting,
    c.SetKeypadStatus: Meeting._keypad_status,
    c.SetKeypadLine: Meeting._keypad_line,
    c.RecordServerKey: Meeting._server_key,
    c.RecordCertificate: Meeting._certificate,
    **dict.fromkeys(c.DOCUMENT_COMMANDS, Meeting._documents),
    **dict.fromkeys(c.FLOOR_COMMANDS, Meeting._floor),
}

#: every event type -> how it changes the state
APPLY: dict[type[e.Event], Apply] = {
    e.SittingOpened: Meeting._opened,
    e.SittingClosed: Meeting._sitting_closed,
    e.AttendanceChanged: Meeting._attendance_changed,
    e.ItemSelected: Meeting._item_selected,
    e.BallotCreated: Meeting._ballot_created,
    e.BallotOpened: Meeting._ballot_opened,
    e.BallotHeld: Meeting._ballot_held,
    e.BallotResumed: Meeting._ballot_resumed,
    e.BallotClosed: Meeting._ballot_closed,
    e.BallotAnnounced: Meeting._ballot_announced,
    e.BallotVoided: Meeting._ballot_voided,
    e.VoteCast: Meeting._vote_cast,
    e.SecretChoice: Meeting._secret_choice,
    e.SecretChoiceWithdrawn: Meeting._secret_withdrawn,
    e.ServerKeyRecorded: Meeting._server_key_recorded,
    e.CertificateIssued: Meeting._certificate_issued,
    e.KeypadStatusChanged: Meeting._keypad_changed,
    e.KeypadLineChanged: Meeting._keypad_line_changed,
    **dict.fromkeys(e.DOCUMENT_EVENTS, Meeting._document_event),
    **dict.fromkeys(e.FLOOR_EVENTS, Meeting._floor_event),
}
