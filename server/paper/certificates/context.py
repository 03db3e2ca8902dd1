"""What a certificate or record is drawn from: plain frozen data, no server objects.

Rendering takes these instead of the meeting state so that the same code prints from a
live sitting, from a replayed log, or from an auditor's recomputation, and so that tests
need no server. Times are epoch seconds; the renderer turns them into wall-clock text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ATTENDANCE = ("present", "leave", "absent")


@dataclass(frozen=True)
class MeetingInfo:
    id: str
    title: str
    body: str = ""  # e.g. 某市人大常委会
    term: str = ""  # e.g. 第十六届
    session: str = ""  # e.g. 第二十三次会议
    date: str = ""


@dataclass(frozen=True)
class MemberRef:
    id: str
    name: str
    seat: str
    votes: bool = True  # False for observers: never counted as seated (the core's Member.can_vote)


@dataclass(frozen=True)
class LogPosition:
    """Where in the hash-chained log the ballot's closing entry sits."""

    seq: int
    digest: str  # hex SHA-256 entry hash


@dataclass(frozen=True)
class BallotRecord:
    """One run of one ballot as printed (a re-run is a second record with ``run`` + 1)."""

    ballot_id: str
    title: str
    kind: str
    secret: bool
    result: Mapping[str, Any] | None  # the result form; None for a voided run
    item_title: str = ""
    run: int = 1
    opened_at: float | None = None
    closed_at: float | None = None
    log: LogPosition | None = None
    urn_digest: str | None = None  # SHA-256 of the sorted ballot set (secret ballots)
    choices: Mapping[str, Any] | None = None  # member id -> choice; named ballots only
    voided: bool = False


@dataclass(frozen=True)
class SpeechRecord:
    """One speech from the floor, as the record prints it (in the order given)."""

    item_title: str
    name: str
    seat: str
    group: str
    kind: str  # normal | point_of_order | reply
    start: float
    seconds: float
    limit: int | None = None  # the limit it was given; an overrun is printed beside it


@dataclass(frozen=True)
class CertificateContext:
    meeting: MeetingInfo
    ballot: BallotRecord
    members: Sequence[MemberRef] = ()  # needed for the named annex
    qr_payload: str | None = None  # from payload.sign_payload
    timezone: str | None = None  # IANA name; None = this machine's local time


@dataclass(frozen=True)
class RecordContext:
    meeting: MeetingInfo
    members: Sequence[MemberRef]
    attendance: Mapping[str, str]  # member id -> present | leave | absent (missing = absent)
    ballots: Sequence[BallotRecord] = ()
    public_key: Ed25519PublicKey | None = None
    log_head: LogPosition | None = None
    head_payload: str | None = None  # the head signed (server/paper/head.py), in the PDF's metadata
    generated_at: float | None = None
    timezone: str | None = None
    speeches: Sequence[SpeechRecord] = ()  # the floor: who spoke on what, for how long
