"""The clerk's console across a takeover, in real Chromium (issue 14, "What a takeover costs").

Two `hemicycle serve` on PostgreSQL behind Debian's HAProxy (tests/standby_support.py). The
clerk runs a secret ballot from the console, opened through the proxy; seats vote through
the Python client library; the leader is SIGKILLed. The console reconnects by itself to the
standby that took over, says that the server changed and that the votes already cast can no
longer be changed, and the clerk closes the ballot from the page: every vote counts once.
Screenshots: test-artifacts/screens/standby-*.png.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from server.edge.auth import set_password
from terminal_client.client import Client, ServerError
from tests.pages_support import Errors, console_login, launch, needs_chromium, shot
from tests.standby_support import Pair
from tests.support import agenda_data, write_agenda_toml
from tests.support_pg import pg_url, reset  # noqa: F401 - pg_url is a fixture

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "correct horse battery"
SECRET = "主任人选无记名表决"


@pytest.fixture
def pair(tmp_path: Path, pg_url: str) -> Any:  # noqa: F811
    reset(pg_url)
    agenda = write_agenda_toml(
        tmp_path / "agenda.toml", agenda_data(5, ballots=[{"id": "s1", "title": SECRET, "secret": True}])
    )
    pair = Pair(tmp_path, agenda, pg_url)
    set_password(pair.data, PASSWORD)  # one data folder for both: the clerk's login works on either
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


async def test_the_console_carries_on_across_a_takeover_and_says_which_votes_are_locked(pair: Pair) -> None:
    front = f"http://127.0.0.1:{pair.front}"
    creds = pair.creds()
    seats = {s: Client(pair.url, creds["seats"][s]["token"], backoff=(0.05, 0.5)) for s in sorted(creds["seats"])[:4]}
    errors = Errors(
        # while no server leads, HAProxy answers the console's HTTP requests (its session,
        # a fresh token, the log head) with 503: the outage the test makes, not a fault
        expected=("the server responded with a status of 503",)
    )
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            console = errors.watch(
                await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page(), "console"
            )
            await console_login(console, front, PASSWORD)
            await expect(console.locator("#server-changed")).to_have_count(0)  # a new sitting: nothing to say
            for seat in seats.values():
                await seat.connect(timeout=60)
                await seat.check_in()
            await console.click("#ballot-s1")
            await console.click("#open-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")
            await seats["S001"].cast("s1", "for", key="1a")
            await seats["S002"].cast("s1", "against", key="2a")
            await seats["S002"].cast("s1", "for", key="2b")  # the leader that took it can change it
            await seats["S003"].cast("s1", "against", key="3a")
            await expect(console.locator("#progress-count")).to_contain_text("3")
            await shot(console, "standby-console-before-zh")

            leader = pair.proc("a")
            os.kill(leader.pid, signal.SIGKILL)
            await asyncio.to_thread(leader.wait)
            assert await asyncio.to_thread(pair.leader_becomes, "b") == "b"
            # the notice comes only with the welcome of a server that began after this page's
            # first: its appearance is the proof that the page reconnected by itself (the
            # offline moment may be too short for a poll to see)
            notice = console.locator("#server-changed")
            await expect(notice).to_be_visible(timeout=60_000)
            await expect(console.locator("#conn [data-status=online]")).to_be_visible()
            await expect(notice).to_have_attribute("data-began", "takeover")
            await expect(notice).to_contain_text("备用服务器已接管")
            await expect(notice.locator(".server-locked[data-ballot=s1]")).to_contain_text(f"《{SECRET}》")
            await expect(notice.locator(".server-locked[data-ballot=s1]")).to_contain_text("3 票")
            await expect(notice).to_contain_text("其他一切照常进行")
            await shot(console, "standby-console-takeover-zh")

            # what the notice says: a vote cast before is locked; the ballot goes on
            for seat in seats.values():
                await seat.connected(timeout=60)
            with pytest.raises(ServerError) as locked:
                await seats["S001"].cast("s1", "against", key="1b", timeout=60)
            assert locked.value.code == "vote_locked"
            await seats["S004"].cast("s1", "for", key="4a", timeout=60)
            await expect(console.locator("#progress-count")).to_contain_text("4")

            # a console opened now, in English, is told too: the ballot with locked votes is open
            english = errors.watch(await console.context.new_page(), "console-en")
            await english.goto(f"{front}/console?lang=en")
            await expect(english.locator("#conn [data-status=online]")).to_be_visible()
            await expect(english.locator("#server-changed")).to_contain_text("the standby server took over")
            await expect(english.locator("#server-changed .server-locked")).to_contain_text(
                f"Votes already cast in the secret ballot “{SECRET}” (3) can no longer be changed."
            )
            await shot(english, "standby-console-takeover-en")
            await english.click("#server-notice-ok")
            await expect(english.locator("#server-changed")).to_have_count(0)
            await english.close()

            # the clerk closes the ballot from the page; every vote counts once
            await console.click("#close-ballot")
            await expect(console.locator("#confirm")).to_be_visible()
            await console.click("#confirm-ok")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "closed")
            await expect(console.locator("#result .bar-for .bcount")).to_have_text("3")
            await expect(console.locator("#result .bar-against .bcount")).to_have_text("1")
            await expect(console.locator("#result [data-verdict=passed]")).to_be_visible()
            # closed, nothing is locked any more: the notice keeps only what happened
            await expect(notice.locator(".server-locked")).to_have_count(0)
            await expect(notice).to_contain_text("备用服务器已接管")
            await shot(console, "standby-console-closed-zh")
        finally:
            await asyncio.gather(*(s.close() for s in seats.values()))
            await browser.close()
    verify = await asyncio.to_thread(pair.verify)
    assert verify.returncode == 0, verify.stderr
    assert errors.seen == []
