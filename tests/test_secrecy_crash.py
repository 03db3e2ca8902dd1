"""SIGKILL the real server in the middle of a secret ballot: the files it leaves hold no
readable choice; restarted, it goes on with the same ballot (no acknowledged vote lost),
seals it at the close, and the files at rest then pair members with choices no better than
chance. Every file it made is the owner's alone."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

from tests.secrecy_attack import OPTIONS, attack_sqlite, cast_order, sqlite_files, urn_images
from tests.support import agenda_data, free_socket, write_agenda_toml
from tests.test_crash import HEMICYCLE, connect, start, until

SEATS = 41
BALLOT = "sec"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def cast_one_at_a_time(url: str, creds: dict[str, Any], seats: list[str], truth: dict[str, str]) -> None:
    for seat in seats:
        ws, _ = await connect(url, creds["seats"][seat]["token"])
        member = creds["seats"][seat]["member"]
        await ws.send(json.dumps({"type": "cast", "id": "v", "ballot": BALLOT, "choice": truth[member], "key": seat}))
        assert (await until(ws, "ack", "v"))["type"] == "ack"
        await ws.close()


async def clerk_command(url: str, creds: dict[str, Any], name: str) -> None:
    clerk, _ = await connect(url, creds["clerk"]["token"])
    await clerk.send(json.dumps({"type": "command", "id": "c", "name": name, "args": {"ballot": BALLOT}}))
    assert (await until(clerk, "ok", "c"))["type"] == "ok"
    await clerk.close()


async def test_a_crash_mid_ballot_leaves_nothing_readable_and_the_sealed_files_nothing_linkable(tmp_path: Path) -> None:
    ballots = [{"id": BALLOT, "title": "Secret", "secret": True, "live_counts": False}]
    agenda = write_agenda_toml(tmp_path / "agenda.toml", agenda_data(SEATS, ballots=ballots))
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"ws://127.0.0.1:{port}/ws"
    db = tmp_path / "crash.db"
    proc = start(tmp_path, agenda, port)
    creds = json.loads((tmp_path / "creds.json").read_text())
    seats = sorted(creds["seats"])
    rng = random.Random(17)
    rng.shuffle(seats)
    truth = {creds["seats"][s]["member"]: rng.choice(OPTIONS) for s in seats}
    try:
        for seat in seats:
            ws, _ = await connect(url, creds["seats"][seat]["token"])
            await ws.send(json.dumps({"type": "check_in", "id": "c"}))
            await until(ws, "ok", "c")
            await ws.close()
        await clerk_command(url, creds, "open_ballot")
        await cast_one_at_a_time(url, creds, seats[:20], truth)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # what the crash left: ciphertext beside each voter's commit, the key only in the escrow folder
    assert urn_images(sqlite_files(db), BALLOT) == []
    copy = tmp_path / "copy.db"
    for suffix in ("", "-wal"):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", f"{copy}{suffix}")
    conn = sqlite3.connect(copy)
    choices = [row[0] for row in conn.execute("SELECT choice FROM urn WHERE ballot = ?", (BALLOT,))]
    conn.close()
    assert len(choices) == 20 and all(ch.startswith("enc1:") for ch in choices)
    (key_file,) = (tmp_path / "escrow").iterdir()
    private = [db, Path(f"{db}-wal"), tmp_path / "creds.json", key_file]
    assert {p.name: mode(p) for p in private} == {p.name: 0o600 for p in private}
    assert mode(tmp_path / "escrow") == 0o700

    proc = start(tmp_path, agenda, port)
    try:
        await cast_one_at_a_time(url, creds, seats[20:], truth)
        await clerk_command(url, creds, "close_ballot")
    finally:
        proc.terminate()
        proc.wait()

    blob = sqlite_files(db)
    assert len(urn_images(blob, BALLOT)) == SEATS  # every vote, before and after the crash, sealed once
    verdict = attack_sqlite(blob, BALLOT, cast_order(db, BALLOT), truth)
    print(verdict)
    assert verdict.ok, verdict
    assert list((tmp_path / "escrow").iterdir()) == []
    certificates = list((tmp_path / "certificates").glob("*.pdf"))
    assert certificates and all(mode(p) == 0o600 for p in certificates)
    assert mode(tmp_path / "certificates") == 0o700 and mode(db) == 0o600
    verify = subprocess.run(
        [*HEMICYCLE, "verify", "--db", str(db)], capture_output=True, text=True, cwd=Path(__file__).parent.parent
    )
    assert verify.returncode == 0, verify.stderr
