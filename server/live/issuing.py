"""Tally certificates on close, and the sitting record: from the live sitting to paper.

When a ballot closes (and its definition asks for a certificate), the context is taken
from the meeting on the event loop — immutable data — and the PDF is rendered in a worker
process (rendering holds the GIL for up to a second), written under ``<data>/certificates/``, recorded in the log as
``certificate.issued`` (a signed checkpoint: the payload signs the closing entry's
position and hash), and sent to a printer with ``lp`` when one is configured.

A closed ballot always gets its certificate: a failure to render or record it (no file
descriptor left, a full disk, a worker that died, the record unavailable) is retried with
growing pauses until it succeeds, and at start-up every closed ballot whose certificate the
log lacks is issued (the server may have stopped between the close and the certificate).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..core import commands as c
from ..core import events as e
from ..core.ballot_state import BallotRun, Status
from ..core.errors import CommandError
from ..core.meeting import Meeting
from ..paper import certificates as cert
from ..paper.head import sign_head, write_head_file
from .sitting import Sitting

log = logging.getLogger("hemicycle.issuing")


def certificate_file_name(ballot: str, run: int, void: bool = False) -> str:
    """A file name for a ballot run's certificate, derived, not taken from the id.

    Ids follow a safe grammar (server/core/bounds.py), but a file name must be safe whatever
    the record holds (a log written before the grammar, or one edited by hand): the readable
    part keeps only ``A-Z a-z 0-9 _ -`` and at most 40 of them, and a digest of the whole id
    keeps two ids apart that the sanitizing would merge.
    """
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", ballot)[:40] or "ballot"
    digest = hashlib.sha256(ballot.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}-{digest}-r{int(run)}{'-void' if void else ''}.pdf"


def meeting_info(meeting: Meeting) -> cert.MeetingInfo:
    info = meeting.agenda.meeting
    return cert.MeetingInfo(
        id=meeting.agenda.source.get("meeting", {}).get("id", info.title),
        title=info.title,
        body=info.body,
        term=info.term,
        session=info.session,
        date=info.date,
    )


def members(meeting: Meeting) -> list[cert.MemberRef]:
    return [cert.MemberRef(m.id, m.name, m.seat, m.can_vote) for m in meeting.agenda.members]


def annex_members(meeting: Meeting, run: BallotRun) -> list[cert.MemberRef]:
    """Who a named annex lists: voting members present for the ballot (those who did not vote show as such)."""
    present = {m.id for m in meeting.agenda.voting_members if meeting.attendance[m.id] == "present"} | run.voters
    return [cert.MemberRef(m.id, m.name, m.seat) for m in meeting.agenda.members if m.id in present]


def ballot_record(
    meeting: Meeting, run: BallotRun, seq: int | None = None, digest: str | None = None, void: bool = False
) -> cert.BallotRecord:
    """A run as printed: in the record a voided run shows no numbers; its re-issued
    certificate (``void``) shows them, marked VOID."""
    item = next((i.title for i in meeting.agenda.items if i.id == run.spec.item), "")
    return cert.BallotRecord(
        ballot_id=run.spec.id,
        title=run.spec.title,
        kind=run.spec.kind,
        secret=run.spec.secret,
        result=run.result if run.status != "voided" or void else None,
        item_title=item,
        run=run.run,
        opened_at=run.opened_at,
        closed_at=run.closed_at,
        log=cert.LogPosition(seq, digest) if seq is not None and digest else None,
        urn_digest=run.urn_digest or None,
        choices=None if run.spec.secret else dict(run.named),
        voided=run.status == "voided",
    )


def payload_for(
    meeting: Meeting, key: Ed25519PrivateKey, run: BallotRun, seq: int, digest: str, void_seq: int | None = None
) -> str:
    info = meeting_info(meeting)
    assert run.result is not None
    fields = cert.certificate_fields(
        meeting_id=info.id,
        meeting_title=info.title,
        ballot_id=run.spec.id,
        run=run.run,
        result=run.result,
        seq=seq,
        entry_digest=digest,
        void_seq=void_seq,
    )
    return cert.sign_payload(key, fields)


#: first pause after a failed certificate, and the longest (it doubles in between)
RETRY = (1.0, 60.0)


class Issuer:
    def __init__(
        self,
        sitting: Sitting,
        data_dir: Path,
        key: Ed25519PrivateKey,
        printer: str | None = None,
        retry: tuple[float, float] = RETRY,
    ) -> None:
        self.sitting = sitting
        self.dir = data_dir / "certificates"
        self.key = key
        self.printer = printer
        self.retry = retry
        self._tasks: set[asyncio.Task] = set()
        self._executor: ProcessPoolExecutor | None = None
        self._stopping = asyncio.Event()

    def path_for(self, ballot: str, run: int, void: bool = False) -> Path:
        """Where a certificate is written: a name derived from the ballot id, never the id itself."""
        return self.dir / certificate_file_name(ballot, run, void)

    KINDS = (e.SittingClosed, e.BallotClosed, e.BallotVoided, e.CertificateIssued)  # what ``on_event`` follows

    def on_event(self, seq: int, event: e.Event, origin: object = None) -> None:
        """Sitting listener: a closed ballot gets its certificate, a closed sitting its record."""
        if isinstance(event, e.SittingClosed):
            self._spawn(self._write_record())
        if isinstance(event, e.CertificateIssued):  # the log's new head, anchored outside the database
            try:
                write_head_file(self.dir.parent, self.key, seq, self.sitting.hashes[seq - 1])
            except OSError:
                log.exception("the log head could not be written to %s", self.dir.parent)
        if isinstance(event, e.BallotClosed):
            run = self.sitting.meeting.ballots[event.ballot]
            if run.spec.certificate and run.run == event.run:
                self._spawn(self._issue(run, seq))
        if isinstance(event, e.BallotVoided):
            run = self.sitting.meeting.ballots[event.ballot]
            if run.spec.certificate and run.run == event.run and run.result is not None:
                self._spawn(self._issue_void(run, seq))

    def _closing_seq(self, ballot: str, run: int) -> int | None:
        """The log position of the entry that closed ``ballot`` run ``run``."""
        for seq, event in reversed(self.sitting.history):
            if isinstance(event, e.BallotClosed) and event.ballot == ballot and event.run == run:
                return seq
        return None

    def catch_up(self) -> int:
        """At start-up: issue every certificate the log lacks (a ballot closed while the
        server could not write, or just before it stopped). Returns how many were started."""
        meeting = self.sitting.meeting
        started = 0
        for seq, event in self.sitting.history:
            if not isinstance(event, e.BallotClosed) or (event.ballot, event.run) in meeting.certificates:
                continue
            run = meeting.ballots.get(event.ballot)
            live = run is not None and run.run == event.run and run.status in (Status.CLOSED, Status.ANNOUNCED)
            if live and run is not None and run.spec.certificate:
                log.warning("the certificate for %s run %d is missing: issuing it now", run.spec.id, run.run)
                self._spawn(self._issue(run, seq))
                started += 1
        for seq, event in self.sitting.history:
            if not isinstance(event, e.BallotVoided) or (event.ballot, event.run) in meeting.void_certificates:
                continue
            try:
                voided = meeting._run_of(event.ballot, event.run)
            except KeyError:
                continue
            if voided.spec.certificate and voided.result is not None:
                log.warning("the VOID certificate for %s run %d is missing: issuing it now", event.ballot, event.run)
                self._spawn(self._issue_void(voided, seq))
                started += 1
        return started

    def _spawn(self, job: Any) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_record(self) -> None:
        """At the end of the sitting: <data>/sitting-record.pdf, after the last certificates."""
        while len(self._tasks) > 1 and not self._stopping.is_set():
            await asyncio.sleep(0.05)
        path = self.dir.parent / "sitting-record.pdf"

        async def write() -> None:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            os.chmod(path, 0o600)
            hashes = list(self.sitting.hashes)
            await asyncio.to_thread(
                render_record, self.sitting.meeting, self.key, hashes, str(path), self.sitting.clock()
            )
            if hashes:
                await asyncio.to_thread(write_head_file, path.parent, self.key, len(hashes), hashes[-1])

        await self._until_done("the sitting record", write)

    async def drain(self) -> None:
        """Wait for certificates being written (used at shutdown and by tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Shutdown: certificates being retried give up for now (the next start issues them
        from the log), the others finish."""
        self._stopping.set()
        await self.drain()

    async def _until_done(self, what: str, attempt: Any) -> bool:
        """Run ``attempt()`` until it succeeds, pausing longer after each failure (a full
        disk or no file descriptor left passes; a certificate must not be lost to it).
        False only when the server stops first."""
        pause, longest = self.retry
        failures = 0
        while not self._stopping.is_set():
            try:
                await attempt()
                if failures:
                    log.warning("%s was written after %d failed attempts", what, failures)
                return True
            except Exception as exc:
                failures += 1
                if failures == 1:
                    log.exception("%s could not be written; trying again until it is", what)
                else:
                    log.warning("%s: attempt %d failed (%r); next in %.0f s", what, failures, exc, pause)
                if isinstance(exc, BrokenProcessPool):
                    self._executor = None  # a fresh worker process next time
            try:
                await asyncio.wait_for(self._stopping.wait(), pause)
            except TimeoutError:
                pass
            pause = min(longest, pause * 2)
        return False

    async def _issue_void(self, run: BallotRun, void_seq: int) -> None:
        """A voided run's certificate, re-issued marked 作废 / VOID: the counts it had, the
        mark signed with them (the position of the ``ballot.voided`` entry)."""
        seq = self._closing_seq(run.spec.id, run.run)
        if seq is None:
            log.error("%s run %d was voided but its close is not in the log", run.spec.id, run.run)
            return
        await self._issue(run, seq, void_seq)

    async def _issue(self, run: BallotRun, seq: int, void_seq: int | None = None) -> None:
        meeting = self.sitting.meeting
        digest = self.sitting.hashes[seq - 1]
        void = void_seq is not None
        payload = payload_for(meeting, self.key, run, seq, digest, void_seq)
        ctx = cert.CertificateContext(
            meeting_info(meeting),
            ballot_record(meeting, run, seq, digest, void=void),
            annex_members(meeting, run),
            qr_payload=payload,
        )
        path = self.path_for(run.spec.id, run.run, void)
        ballot = (run.spec.id, run.run)

        async def attempt() -> None:
            live = self.sitting.meeting
            if ballot in (live.void_certificates if void else live.certificates):
                return  # recorded meanwhile (a catch-up and a close racing)
            data = await asyncio.get_running_loop().run_in_executor(
                self._pool(), render_certificate_file, ctx, str(path), meeting.agenda.meeting.language
            )
            try:
                sha = hashlib.sha256(data).hexdigest()
                await self.sitting.execute(
                    c.RecordCertificate(run.spec.id, run.run, seq, digest, payload, sha, void=void)
                )
            except CommandError as exc:  # the record refuses it for good: retrying cannot help
                log.error("the certificate for %s run %d was refused: %s", run.spec.id, run.run, exc.message)

        what = f"the {'VOID ' if void else ''}certificate for {run.spec.id} run {run.run}"
        if await self._until_done(what, attempt) and self.printer:
            await asyncio.to_thread(send_to_printer, path, self.printer)

    def _pool(self) -> ProcessPoolExecutor:
        """A worker process: rendering holds the GIL for up to a second, which must not
        slow the votes of the next ballot."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=False)
            self._executor = None


def render_certificate_file(ctx: cert.CertificateContext, path: str, language: str) -> bytes:
    """Render a certificate to ``path`` atomically (in a worker process); returns the bytes."""
    target = Path(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # the owner's alone from the first byte
    os.chmod(tmp, 0o600)
    cert.render_certificate(ctx, tmp, language)
    tmp.replace(target)
    return target.read_bytes()


def send_to_printer(path: Path, printer: str) -> bool:
    """Hand a PDF to CUPS; a missing `lp` or a refusing printer is logged, never fatal."""
    lp = shutil.which("lp")
    if lp is None:
        log.warning("no `lp` on this machine: %s was not printed", path)
        return False
    done = subprocess.run([lp, "-d", printer, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        log.warning("printing %s on %s failed: %s", path, printer, done.stderr.strip())
    return done.returncode == 0


def speeches(meeting: Meeting) -> list[cert.SpeechRecord]:
    """The floor's finished speeches, in the order given, as the record prints them."""
    titles = {i.id: i.title for i in meeting.agenda.items}
    out = []
    for s in meeting.floor.speeches:
        m = meeting.agenda.member(s.member)
        name, seat, group = (m.name, m.seat, m.group) if m is not None else (s.member, "", "")
        out.append(
            cert.SpeechRecord(titles.get(s.item, s.item), name, seat, group, s.kind, s.start, s.seconds, s.limit)
        )
    return out


def render_record(meeting: Meeting, key: Ed25519PrivateKey, hashes: list[str], out: Any, generated_at: float) -> int:
    """The sitting record (会议记录): attendance and every result, with the public key."""
    runs = [*meeting.history, *meeting.ballots.values()]
    records = []
    for run in runs:
        if run.run == 0:
            continue
        issued = meeting.certificates.get((run.spec.id, run.run))
        records.append(ballot_record(meeting, run, issued.seq if issued else None, issued.digest if issued else None))
    ctx = cert.RecordContext(
        meeting=meeting_info(meeting),
        members=members(meeting),
        attendance=dict(meeting.attendance),
        ballots=records,
        public_key=key.public_key(),
        log_head=cert.LogPosition(len(hashes), hashes[-1]) if hashes else None,
        head_payload=sign_head(key, len(hashes), hashes[-1]) if hashes else None,
        generated_at=generated_at,
        speeches=speeches(meeting),
    )
    return cert.render_sitting_record(ctx, out, meeting.agenda.meeting.language)
