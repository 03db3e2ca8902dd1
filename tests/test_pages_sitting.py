"""A sitting run through the three screens in real headless Chromium.

The clerk logs in and runs the sitting from the console; three tablets pair from the QR
sheet's URLs, check in and vote; the display follows; the server is restarted mid-ballot
and every page recovers by itself (a vote made while it was down is queued and then
confirmed); no page logs a JavaScript error. Screenshots of each screen, in both languages,
go to test-artifacts/screens/.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.async_api import async_playwright, expect

from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot

PASSWORD = "correct horse battery"
TABLET = {"width": 1180, "height": 820}


def agenda(language: str = "zh-CN"):
    zh = language == "zh-CN"
    names = ["王建国", "李秀英", "张志强", "刘海燕"] if zh else ["Ada Byron", "Ben Okri", "Chen Wei", "Dana Scott"]
    return agenda_from_dict(
        {
            "meeting": {
                "title": "常委会第二十三次会议" if zh else "Council meeting no. 23",
                "body": "某市人大常委会" if zh else "City Council",
                "session": "第二十三次会议" if zh else "23rd sitting",
                "language": language,
                "date": "2026-11-25",
                "rule": "majority_of_all",
            },
            "members": [{"id": f"m0{i + 1}", "name": n, "seat": f"S00{i + 1}"} for i, n in enumerate(names)],
            "items": [
                {
                    "id": "item1",
                    "title": "审议物业管理条例草案" if zh else "Property management bill",
                    "ballots": [
                        {
                            "id": "reg1",
                            "title": "物业管理条例（草案）" if zh else "Property management bill",
                            "rule": "simple_majority",
                        }
                    ],
                },
                {"id": "item2", "title": "其他事项" if zh else "Any other business", "ballots": []},
            ],
        }
    )


@needs_chromium
async def test_a_sitting_through_console_tablets_and_display(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda())
    port = int(srv.http.rsplit(":", 1)[1])
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            # -- the clerk logs in ------------------------------------------------------------
            clerk = await browser.new_context(viewport={"width": 1440, "height": 900})
            console = errors.watch(await clerk.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)

            # -- pairing URLs from the printable QR sheet --------------------------------------
            sheet = errors.watch(await clerk.new_page(), "sheet")
            await sheet.goto(f"{srv.http}/console/pairing")
            await expect(sheet.locator(".qr-card svg")).to_have_count(5)  # 4 seats + the display
            urls = {
                s: await sheet.locator(f".qr-card[data-seat={s}] a.qr-url").get_attribute("data-url")
                for s in ("S001", "S002", "S003")
            }
            display_url = await sheet.locator("#display-url").get_attribute("href")
            await shot(sheet, "pairing-sheet-zh")

            # -- the display wall ---------------------------------------------------------------
            wall = await browser.new_context(viewport={"width": 1920, "height": 1080})
            display = errors.watch(await wall.new_page(), "display")
            await display.goto(display_url)
            await expect(display.locator("[data-layout=idle]")).to_be_visible()

            # -- three tablets pair by the QR URL and check in ---------------------------------
            tablets = []
            for seat, url in urls.items():
                ctx = await browser.new_context(viewport=TABLET, has_touch=True)
                page = errors.watch(await ctx.new_page(), f"tablet-{seat}")
                await page.goto(url)
                await page.click("#check-in")
                await expect(page.locator("#my-status")).to_have_attribute("data-status", "present")
                assert "pair=" not in page.url  # the used code is gone from the address bar
                tablets.append(page)
            # the same code again is refused with a clear message
            again = errors.watch(await (await browser.new_context(viewport=TABLET)).new_page(), "reuse")
            await again.goto(urls["S001"])
            await expect(again.locator("#pair-error")).to_have_attribute("data-code", "code_used")
            await shot(again, "tablet-code-used-zh")

            # -- the clerk marks one member on leave; everyone sees the quorum ----------------
            await console.click("#seat-m04")
            await console.click("#seat-dialog [data-set=leave]")
            await expect(console.locator("#seat-m04")).to_have_attribute("data-status", "leave")
            await expect(console.locator("#quorum")).to_have_class("quorum-yes")
            await expect(display.locator("#d-attendance .present .d-num")).to_have_text("3")
            await shot(display, "display-attendance-zh")

            # -- open the ballot with a countdown ------------------------------------------------
            await console.click("#ballot-reg1")
            await console.fill("#countdown-input", "600")
            await console.click("#open-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")
            await expect(display.locator("[data-layout=ballot]")).to_be_visible()
            await expect(display.locator("#d-count")).to_have_attribute("data-present", "3")

            # the ballot allows a change (the default): one tap casts, "change my vote" re-opens
            await tablets[0].click("[data-choice=abstain]")
            await expect(tablets[0].locator("#vote-state")).to_contain_text("弃权")
            await tablets[0].click("#change-vote")
            for page in tablets[:2]:
                await page.click("[data-choice=for]")
                await expect(page.locator("#vote-state")).to_have_attribute("data-state", "recorded")
                await expect(page.locator("#vote-state")).to_contain_text("赞成")
            await expect(display.locator("#d-count")).to_have_attribute("data-voted", "2")
            await expect(console.locator("#progress-count")).to_contain_text("2")
            await expect(console.locator("#not-voted li")).to_have_count(1)
            await expect(display.locator("#countdown")).to_contain_text(":")
            await shot(console, "console-ballot-open-zh")
            await shot(display, "display-ballot-open-zh")
            await shot(tablets[0], "tablet-recorded-zh")
            await shot(tablets[2], "tablet-ballot-open-zh")

            # -- the server restarts mid-ballot ------------------------------------------------
            await srv.stop()
            for page in (*tablets, console, display):
                await expect(page.locator("#conn [data-status=offline]")).to_be_visible(timeout=10_000)
            await tablets[2].click("[data-choice=against]")
            await expect(tablets[2].locator("#vote-state")).to_have_attribute("data-state", "queued")
            await shot(tablets[2], "tablet-offline-queued-zh")
            srv = await serve(tmp_path, agenda(), port=port, db=srv.db)
            await expect(tablets[2].locator("#vote-state")).to_have_attribute("data-state", "recorded", timeout=15_000)
            await expect(tablets[2].locator("#vote-state")).to_contain_text("反对")
            for page in (*tablets, console):
                await expect(page.locator("#conn [data-status=online]")).to_be_visible(timeout=15_000)
            await expect(display.locator("#d-count")).to_have_attribute("data-voted", "3", timeout=15_000)
            await expect(console.locator("#not-voted li")).to_have_count(0)

            # -- close (with confirmation), the result everywhere -------------------------------
            await console.click("#close-ballot")
            await expect(console.locator("#confirm")).to_be_visible()
            await console.click("#confirm-ok")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "closed")
            await expect(display.locator("#d-verdict")).to_have_attribute("data-verdict", "passed")
            await expect(display.locator(".d-bar[data-option=for] .d-bcount")).to_have_text("2")
            await expect(display.locator(".d-bar[data-option=against] .d-bcount")).to_have_text("1")
            for page in tablets:
                await expect(page.locator("#ballot-state")).to_have_attribute("data-state", "closed")
                await expect(page.locator("#vote-state")).to_have_attribute("data-state", "recorded")
            await console.click("#announce-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "announced")
            await shot(console, "console-result-zh")
            await shot(display, "display-result-zh")
            await shot(tablets[0], "tablet-result-zh")
            await display.set_viewport_size({"width": 1280, "height": 720})
            await shot(display, "display-result-zh-720p")

            # -- the same screens in English -------------------------------------------------------
            console_en = errors.watch(await clerk.new_page(), "console-en")
            await console_en.goto(f"{srv.http}/console?lang=en")
            await expect(console_en.locator("#ballot-status")).to_have_attribute("data-status", "announced")
            await expect(console_en.locator("#logout")).to_have_text("Log out")
            await shot(console_en, "console-result-en")
            display_en = errors.watch(await wall.new_page(), "display-en")
            await display_en.goto(f"{srv.http}/display?lang=en&mode=chair")  # paired already: the stored token
            await expect(display_en.locator("#d-verdict")).to_have_text("Passed")
            await shot(display_en, "display-result-en-chair")
            await display_en.set_viewport_size({"width": 1280, "height": 720})
            await shot(display_en, "display-result-en-720p")
            tablet_en = errors.watch(await tablets[0].context.new_page(), "tablet-en")
            await tablet_en.goto(f"{srv.http}/seat?lang=en")  # paired already: the stored token
            await expect(tablet_en.locator("#vote-state")).to_contain_text("Recorded: For")
            await shot(tablet_en, "tablet-result-en")
            await console.click("#item-item2")
            await expect(display_en.locator("[data-layout=idle]")).to_be_visible()
            await shot(display_en, "display-idle-en-720p")
            await shot(display, "display-idle-zh-720p")
            await browser.close()
    finally:
        with contextlib.suppress(Exception):
            await srv.stop()
    # the reused code's HTTP 409 is the refusal the test asked for; anything else is a fault
    expected = [e for e in errors.seen if e.startswith("reuse ") and "409" in e]
    assert [e for e in errors.seen if e not in expected] == []
