"""A closed ballot always gets its certificate (issue 11, defect 4): writing it is retried
until it succeeds, and a restart issues any certificate the log lacks.

The failure is real: a file sits where the certificates folder must be, so creating it fails
(as it would with a full disk or no file descriptor left); the test then clears the way.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from terminal_client import Client
from tests.support import LiveServer, make_agenda, start_server

WAIT = 60  # only so that a hang fails the test instead of the suite; never a speed claim
RETRY = (0.1, 0.5)


async def close_a_ballot(srv: LiveServer) -> None:
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    seat = Client(srv.url, srv.seat_token("S001"))
    await clerk.connect()
    await seat.connect()
    await seat.check_in()
    await clerk.command("open_ballot", ballot="reg1")
    await seat.cast("reg1", "for")
    await clerk.command("close_ballot", ballot="reg1")
    await seat.close()
    await clerk.close()


async def certificate_issued(srv: LiveServer) -> None:
    async with asyncio.timeout(WAIT):
        while ("reg1", 1) not in srv.assembly.sitting.meeting.certificates:
            await asyncio.sleep(0.05)


async def test_a_certificate_that_cannot_be_written_is_retried_until_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "hemicycle.issuing")
    (tmp_path / "certificates").write_text("in the way")
    srv = await start_server(tmp_path, make_agenda(5), issue_retry=RETRY)
    try:
        await close_a_ballot(srv)
        async with asyncio.timeout(WAIT):
            while sum("attempt" in r.getMessage() for r in caplog.records) < 2:  # failed, and failed again
                await asyncio.sleep(0.05)
        assert ("reg1", 1) not in srv.assembly.sitting.meeting.certificates
        (tmp_path / "certificates").unlink()  # the disk has room again
        await certificate_issued(srv)
        await srv.assembly.issuer.drain()  # the issuing task ends (and says so) just after the record
        assert (tmp_path / "certificates").is_dir() and any((tmp_path / "certificates").glob("*.pdf"))
        assert any("written after" in r.getMessage() for r in caplog.records)
    finally:
        await srv.stop()


async def test_a_restart_issues_the_certificates_the_log_lacks(tmp_path: Path) -> None:
    (tmp_path / "certificates").write_text("in the way")
    srv = await start_server(tmp_path, make_agenda(5), issue_retry=RETRY)
    await close_a_ballot(srv)
    await srv.stop()  # stops while the certificate cannot be written: the retry gives up for now
    (tmp_path / "certificates").unlink()
    again = await start_server(tmp_path, make_agenda(5), db=srv.db, issue_retry=RETRY)
    try:
        await certificate_issued(again)
        certificate = again.assembly.sitting.meeting.certificates[("reg1", 1)]
        closed = next(seq for seq, ev in again.assembly.sitting.history if ev.NAME == "ballot.closed")
        assert certificate.seq == closed  # it signs the closing entry, as one issued at the close would
    finally:
        await again.stop()
