"""The console shows the log's head for the clerk to copy down, and it moves on when a
certificate is issued; the head it shows is the one `hemicycle verify --head` accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from server.core import commands as c
from server.edge.auth import set_password
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot
from tests.support import make_agenda

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = [needs_chromium, pytest.mark.browser]


async def test_the_console_shows_the_log_head_and_verify_accepts_it(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, make_agenda(4, ballots=[{"id": "b1", "title": "物业管理条例（草案）"}]))
    sitting = srv.assembly.sitting
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            page = errors.watch(
                await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page(), "console"
            )
            await console_login(page, srv.http, PASSWORD)
            value = page.locator("#log-head-value")
            await expect(value).to_have_text(f"{len(sitting.hashes)}:{sitting.hashes[-1]}")
            await expect(page.locator("#log-head")).to_contain_text("日志末端")
            for m in ("m01", "m02", "m03"):
                await sitting.execute(c.SetAttendance(m, "present"))
            await sitting.execute(c.OpenBallot("b1"))
            await sitting.execute(c.Cast("m01", "b1", "for", "k1"))
            await sitting.execute(c.CloseBallot("b1"))
            await srv.assembly.issuer.drain()
            assert ("b1", 1) in sitting.meeting.certificates
            head = f"{len(sitting.hashes)}:{sitting.hashes[-1]}"  # the certificate.issued entry
            await expect(value).to_have_text(head)
            await shot(page, "console-log-head")
            await browser.close()
    finally:
        await srv.stop()
    assert errors.seen == []
    done = subprocess.run(
        [sys.executable, "-m", "hemicycle.cli", "verify", "--db", srv.db, "--head", head],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert f"the log reaches {head[:14]}…" in done.stdout
