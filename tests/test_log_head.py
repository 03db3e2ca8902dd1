"""The log's tail is anchored: the head the server writes beside the database, prints on the
record and signs proves a cut tail; certificates on disk the log does not know are named."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.core import commands as c
from server.paper.head import HEAD_FILE
from tests.support import make_agenda, start_server

ROOT = Path(__file__).parent.parent
BALLOTS = [{"id": "b1", "title": "First"}, {"id": "b2", "title": "Second", "secret": True, "live_counts": False}]


def hemicycle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hemicycle.cli", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def sitting(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A sitting with two ballots closed, both certified, and the sitting closed (the record)."""
    tmp = tmp_path_factory.mktemp("head")

    async def run() -> dict[str, Any]:
        srv = await start_server(tmp, make_agenda(5, ballots=BALLOTS))
        s = srv.assembly.sitting
        for m in ("m01", "m02", "m03", "m04", "m05"):
            await s.execute(c.SetAttendance(m, "present"))
        opened = {}
        for ballot in ("b1", "b2"):
            opened[ballot] = (await s.execute(c.OpenBallot(ballot))).seq
            for m in ("m01", "m02", "m03"):
                await s.execute(c.Cast(m, ballot, "for", f"{ballot}-{m}"))
            await s.execute(c.CloseBallot(ballot))
            while (ballot, 1) not in s.meeting.certificates:
                await srv.assembly.issuer.drain()
                await asyncio.sleep(0.01)
        certified = s.ledger.seq
        head_after_certificates = (tmp / HEAD_FILE).read_text()
        await s.execute(c.CloseSitting())
        last = s.ledger.seq
        while not (tmp / HEAD_FILE).read_text().startswith(f"{last}:"):  # written once the record is
            await srv.assembly.issuer.drain()
            await asyncio.sleep(0.01)
        head = f"{last}:{s.hashes[-1]}"
        await srv.stop()
        return {
            "db": Path(srv.db),
            "dir": tmp,
            "opened": opened,
            "certified": certified,
            "after_certificates": head_after_certificates,
            "head": head,
            "last": last,
        }

    return asyncio.run(run())


def copy_sitting(sitting: dict[str, Any], to: Path) -> Path:
    """The sitting's data folder as an auditor receives it, to cut up."""
    import shutil

    shutil.copytree(sitting["dir"], to / "data")
    return to / "data" / Path(sitting["db"]).name


def test_the_head_is_written_beside_the_database_signed_and_private(sitting: dict[str, Any]) -> None:
    first, signed, *_ = sitting["after_certificates"].splitlines()
    assert first.split(":")[0] == str(sitting["certified"]) and signed.startswith("HC1:")
    head_file = sitting["dir"] / HEAD_FILE
    assert head_file.read_text().splitlines()[0] == sitting["head"]  # the record's head, written last
    assert stat.S_IMODE(head_file.stat().st_mode) == 0o600
    text = subprocess.run(
        ["pdftotext", "-layout", str(sitting["dir"] / "sitting-record.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert sitting["head"] in text.replace("\n", "").replace(" ", "")  # printed on the record


def test_verify_shows_the_log_reaches_every_head(sitting: dict[str, Any]) -> None:
    certificate = next((sitting["dir"] / "certificates").glob("*.pdf"))
    done = hemicycle(
        "verify",
        "--db",
        str(sitting["db"]),
        "--head",
        sitting["head"],
        "--head-from",
        str(sitting["dir"] / "sitting-record.pdf"),
        "--head-from",
        str(certificate),
    )
    assert done.returncode == 0, done.stderr
    assert f"the log reaches {sitting['last']}:" in done.stdout


def test_a_tail_cut_by_one_entry_is_found_with_the_head(sitting: dict[str, Any], tmp_path: Path) -> None:
    db = copy_sitting(sitting, tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM events WHERE seq = ?", (sitting["last"],))
    (db.parent / HEAD_FILE).unlink()  # the thief also took the head file: the printed head is enough
    assert hemicycle("verify", "--db", str(db)).returncode == 0  # the chain alone cannot tell
    done = hemicycle("verify", "--db", str(db), "--head", sitting["head"])
    assert done.returncode == 1
    assert f"the log ends at entry {sitting['last'] - 1}" in done.stderr
    assert f"entry {sitting['last']} are missing" in done.stderr


def test_a_tail_cut_by_a_whole_ballot_is_found_and_its_certificate_named(
    sitting: dict[str, Any], tmp_path: Path
) -> None:
    db = copy_sitting(sitting, tmp_path)
    cut = sitting["opened"]["b2"]
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM events WHERE seq >= ?", (cut,))
        conn.execute("DELETE FROM participation WHERE ballot = 'b2'")
        conn.execute("DELETE FROM urn WHERE ballot = 'b2'")
    (tmp_path / "data" / "sitting-record.pdf").unlink()
    for asked in ([], ["--data-dir", str(db.parent)]):  # the head file beside the database is a verdict unasked
        done = hemicycle("verify", "--db", str(db), *asked)
        assert done.returncode == 1, asked
        assert f"entries {cut} to {sitting['last']} are missing" in done.stderr
        assert "(ballot b2 run 1, log entry" in done.stderr and "is on disk but not in the log" in done.stderr
