"""Events: explicit frozen dataclasses, each with a stable wire name.

Every change to a sitting is one of these. Events with ``LOGGED = True`` go to the
append-only, hash-chained log. ``SecretChoice`` and ``SecretChoiceWithdrawn`` do not:
they are the ballot box (urn) of a secret ballot and are stored apart, with random ids,
no member, no time and no order (see docs/architecture.md, "Secrecy").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

WIRE_VERSION = 1


@dataclass(frozen=True)
class Event:
    NAME: ClassVar[str] = ""
    LOGGED: ClassVar[bool] = True


@dataclass(frozen=True)
class SittingOpened(Event):
    NAME = "sitting.opened"
    agenda: dict[str, Any]
    at: float
    version: int = WIRE_VERSION


@dataclass(frozen=True)
class SittingClosed(Event):
    NAME = "sitting.closed"
    at: float


@dataclass(frozen=True)
class AttendanceChanged(Event):
    NAME = "attendance.changed"
    member: str
    status: str  # present | absent | leave
    by: str  # self | clerk | keypad
    at: float


@dataclass(frozen=True)
class ItemSelected(Event):
    NAME = "item.selected"
    item: str
    at: float


@dataclass(frozen=True)
class BallotCreated(Event):
    """A ballot defined during the sitting (ad hoc, or a further election round)."""

    NAME = "ballot.created"
    spec: dict[str, Any]
    item: str
    at: float


@dataclass(frozen=True)
class BallotOpened(Event):
    NAME = "ballot.opened"
    ballot: str
    run: int
    at: float
    deadline: float | None = None


@dataclass(frozen=True)
class BallotHeld(Event):
    NAME = "ballot.held"
    ballot: str
    run: int
    at: float
    remaining: float | None = None


@dataclass(frozen=True)
class BallotResumed(Event):
    NAME = "ballot.resumed"
    ballot: str
    run: int
    at: float
    deadline: float | None = None


@dataclass(frozen=True)
class BallotClosed(Event):
    NAME = "ballot.closed"
    ballot: str
    run: int
    at: float
    result: dict[str, Any]
    urn_digest: str = ""


@dataclass(frozen=True)
class BallotAnnounced(Event):
    NAME = "ballot.announced"
    ballot: str
    run: int
    at: float


@dataclass(frozen=True)
class BallotVoided(Event):
    NAME = "ballot.voided"
    ballot: str
    run: int
    at: float
    reason: str = ""


@dataclass(frozen=True)
class VoteCast(Event):
    """Participation: who voted, with the choice only when the ballot is named.

    ``first`` marks a member's first cast in this run: the store keeps one participation
    row per (ballot, run, member) and refuses a second.
    """

    NAME = "vote.cast"
    ballot: str
    run: int
    member: str
    key: str
    at: float
    first: bool = True
    choice: Any = None


@dataclass(frozen=True)
class SecretChoice(Event):
    """A choice in a secret ballot's urn. ``member`` is transient: never stored or sent."""

    NAME = "urn.put"
    LOGGED = False
    ballot: str
    run: int
    entry: str
    choice: Any
    member: str | None = field(default=None, metadata={"transient": True})


@dataclass(frozen=True)
class SecretChoiceWithdrawn(Event):
    """A secret choice replaced by a change of vote (only while the server remembers it)."""

    NAME = "urn.drop"
    LOGGED = False
    ballot: str
    run: int
    entry: str


@dataclass(frozen=True)
class KeypadStatusChanged(Event):
    """A seat's keypad went offline or came back (reported by the keypad bridge)."""

    NAME = "keypad.status"
    seat: str
    online: bool
    at: float


@dataclass(frozen=True)
class KeypadLineChanged(Event):
    """A whole keypad line went down (and why) or came back (reported by the keypad bridge).

    The seats it serves are named, so a screen explains their keypads by the line's notice
    instead of showing each one offline without a cause."""

    NAME = "keypad.line"
    line: str
    online: bool
    reason: str
    detail: str
    seats: list[str]
    at: float


@dataclass(frozen=True)
class ServerKeyRecorded(Event):
    """The public key that signs this sitting's certificates (also printed in the record)."""

    NAME = "sitting.key"
    public_key: str  # PEM
    fingerprint: str
    at: float


