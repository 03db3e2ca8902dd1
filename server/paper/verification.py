"""Checking the record and the certificates against each other.

`hemicycle verify` = the pure audit (chain + every tally recomputed) plus every
``certificate.issued`` entry: its signature under the sitting's key, and that it certifies
exactly what the log holds at its position. `hemicycle verify-certificate` does the same
for one certificate in hand (a PDF or the payload text read from its QR code).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import events as e
from ..core.audit import AuditReport, Problem, audit
from ..core.chain import LogEntry
from ..store.base import EventStore
from . import certificates as cert
from .head import Head, check_head, unknown_certificates


@dataclass(frozen=True)
class Findings:
    report: AuditReport
    certificates_checked: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.problems


def _events(entries: list[LogEntry]) -> list[e.Event]:
    return [e.from_data(json.loads(entry.body)) for entry in entries]


def check_payload(fields: dict[str, Any], entries: list[LogEntry], events: list[e.Event]) -> str | None:
    """Does the signed payload describe what the log holds? None if yes, else why not."""
    seq = fields.get("s")
    if not isinstance(seq, int) or not 1 <= seq <= len(entries):
        return f"it names log position {seq!r}, which the log does not have"
    if entries[seq - 1].hash != fields.get("h"):
        return f"the log entry at position {seq} has another hash"
    closed = events[seq - 1]
    if not isinstance(closed, e.BallotClosed) or closed.ballot != fields.get("b") or closed.run != fields.get("r"):
        return f"the log entry at position {seq} does not close ballot {fields.get('b')!r} run {fields.get('r')!r}"
    void_seq = fields.get("x")
    if void_seq is not None:
        if not isinstance(void_seq, int) or not seq < void_seq <= len(entries):
            return f"it is marked VOID at log position {void_seq!r}, which the log does not have after its close"
        voided = events[void_seq - 1]
        if not isinstance(voided, e.BallotVoided) or voided.ballot != closed.ballot or voided.run != closed.run:
            return f"it is marked VOID, but the log entry at position {void_seq} does not void this run"
    expected = cert.certificate_fields(
        meeting_id="",
        meeting_title="",
        ballot_id=closed.ballot,
        run=closed.run,
        result=closed.result,
        seq=seq,
        entry_digest=entries[seq - 1].hash,
        void_seq=void_seq,
    )
    printed = {"turnout": fields.get("t"), "counts": cert.counts_from_fields(fields), "verdict": fields.get("d")}
    recorded = {"turnout": expected.get("t"), "counts": cert.counts_from_fields(expected), "verdict": expected.get("d")}
    printed["counts digest"], recorded["counts digest"] = fields.get("cd"), expected.get("cd")
    for label in ("turnout", "counts", "counts digest", "verdict"):
        if printed[label] != recorded[label]:
            return f"its {label} differ from the record: {printed[label]!r} printed, {recorded[label]!r} recorded"
    return None


def verify_store(store: EventStore, heads: Sequence[Head] = (), data_dir: Path | None = None) -> Findings:
    """The audit, every certificate in the log, that the log still reaches every head given
    (server/paper/head.py) and, with ``data_dir``, that every certificate on disk is in the log."""
    stored = store.load()
    problems: list[Problem] = [p for p in (check_head(stored.entries, h) for h in heads) if p is not None]
    if data_dir is not None:
        problems += unknown_certificates(data_dir, stored.entries)
    report = audit(stored.entries, [(u.ballot, u.run, u.choice) for u in stored.urn], store.load_participation())
    if not report.ok:
        return Findings(report, 0, problems)
    events = _events(stored.entries)
    key: str | None = None
    checked = 0
    for entry, event in zip(stored.entries, events):
        if isinstance(event, e.ServerKeyRecorded):
            key = event.public_key
        if not isinstance(event, e.CertificateIssued):
            continue
        checked += 1
        if key is None:
            problems.append(Problem(entry.seq, "a certificate was issued before any signing key was recorded"))
            continue
        try:
            fields = cert.verify_payload(key, event.payload)
        except cert.InvalidPayload as exc:
            problems.append(Problem(entry.seq, f"certificate for {event.ballot} run {event.run}: {exc}"))
            continue
        why = check_payload(fields, stored.entries, events)
        if why:
            problems.append(Problem(entry.seq, f"certificate for {event.ballot} run {event.run}: {why}"))
    return Findings(report, checked, problems)


def payload_from(source: str) -> str:
    """The payload text: given as is, or read from a certificate PDF's metadata."""
    if source.strip().startswith("HC1:"):
        return source.strip()
    path = Path(source)
    if not path.exists():
        raise ValueError(f"{source} is neither a payload (HC1:...) nor a file")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise ValueError(f"{source} is not a readable PDF: {exc}") from None
    subject = pdf.get_metadata_dict().get("Subject", "")
    pdf.close()
    if not subject.startswith("HC1:"):
        raise ValueError(f"{source} carries no Hemicycle certificate payload")
    return subject


def verify_certificate(source: str, store: EventStore, public_key_pem: str | None) -> tuple[bool, str]:
    try:
        text = payload_from(source)
    except ValueError as exc:
        return False, str(exc)
    stored = store.load()
    events = _events(stored.entries)
    key = public_key_pem
    used = "the key given"
    if key is None:
        recorded = [ev.public_key for ev in events if isinstance(ev, e.ServerKeyRecorded)]
        if not recorded:
            return False, "the log records no signing key; pass --key with the key printed in the sitting record"
        key, used = recorded[-1], "the key recorded in the log"
    try:
        fields = cert.verify_payload(key, text)
    except cert.InvalidPayload as exc:
        return False, f"the signature does not hold: {exc}"
    report = audit(stored.entries, [(u.ballot, u.run, u.choice) for u in stored.urn], store.load_participation())
    if not report.ok:
        return False, f"the record itself fails verification: {report.problems[0]}"
    why = check_payload(fields, stored.entries, events)
    if why:
        return False, f"the certificate does not match the record: {why}"
    fp = cert.public_key_fingerprint(cert.load_public_key(key))
    verdict = (
        f"ballot {fields['b']} run {fields['r']} at log position {fields['s']} matches the record and "
        f"its recount; signed by {used} (fingerprint {fp})"
    )
    if "x" in fields:
        return True, f"OK, VOID (作废): {verdict}; the run was voided at log position {fields['x']} and does not count"
    voided = voided_at(events, fields["b"], fields["r"])
    if voided is not None:
        return True, (
            f"OK: {verdict} — but the record voided this run at log position {voided}: it does not count "
            "(its certificate was re-issued marked VOID)"
        )
    return True, f"OK: {verdict}"


def voided_at(events: list[e.Event], ballot: str, run: int) -> int | None:
    """The log position at which ``ballot`` run ``run`` was voided, if it was."""
    for seq, event in enumerate(events, 1):
        if isinstance(event, e.BallotVoided) and event.ballot == ballot and event.run == run:
            return seq
    return None
