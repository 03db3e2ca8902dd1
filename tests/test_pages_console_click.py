"""A clerk's click is never lost to a vote arriving mid-click (real Chromium).

The console rebuilds its panels on every change, and a click is a press and a release on
one element: a vote's progress arriving between the two replaced the "Close ballot" button,
the release landed on the new one, and no click happened — the close dialog never came (a
typography test caught it on a loaded machine; in a full room progress arrives many times a
second). The console now holds its renders while a pointer is down. Here the press and the
release are driven apart, with a vote's progress delivered to the console between them; and
a press never released (a stuck button, a window that lost focus) holds renders back only
for a while.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import async_playwright, expect

from server.edge.auth import set_password
from terminal_client import Client
from tests.pages_flow import open_ballot
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot
from tests.support import make_agenda

PASSWORD = "correct horse battery"


@needs_chromium
async def test_a_click_on_close_survives_a_vote_arriving_between_press_and_release(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, make_agenda(4))
    errors = Errors()
    seats = [Client(srv.url, srv.seat_token(f"S00{i}")) for i in (1, 2, 3)]
    try:
        for seat in seats:
            await seat.connect()
            await seat.check_in()
        async with async_playwright() as pw:
            browser = await launch(pw)
            console = errors.watch(
                await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page(), "console"
            )
            frames: list[str] = []
            console.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
            await console_login(console, srv.http, PASSWORD)
            await open_ballot(console, "reg1")
            await seats[0].cast("reg1", "for")
            await expect(console.locator("#progress-count")).to_contain_text("1")

            # a press the page never sees released (a stuck button, a window that lost focus)
            # holds renders back only for a while: the console never freezes on it
            title = await console.locator("#meeting-title").bounding_box()
            assert title is not None
            await console.mouse.move(title["x"] + 5, title["y"] + 5)
            await console.mouse.down()
            await seats[2].cast("reg1", "for")
            await expect(console.locator("#progress-count")).to_contain_text("2", timeout=60_000)
            await console.mouse.up()

            button = console.locator("#close-ballot")
            await expect(button).to_be_enabled()
            box = await button.bounding_box()
            assert box is not None
            await console.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            await console.mouse.down()
            seen = len(frames)
            await seats[1].cast("reg1", "against")  # its progress reaches the console mid-click

            async def progress_arrived() -> None:
                while not any('"voted":3' in f or '"voted": 3' in f for f in frames[seen:]):
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(progress_arrived(), 30)
            await console.evaluate("new Promise((done) => setTimeout(done, 200))")  # the page handles it
            await console.mouse.up()

            await expect(console.locator("#confirm")).to_be_visible()
            await shot(console, "console-close-confirm-after-a-vote-mid-click")
            await console.click("#confirm-ok")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "closed")
            await expect(console.locator("#result")).to_be_visible()
            await shot(console, "console-closed-after-a-vote-mid-click")
            await browser.close()
        assert errors.seen == []
    finally:
        for seat in seats:
            await seat.close()
        srv.server.should_exit = True
        await asyncio.wait_for(srv.task, 60)