@dataclass(frozen=True)
class CertificateIssued(Event):
    """A tally certificate was written: a signed checkpoint of the log at ``seq``."""

    NAME = "certificate.issued"
    ballot: str
    run: int
    seq: int  # the ballot.closed entry it certifies
    digest: str  # that entry's hash
    payload: str  # the signed QR payload
    file_sha256: str
    at: float
    void: bool = False  # re-issued marked 作废 / VOID after the run was voided


@dataclass(frozen=True)
class DocumentAdded(Event):
    """A document joins the sitting (``info``: server.documents.DocumentInfo.to_dict())."""

    NAME = "document.added"
    info: dict[str, Any]
    agenda_id: str | None
    released: bool
    at: float


@dataclass(frozen=True)
class DocumentReleased(Event):
    NAME = "document.released"
    document: str
    at: float


@dataclass(frozen=True)
class DocumentReceipt(Event):
    NAME = "document.receipt"
    document: str
    member: str
    state: str  # delivered | opened
    at: float


@dataclass(frozen=True)
class DocumentRecalled(Event):
    NAME = "document.recalled"
    document: str
    at: float


@dataclass(frozen=True)
class PageShown(Event):
    NAME = "page.shown"
    document: str
    page: int
    at: float


@dataclass(frozen=True)
class SpeakerRequested(Event):
    """A request to speak joins an item's queue at ``position`` (worked out when decided,
    so replay needs no rule)."""

    NAME = "speaker.requested"
    item: str
    member: str
    kind: str  # normal | point_of_order | reply
    by: str  # self | clerk | keypad
    position: int
    at: float


@dataclass(frozen=True)
class SpeakerWithdrawn(Event):
    """The member took back their own request."""

    NAME = "speaker.withdrawn"
    item: str
    member: str
    at: float


@dataclass(frozen=True)
class SpeakerRemoved(Event):
    """The clerk struck a request from the queue."""

    NAME = "speaker.removed"
    item: str
    member: str
    at: float


@dataclass(frozen=True)
class SpeakerMoved(Event):
    NAME = "speaker.moved"
    item: str
    member: str
    position: int
    at: float


@dataclass(frozen=True)
class SpeakerGranted(Event):
    """The member has the floor from ``at``; ``limit`` seconds (None: no limit), a warning
    ``warning`` seconds before it. An audio system opens the member's microphone here."""

    NAME = "speaker.granted"
    item: str
    member: str
    kind: str
    at: float
    limit: int | None = None
    warning: int = 0


@dataclass(frozen=True)
class SpeakerEnded(Event):
    NAME = "speaker.ended"
    item: str
    member: str
    at: float
    seconds: float


@dataclass(frozen=True)
class SpeakersCleared(Event):
    NAME = "speaker.cleared"
    item: str
    at: float


FLOOR_EVENTS = (
    SpeakerRequested,
    SpeakerWithdrawn,
    SpeakerRemoved,
    SpeakerMoved,
    SpeakerGranted,
    SpeakerEnded,
    SpeakersCleared,
)


DOCUMENT_EVENTS = (DocumentAdded, DocumentReleased, DocumentReceipt, DocumentRecalled, PageShown)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.NAME: cls
    for cls in (
        SittingOpened,
        SittingClosed,
        AttendanceChanged,
        ItemSelected,
        BallotCreated,
        BallotOpened,
        BallotHeld,
        BallotResumed,
        BallotClosed,
        BallotAnnounced,
        BallotVoided,
        VoteCast,
        SecretChoice,
        SecretChoiceWithdrawn,
        KeypadStatusChanged,
        KeypadLineChanged,
        ServerKeyRecorded,
        CertificateIssued,
        *DOCUMENT_EVENTS,
        *FLOOR_EVENTS,
    )
}


#: each event type's stored fields (transient ones left out), worked out once
_STORED_FIELDS: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if not f.metadata.get("transient"))
    for cls in EVENT_TYPES.values()
}


def to_data(event: Event) -> dict[str, Any]:
    """The stored and wire form: plain JSON-able data, transient fields left out."""
    data: dict[str, Any] = {"name": event.NAME}
    for name in _STORED_FIELDS[type(event)]:
        data[name] = getattr(event, name)
    return data


def from_data(data: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[data["name"]]
    return cls(**{k: v for k, v in data.items() if k != "name"})
