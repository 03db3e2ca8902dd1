"""docs/operations.md stays true: every `hemicycle` command it shows is one the program
accepts, the documented online backup of a running sitting verifies, and the operational log
survives logrotate moving it."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hemicycle.cli import build_parser
from server.live import oplog
from terminal_client import Client
from tests.support import make_agenda, serving

ROOT = Path(__file__).parent.parent
GUIDE = ROOT / "docs" / "operations.md"


def documented_commands() -> list[list[str]]:
    """Every `hemicycle ...` invocation in the guide's code blocks and inline code."""
    text = GUIDE.read_text()
    text = re.sub(r"\\\n\s*", " ", text)  # shell line continuations
    found = []
    for match in re.finditer(
        r"(?:^|[`\s/])hemicycle ((?:serve|tls|sittings|archive|verify|console-password|step-down|leader)[^`\n]*)", text
    ):
        words = shlex.split(match.group(1).split("#")[0])
        found.append(words)
    return found


def test_the_guide_shows_each_operation_and_every_command_parses() -> None:
    commands = documented_commands()
    assert {c[0] for c in commands} >= {"serve", "tls", "sittings", "archive", "verify"}
    parser = build_parser()
    for words in commands:
        try:
            parser.parse_args(words)
        except SystemExit:
            pytest.fail(f"docs/operations.md shows a command the program refuses: hemicycle {' '.join(words)}")


async def test_an_online_backup_taken_while_votes_arrive_verifies(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(12)) as srv:
        clerk = Client(srv.url, srv.creds["clerk"]["token"])
        seats = [Client(srv.url, srv.seat_token(f"S{i:03d}")) for i in range(1, 13)]
        await asyncio.gather(clerk.connect(), *(s.connect() for s in seats))
        await asyncio.gather(*(s.check_in() for s in seats))
        await clerk.command("open_ballot", ballot="reg1")
        votes = asyncio.gather(*(s.cast("reg1", "for") for s in seats))
        (tmp_path / "backup").mkdir()
        backup = tmp_path / "backup" / "hemicycle.db"  # a folder of its own, as the guide says
        done = await asyncio.to_thread(
            subprocess.run, ["sqlite3", srv.db, f".backup {backup}"], capture_output=True, text=True
        )
        await votes
        await clerk.command("close_ballot", ballot="reg1")
        for client in (clerk, *seats):
            await client.close()
    assert done.returncode == 0, done.stderr
    verify = subprocess.run(
        [sys.executable, "-m", "hemicycle.cli", "verify", "--db", str(backup)], capture_output=True, text=True
    )
    assert verify.returncode == 0 and verify.stdout.startswith("OK:"), verify.stderr


def test_the_operations_log_is_reopened_after_logrotate_moves_it(tmp_path: Path) -> None:
    path = tmp_path / "operations.log"
    handler = oplog.attach_file(path)
    try:
        oplog.note("ballot.opened", ballot="reg1", run=1)
        path.rename(tmp_path / "operations.log.1")  # what logrotate does (without copytruncate)
        oplog.note("ballot.closed", ballot="reg1", run=1)
    finally:
        logging.getLogger("hemicycle.ops").removeHandler(handler)
        handler.close()
    rotated = [json.loads(line)["event"] for line in (tmp_path / "operations.log.1").read_text().splitlines()]
    current = [json.loads(line)["event"] for line in path.read_text().splitlines()]
    assert (rotated, current) == (["ballot.opened"], ["ballot.closed"])
    assert oct(path.stat().st_mode & 0o777) == "0o600"
