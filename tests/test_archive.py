"""`hemicycle archive` and `hemicycle verify --archive`, as an archivist uses them: a sitting
with a secret ballot, a document and its certificates is archived to one ZIP file, the file
is moved to another folder (the server's files out of reach), and checked offline. A changed
certificate, a changed record, a file slipped in, a path that climbs out of the folder and a
ballot still open are each refused with the reason."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from terminal_client import Client
from tests.fixtures.documents import make_pdf
from tests.support import bearer, make_agenda, start_server
from tests.support_pg import pg_url, reset  # noqa: F401

ROOT = Path(__file__).parent.parent
BALLOTS = [{"id": "reg1", "title": "条例草案"}, {"id": "sec", "title": "任命", "secret": True}]


def hemicycle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hemicycle.cli", *args], capture_output=True, text=True, cwd=ROOT)


async def run_sitting(folder: Path, *, close: bool = True, db: str | None = None) -> str:
    srv = await start_server(folder, make_agenda(5, ballots=BALLOTS), db=db)
    try:
        clerk = Client(srv.url, srv.creds["clerk"]["token"])
        seats = [Client(srv.url, srv.seat_token(f"S00{i}")) for i in range(1, 6)]
        await asyncio.gather(clerk.connect(), *(s.connect() for s in seats))
        await asyncio.gather(*(s.check_in() for s in seats))
        async with httpx.AsyncClient(base_url=srv.http, timeout=60) as http:  # a loaded machine validates slowly
            up = await http.post(
                "/api/documents",
                files={"file": ("draft.pdf", make_pdf(2), "application/pdf")},
                data={"title": "条例草案文本", "item": "item1"},
                headers=bearer(srv.creds["clerk"]["token"]),
            )
            assert up.status_code == 201, up.text
        for ballot, choices in (
            ("reg1", ["for", "for", "against", "for", "abstain"]),
            ("sec", ["for"] * 3 + ["against"] * 2),
        ):
            await clerk.command("open_ballot", ballot=ballot)
            await asyncio.gather(*(s.cast(ballot, ch) for s, ch in zip(seats, choices)))
            if ballot == "sec" and not close:
                break
            await clerk.command("close_ballot", ballot=ballot)
        if close:
            await clerk.command("close_sitting")
        for client in (clerk, *seats):
            await client.close()
        await srv.assembly.issuer.drain()
    finally:
        await srv.stop()
    return srv.db


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sitting")
    db = asyncio.run(run_sitting(folder))
    out = tmp_path_factory.mktemp("out") / "sitting.zip"
    made = hemicycle("archive", "--db", db, "--out", str(out))
    assert made.returncode == 0, made.stderr
    elsewhere = tmp_path_factory.mktemp("archive-office") / "sitting.zip"
    shutil.move(str(out), elsewhere)  # another folder, the server's files out of reach
    return {"zip": elsewhere, "folder": folder, "stdout": made.stdout}


def test_the_archive_holds_the_record_certificates_documents_and_key_and_no_secret(archived: dict[str, Any]) -> None:
    with zipfile.ZipFile(archived["zip"]) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"manifest.json", "record.db", "public-key.pem", "sitting-record.pdf", "log-head.txt"} <= names
    assert len([n for n in names if n.startswith("certificates/")]) == 2
    assert [d["title"] for d in manifest["documents"]] == ["条例草案文本"]
    assert len([n for n in names if n.startswith("documents/") and n.endswith(".pdf")]) == 1
    assert set(manifest["files"]) == names - {"manifest.json"}
    secrets = json.loads((archived["folder"] / "credentials.json").read_text())
    with zipfile.ZipFile(archived["zip"]) as zf:
        blob = b"".join(zf.read(n) for n in names)
    assert secrets["clerk"]["token"].encode() not in blob
    assert b"PRIVATE KEY" not in blob
    assert oct(archived["zip"].stat().st_mode & 0o777) == "0o600"


def test_verify_archive_checks_everything_offline(archived: dict[str, Any]) -> None:
    done = hemicycle("verify", "--archive", str(archived["zip"]))
    assert done.returncode == 0, done.stderr
    assert "2 ballot results recomputed and equal, 2 certificate PDFs match the record" in done.stdout


def rewritten(source: Path, target: Path, change: Any) -> Path:
    """A copy of the archive with one member changed (``change(name, data)`` -> data or None)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info.filename, data)
    return target


