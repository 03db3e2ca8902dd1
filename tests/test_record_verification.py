"""Certificates issued by a real sitting, checked as an auditor would: paper against record."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.live.agenda_file import load_agenda
from server.live.issuing import certificate_file_name
from server.paper import certificates as cert
from simulators import tablets
from tests.support import start_server

ROOT = Path(__file__).parent.parent


def hemicycle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hemicycle.cli", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def sitting(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Chinese sample sitting run once by 44 simulated tablets and a simulated clerk."""
    tmp = tmp_path_factory.mktemp("sitting")
    agenda = load_agenda(ROOT / "agendas" / "standing-committee.zh.toml")

    async def run() -> dict[str, Any]:
        srv = await start_server(tmp, agenda, agenda_dir=ROOT / "agendas")
        args = argparse.Namespace(
            url=srv.url,
            token_file=str(tmp / "credentials.json"),
            seats=len(agenda.members),
            pattern="random",
            seed=11,
            clerk=True,
            only=None,
            duration=60.0,
        )
        report = await tablets.run(args)
        await srv.assembly.issuer.drain()
        await srv.stop()
        return {"db": srv.db, "dir": tmp, "report": report, "agenda": agenda}

    return asyncio.run(run())


def test_every_closed_ballot_has_a_certificate_and_verify_checks_them(sitting: dict[str, Any]) -> None:
    pdfs = sorted((sitting["dir"] / "certificates").glob("*.pdf"))
    assert len(pdfs) == len(sitting["agenda"].ballots)
    done = hemicycle("verify", "--db", sitting["db"])
    assert done.returncode == 0, done.stderr
    assert f"{len(pdfs)} certificates match the record" in done.stdout


@pytest.mark.parametrize(
    "ballot",
    [
        "property-regulation-vote",
        "appoint-court",
        "by-election-vote",
        "suggestions-selection",
        "housing-evaluation",
        "justice-score",
    ],
)
def test_a_certificate_reads_as_text_and_its_qr_verifies(sitting: dict[str, Any], ballot: str, tmp_path: Path) -> None:
    pdf = sitting["dir"] / "certificates" / certificate_file_name(ballot, 1)
    result = next(r["result"] for r in sitting["report"].results if r["ballot"] == ballot)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "临江市" in text and sitting["agenda"].ballots[ballot].title[:6] in text
    for line in result["lines"]:
        assert line["label"][:4] in text  # Chinese names and titles are text, not boxes
    assert str(result["voted"]) in text
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    (png,) = tmp_path.glob("page*.png")
    qr = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
    assert qr.returncode == 0, "the QR code did not decode"
    payload = qr.stdout.strip()
    assert payload.startswith("HC1:")
    done = hemicycle("verify-certificate", payload, "--db", sitting["db"])
    assert done.returncode == 0, done.stderr
    assert f"ballot {ballot} run 1" in done.stdout
    done = hemicycle("verify-certificate", str(pdf), "--db", sitting["db"])  # the PDF itself, via its metadata
    assert done.returncode == 0, done.stderr


def test_a_certificate_with_one_count_changed_fails(sitting: dict[str, Any]) -> None:
    pdf = sitting["dir"] / "certificates" / certificate_file_name("property-regulation-vote", 1)
    from server.paper.verification import payload_from

    payload = payload_from(str(pdf))
    key = cert.load_or_create_key(sitting["dir"] / "server-key.pem")
    fields = cert.verify_payload(key.public_key(), payload)
    fields["c"][0][1] += 1
    # altered text with the old signature: the signature breaks
    import base64

    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    raw = base64.b32decode(payload[4:] + "=" * (-len(payload[4:]) % 8))
    forged = "HC1:" + base64.b32encode(body + raw[-64:]).decode().rstrip("=")
    done = hemicycle("verify-certificate", forged, "--db", sitting["db"])
    assert done.returncode == 1 and "signature" in done.stderr
    # even signed with the server's own key, a changed count does not match the record
    resigned = cert.sign_payload(key, fields)
    done = hemicycle("verify-certificate", resigned, "--db", sitting["db"])
    assert done.returncode == 1 and "counts differ" in done.stderr


def _tampered(sitting: dict[str, Any], tmp_path: Path, sql: str) -> subprocess.CompletedProcess:
    db = tmp_path / "copy.db"
    shutil.copy(sitting["db"], db)
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.commit()
    con.close()
    return hemicycle("verify", "--db", str(db))


@pytest.mark.parametrize(
    "sql, position",
    [
        ("UPDATE events SET body = replace(body, '\"present\"', '\"leave\"') WHERE seq = 40;", 40),  # edit
        ("DELETE FROM events WHERE seq = 55;", 55),  # delete
        (
            "UPDATE events SET seq = -1 WHERE seq = 60; UPDATE events SET seq = 60 WHERE seq = 61;"
            "UPDATE events SET seq = 61 WHERE seq = -1;",
            60,
        ),  # reorder
        (
            "UPDATE events SET seq = seq + 1000 WHERE seq >= 70; UPDATE events SET seq = seq - 999 WHERE seq >= 1070;"
            "INSERT INTO events SELECT 70, name, body, prev, hash FROM events WHERE seq = 69;",
            70,
        ),  # insert
    ],
)
def test_tampering_with_the_log_is_found_at_its_first_bad_position(
    sitting: dict[str, Any], tmp_path: Path, sql: str, position: int
) -> None:
    done = _tampered(sitting, tmp_path, sql)
    assert done.returncode == 1
    assert f"first problem at entry {position}:" in done.stderr


def test_a_changed_secret_urn_is_found(sitting: dict[str, Any], tmp_path: Path) -> None:
    done = _tampered(
        sitting,
        tmp_path,
        "DELETE FROM urn WHERE entry = (SELECT min(entry) FROM urn WHERE ballot = 'property-regulation-vote');",
    )
    assert done.returncode == 1 and "property-regulation-vote" in done.stderr


async def test_the_clerk_downloads_certificates_and_the_sitting_record(tmp_path: Path) -> None:
    import httpx

    from terminal_client import Client
    from tests.support import make_agenda

    srv = await start_server(tmp_path, make_agenda(5))
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    await clerk.connect()
    await clerk.command("open_ballot", ballot="reg1")
    await clerk.command("close_ballot", ballot="reg1")
    await srv.assembly.issuer.drain()
    auth = {"Authorization": f"Bearer {srv.creds['clerk']['token']}"}
    async with httpx.AsyncClient(base_url=srv.http) as http:
        listed = (await http.get("/api/certificates", headers=auth)).json()["certificates"]
        assert [(c["ballot"], c["run"]) for c in listed] == [("reg1", 1)]
        pdf = await http.get(listed[0]["url"], headers=auth)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        record = await http.get("/api/record.pdf", headers=auth)
        assert record.status_code == 200 and record.content.startswith(b"%PDF")
        seat = {"Authorization": f"Bearer {srv.seat_token('S001')}"}
        assert (await http.get("/api/record.pdf", headers=seat)).status_code == 403
    (tmp_path / "record.pdf").write_bytes(record.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "record.pdf"), "-"], capture_output=True, text=True).stdout
    assert "物业管理条例" in text and "BEGIN PUBLIC KEY" in text
    await clerk.command("close_sitting")
    await clerk.close()
    await srv.assembly.issuer.drain()
    await srv.stop()
    assert (tmp_path / "sitting-record.pdf").read_bytes().startswith(b"%PDF")
