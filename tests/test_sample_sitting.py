"""Every sample agenda, run end to end by the documented command against a real server.

`hemicycle simulate tablets --clerk` (a subprocess, as a user types it) connects a tablet
per seat, opens every ballot, votes, closes, announces and recounts from its own record;
any refused cast, lost acknowledgement or mismatch exits 1. Then the sitting record says
"seated" as every ballot does: members with a vote, observers apart; and `hemicycle
verify` recomputes every result from the log.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.live.agenda_file import load_agenda
from terminal_client import Client
from tests.oracle import published
from tests.oracle import recount as oracle_recount
from tests.support import start_server

ROOT = Path(__file__).parent.parent
SAMPLES = sorted((ROOT / "agendas").glob("*.toml"))
KINDS = {"motion", "appointment", "election", "selection", "evaluation", "score"}


def hemicycle() -> list[str]:
    """The `hemicycle` command of this environment."""
    script = Path(sys.executable).parent / "hemicycle"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hemicycle.cli"]


def text_of(pdf: bytes, tmp: Path) -> str:
    path = tmp / "record.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
    return " ".join(out.split())


def test_the_samples_are_both_here_and_cover_every_kind() -> None:
    assert {p.name for p in SAMPLES} >= {"standing-committee.zh.toml", "council.en.toml"}
    kinds = {b.kind for p in SAMPLES for b in load_agenda(p).ballots.values()}
    assert kinds == KINDS


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
async def test_simulate_tablets_with_the_clerk_runs_the_sample_without_a_mismatch(tmp_path: Path, sample: Path) -> None:
    agenda = load_agenda(sample)
    voting = len(agenda.voting_members)
    observers = len(agenda.members) - voting
    assert observers > 0  # the point of the record check below
    srv = await start_server(tmp_path, agenda, agenda_dir=sample.parent)
    try:
        proc = await asyncio.create_subprocess_exec(
            *hemicycle(),
            "simulate",
            "tablets",
            "--clerk",
            "--url",
            srv.url,
            "--token-file",
            str(tmp_path / "credentials.json"),
            "--seats",
            str(len(agenda.members)),
            "--seed",
            "7",
            "--papers",
            str(tmp_path / "papers.json"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 300)
        report = out.decode()
        assert proc.returncode == 0, report + err.decode()
        assert f"acknowledged casts: {voting * len(agenda.ballots)}; refused: 0; mismatches: 0" in report
        for ballot in agenda.ballots:
            assert f"- {ballot} (" in report  # every ballot was run
        # the simulator recounts with the server's own tally code; the oracle shares none of it
        papers = json.loads((tmp_path / "papers.json").read_text())
        assert set(papers) == set(agenda.ballots)
        for ballot_id, run in papers.items():
            assert len(run["papers"]) == voting
            assert published(run["result"]) == oracle_recount(run["ballot"], run["papers"]), ballot_id

        clerk = Client(srv.url, srv.creds["clerk"]["token"])
        welcome = await clerk.connect()
        results = [b["result"] for b in welcome["snapshot"]["ballots"]]
        assert all(r is not None and r["seated"] == voting and r["voted"] == voting for r in results)
        await clerk.command("close_sitting")
        await clerk.close()
        await srv.assembly.issuer.drain()
        async with httpx.AsyncClient(base_url=srv.http) as http:
            pdf = await http.get("/api/record.pdf", headers={"Authorization": f"Bearer {srv.creds['clerk']['token']}"})
        flat = text_of(pdf.content, tmp_path)
        if agenda.meeting.language == "zh-CN":
            assert f"应到 {voting} 出席 {voting} 请假 0 未报到 0" in flat, flat[:600]
            assert f"列席人员 出席 {observers} 人（共 {observers} 人）" in flat
        else:
            assert f"Seated {voting} Present {voting} On leave 0 Not checked in 0" in flat, flat[:600]
            assert f"Observers (no vote) {observers} attended of {observers}" in flat
    finally:
        await srv.stop()
    verify = subprocess.run([*hemicycle(), "verify", "--db", srv.db], capture_output=True, text=True, cwd=ROOT)
    assert verify.returncode == 0, verify.stderr
    assert f"{len(agenda.ballots)} ballot results recomputed" in verify.stdout
    export = subprocess.run([*hemicycle(), "export", "--db", srv.db], capture_output=True, text=True, cwd=ROOT)
    summary = json.loads(export.stdout)["summary"]
    assert (summary["seated"], summary["present"], summary["observers"]) == (voting, voting, observers)