def test_a_changed_certificate_or_record_or_an_extra_file_fails_naming_it(
    archived: dict[str, Any], tmp_path: Path
) -> None:
    def cert(name: str, data: bytes) -> bytes:
        return data.replace(b"%%EOF", b"%%EOF ") if name.startswith("certificates/") else data

    bad = rewritten(archived["zip"], tmp_path / "cert.zip", cert)
    done = hemicycle("verify", "--archive", str(bad))
    assert done.returncode == 1 and "certificates/" in done.stderr and "checksum" in done.stderr

    def record(name: str, data: bytes) -> bytes:
        return data.replace("条例草案".encode(), "条例修正".encode()) if name == "record.db" else data

    bad = rewritten(archived["zip"], tmp_path / "record.zip", record)
    done = hemicycle("verify", "--archive", str(bad))
    assert done.returncode == 1 and "record.db does not match its checksum" in done.stderr

    with zipfile.ZipFile(rewritten(archived["zip"], tmp_path / "extra.zip", lambda n, d: d), "a") as zf:
        zf.writestr("certificates/forged.pdf", b"%PDF-1.4 forged")
    done = hemicycle("verify", "--archive", str(tmp_path / "extra.zip"))
    assert done.returncode == 1 and "certificates/forged.pdf is in the archive but not in its manifest" in done.stderr


def test_a_path_that_climbs_out_is_refused_before_anything_is_written(archived: dict[str, Any], tmp_path: Path) -> None:
    evil = rewritten(archived["zip"], tmp_path / "evil.zip", lambda n, d: d)
    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("../../escaped.txt", b"x")
    done = hemicycle("verify", "--archive", str(evil))
    assert done.returncode == 1 and "unexpected file in the archive: '../../escaped.txt'" in done.stderr
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert hemicycle("verify", "--archive", str(tmp_path / "missing.zip")).returncode == 1


def test_no_archive_while_a_ballot_is_open_and_never_over_an_existing_file(tmp_path: Path) -> None:
    db = asyncio.run(run_sitting(tmp_path / "s", close=False))
    out = tmp_path / "a.zip"
    done = hemicycle("archive", "--db", db, "--out", str(out))
    assert done.returncode == 1 and "close these ballots first" in done.stderr and "sec (run 1)" in done.stderr
    assert not out.exists()
    out.write_bytes(b"an earlier archive")
    done = hemicycle("archive", "--db", db, "--out", str(out))
    assert done.returncode == 1 and "never overwritten" in done.stderr and out.read_bytes() == b"an earlier archive"


@pytest.mark.postgres
def test_a_sitting_on_postgresql_archives_to_the_same_self_contained_form(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    reset(pg_url)
    db = asyncio.run(run_sitting(tmp_path / "s", db=pg_url))
    out = tmp_path / "pg.zip"
    assert hemicycle("archive", "--db", db, "--out", str(out)).returncode == 2  # which folder? it must be told
    made = hemicycle("archive", "--db", db, "--data-dir", str(tmp_path / "s"), "--out", str(out))
    assert made.returncode == 0, made.stderr
    done = hemicycle("verify", "--archive", str(out))
    assert done.returncode == 0, done.stderr
    assert "2 certificate PDFs match the record" in done.stdout


def test_a_closed_ballot_whose_urn_was_never_sealed_is_not_archived(archived: dict[str, Any], tmp_path: Path) -> None:
    """The server stopped between a close and its seal: the urn still holds ciphertext, which the
    archive's reader could never recount. The server seals such ballots when it next starts."""
    db = tmp_path / "hemicycle.db"
    shutil.copy(archived["folder"] / "sitting.db", db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE urn SET choice = 'enc1:' || choice")
    done = hemicycle("archive", "--db", str(db), "--out", str(tmp_path / "a.zip"))
    assert done.returncode == 1 and "start the server once" in done.stderr
    assert not (tmp_path / "a.zip").exists()
