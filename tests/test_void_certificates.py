"""A voided run's certificate is re-issued marked 作废 / VOID: recorded in the log, listed
and served to the clerk beside the original, printed with the mark, and known to
`hemicycle verify` and `hemicycle verify-certificate` (issue 15, item 7)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx

from terminal_client import Client
from tests.support import make_agenda, start_server
from tests.test_record_verification import hemicycle

WAIT = 60  # only so that a hang fails the test instead of the suite


async def test_a_voided_run_gets_a_void_certificate_that_verify_knows(tmp_path: Path) -> None:
    srv = await start_server(tmp_path, make_agenda(5))
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    seat = Client(srv.url, srv.seat_token("S001"))
    await clerk.connect()
    await seat.connect()
    await seat.check_in()
    await clerk.command("open_ballot", ballot="reg1")
    await seat.cast("reg1", "for")
    await clerk.command("close_ballot", ballot="reg1")
    await clerk.command("void_ballot", ballot="reg1", reason="一台平板故障")
    meeting = srv.assembly.sitting.meeting
    async with asyncio.timeout(WAIT):
        while ("reg1", 1) not in meeting.void_certificates or ("reg1", 1) not in meeting.certificates:
            await asyncio.sleep(0.05)
    await clerk.command("open_ballot", ballot="reg1")  # the re-run
    await clerk.command("close_ballot", ballot="reg1")
    await srv.assembly.issuer.drain()
    auth = {"Authorization": f"Bearer {srv.creds['clerk']['token']}"}
    async with httpx.AsyncClient(base_url=srv.http) as http:
        listed = (await http.get("/api/certificates", headers=auth)).json()["certificates"]
        assert sorted((c["ballot"], c["run"], c["void"]) for c in listed) == [
            ("reg1", 1, False),
            ("reg1", 1, True),
            ("reg1", 2, False),
        ]
        files = {}
        for c in listed:
            pdf = await http.get(c["url"], headers=auth)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            assert c["name"] in pdf.headers["content-disposition"]
            files[(c["run"], c["void"])] = tmp_path / c["name"]
            files[(c["run"], c["void"])].write_bytes(pdf.content)
        assert (await http.get("/api/certificates/reg1/2-void.pdf", headers=auth)).status_code == 404
    await seat.close()
    await clerk.close()
    await srv.stop()

    void_text = subprocess.run(["pdftotext", str(files[(1, True)]), "-"], capture_output=True, text=True).stdout
    assert "表决结果单（作废）" in void_text and "本轮表决已作废，以下结果不计入" in void_text
    plain_text = subprocess.run(["pdftotext", str(files[(1, False)]), "-"], capture_output=True, text=True).stdout
    assert "作废" not in plain_text

    db = srv.db
    marked = hemicycle("verify-certificate", str(files[(1, True)]), "--db", db)
    assert marked.returncode == 0 and "VOID" in marked.stdout, marked.stdout + marked.stderr
    original = hemicycle("verify-certificate", str(files[(1, False)]), "--db", db)
    assert original.returncode == 0 and "voided this run" in original.stdout, original.stdout + original.stderr
    rerun = hemicycle("verify-certificate", str(files[(2, False)]), "--db", db)
    assert rerun.returncode == 0 and "void" not in rerun.stdout.lower(), rerun.stdout
    audit = hemicycle("verify", "--db", db)
    assert audit.returncode == 0 and "3 certificate" in audit.stdout, audit.stdout + audit.stderr
