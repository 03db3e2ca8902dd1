"""The operational log: what an IT person on duty needs to know, one JSON object per line.

The record (the hash-chained log) is the legal truth and lives in the database; this is
for operations: tailing, alerting, log shipping. It says what happened to the sitting
(ballots opened and closed, certificates issued, documents released and recalled, keypad
lines down and back, the sitting closed) and, from the edge, who logged in or paired a
device. It never carries a token, a password, a pairing code or anything a member chose:
entries are built from a fixed list of fields, not by dumping events.

Written through the ``hemicycle.ops`` logger; ``serve`` attaches a file handler
(``<data>/operations.log`` by default, 0600, reopened when logrotate moves it).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import time
from pathlib import Path
from typing import Any

from ..core import events as e

log = logging.getLogger("hemicycle.ops")


def note(what: str, **fields: Any) -> None:
    """One operational entry: ``what`` happened, with plain, non-secret ``fields``."""
    log.info("%s", json.dumps({"at": round(time.time(), 3), "event": what, **fields}, ensure_ascii=False))


class OperationsLog:
    """A sitting listener that notes the events operators care about (``KINDS``)."""

    KINDS = (
        e.BallotOpened,
        e.BallotClosed,
        e.BallotVoided,
        e.BallotAnnounced,
        e.CertificateIssued,
        e.DocumentAdded,
        e.DocumentReleased,
        e.DocumentRecalled,
        e.KeypadLineChanged,
        e.SittingClosed,
    )

    def __call__(self, seq: int, event: e.Event, origin: object = None) -> None:
        if isinstance(event, e.BallotOpened | e.BallotVoided | e.BallotAnnounced):
            note(event.NAME, seq=seq, ballot=event.ballot, run=event.run)
        elif isinstance(event, e.BallotClosed):
            note(
                event.NAME,
                seq=seq,
                ballot=event.ballot,
                run=event.run,
                verdict=event.result.get("verdict"),
                voted=event.result.get("voted"),
            )
        elif isinstance(event, e.CertificateIssued):
            note(event.NAME, seq=seq, ballot=event.ballot, run=event.run, certifies=event.seq)
        elif isinstance(event, e.DocumentAdded):
            note(
                event.NAME,
                seq=seq,
                document=event.info.get("id"),
                pages=event.info.get("page_count"),
                classification=event.info.get("classification"),
                released=event.released,
            )
        elif isinstance(event, e.DocumentReleased | e.DocumentRecalled):
            note(event.NAME, seq=seq, document=event.document)
        elif isinstance(event, e.KeypadLineChanged):
            note(
                "keypad.line.up" if event.online else "keypad.line.down",
                seq=seq,
                line=event.line,
                reason=event.reason,
                seats=len(event.seats),
            )
        elif isinstance(event, e.SittingClosed):
            note(event.NAME, seq=seq)


class _PrivateWatchedFile(logging.handlers.WatchedFileHandler):
    """Reopened when logrotate moves the file, and created 0600 each time: the log names
    who logged in from where, for the operators only."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def attach_file(path: Path) -> logging.Handler:
    """Send the operational log to ``path`` (0600; reopened if logrotate moves it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _PrivateWatchedFile(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler
