"""The Chinese sample sitting, every ballot kind, 41 simulated seats over real WebSockets."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from server.live.agenda_file import load_agenda
from simulators import tablets
from tests.support import start_server

ROOT = Path(__file__).parent.parent


async def test_every_kind_runs_from_the_sample_agenda_to_a_verified_result(tmp_path: Path) -> None:
    agenda = load_agenda(ROOT / "agendas" / "standing-committee.zh.toml")
    assert {b.kind for b in agenda.ballots.values()} == {
        "motion",
        "appointment",
        "election",
        "selection",
        "evaluation",
        "score",
    }
    srv = await start_server(tmp_path, agenda, agenda_dir=ROOT / "agendas")
    try:
        args = argparse.Namespace(
            url=srv.url,
            token_file=str(tmp_path / "credentials.json"),
            seats=len(agenda.members),
            pattern="random",
            seed=7,
            clerk=True,
            only=None,
            duration=60.0,
        )
        report = await tablets.run(args)
    finally:
        await srv.stop()
    assert report.mismatches == [] and report.errors == []
    ran = {r["ballot"]: r["result"] for r in report.results}
    assert set(ran) == set(agenda.ballots)
    voting = len(agenda.voting_members)
    assert voting == 41
    for result in ran.values():
        assert (result["seated"], result["voted"]) == (41, 41)
    assert report.acks == 41 * len(agenda.ballots)
    verify = subprocess.run(
        [sys.executable, "-m", "hemicycle.cli", "verify", "--db", srv.db], capture_output=True, text=True, cwd=ROOT
    )
    assert verify.returncode == 0, verify.stderr
    assert f"{len(agenda.ballots)} ballot results recomputed" in verify.stdout
