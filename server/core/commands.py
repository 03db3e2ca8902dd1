"""Commands: what a member, clerk or device asks the meeting to do.

Adapters build these from validated protocol messages; the meeting decides them into
events or refuses them with a CommandError. Who asks is the adapter's business (it refuses
a seat speaking for another); where the rules care, a command says so itself
(``SetAttendance.by``: self, clerk or keypad).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    pass


@dataclass(frozen=True)
class SetAttendance(Command):
    member: str
    status: str  # present | absent | leave
    by: str = "self"  # self | clerk | keypad


@dataclass(frozen=True)
class SetAttendanceMany(Command):
    """The clerk marks several members at once (all not yet checked in, say): one command,
    so the changes are decided together and written in one commit."""

    members: tuple[str, ...]
    status: str  # present | absent | leave
    by: str = "clerk"


@dataclass(frozen=True)
class SelectItem(Command):
    item: str


@dataclass(frozen=True)
class CreateBallot(Command):
    item: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class CreateFurtherRound(Command):
    """Create the next round of an election whose result needs one (再次投票)."""

    ballot: str


@dataclass(frozen=True)
class OpenBallot(Command):
    ballot: str
    countdown: int | None = None


@dataclass(frozen=True)
class HoldBallot(Command):
    ballot: str


@dataclass(frozen=True)
class ResumeBallot(Command):
    ballot: str


@dataclass(frozen=True)
class CloseBallot(Command):
    ballot: str


@dataclass(frozen=True)
class AnnounceBallot(Command):
    ballot: str


@dataclass(frozen=True)
class VoidBallot(Command):
    ballot: str
    reason: str = ""


@dataclass(frozen=True)
class Cast(Command):
    """A member's vote; ``key`` (chosen by the client) makes a resend count once."""

    member: str
    ballot: str
    choice: Any
    key: str


@dataclass(frozen=True)
class CloseSitting(Command):
    pass


@dataclass(frozen=True)
class SetKeypadStatus(Command):
    seat: str
    online: bool


@dataclass(frozen=True)
class SetKeypadLine(Command):
    """A whole keypad line went down or came back (keypad bridge): one notice for its seats."""

    line: str
    online: bool
    reason: str  # a code (port_failed, setting_refused, no_answer, fault); "" when online
    detail: str  # the error as the port reported it, for the installer
    seats: tuple[str, ...]


@dataclass(frozen=True)
class RecordServerKey(Command):
    public_key: str
    fingerprint: str


@dataclass(frozen=True)
class RecordCertificate(Command):
    ballot: str
    run: int
    seq: int
    digest: str
    payload: str
    file_sha256: str
    void: bool = False  # the re-issue of a voided run's certificate, marked VOID


@dataclass(frozen=True)
class AddDocument(Command):
    info: dict[str, Any]
    agenda_id: str | None = None
    release: bool = True


@dataclass(frozen=True)
class ReleaseDocument(Command):
    document: str


@dataclass(frozen=True)
class RecordReceipt(Command):
    member: str
    document: str
    state: str  # delivered | opened


@dataclass(frozen=True)
class RecallDocuments(Command):
    document: str | None = None  # None: every confidential document


@dataclass(frozen=True)
class ShowPage(Command):
    document: str
    page: int


DOCUMENT_COMMANDS = (AddDocument, ReleaseDocument, RecordReceipt, RecallDocuments, ShowPage)


@dataclass(frozen=True)
class RequestFloor(Command):
    """Ask to speak on the current item (申请发言): a seat or keypad for its own member, or
    the clerk adding someone (``position``: where in the queue, else by priority)."""

    member: str
    kind: str = "normal"  # normal | point_of_order | reply
    by: str = "self"  # self | clerk | keypad
    position: int | None = None


@dataclass(frozen=True)
class WithdrawFloor(Command):
    member: str
    by: str = "self"


@dataclass(frozen=True)
class RemoveSpeaker(Command):
    member: str


@dataclass(frozen=True)
class MoveSpeaker(Command):
    member: str
    position: int


@dataclass(frozen=True)
class GrantFloor(Command):
    """Give the floor to ``member`` (queued or not), or — without one — to the next in the queue."""

    member: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class EndFloor(Command):
    pass


@dataclass(frozen=True)
class ClearSpeakers(Command):
    pass


FLOOR_COMMANDS = (RequestFloor, WithdrawFloor, RemoveSpeaker, MoveSpeaker, GrantFloor, EndFloor, ClearSpeakers)
