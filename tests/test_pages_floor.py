"""The floor through the three screens in real headless Chromium.

Three tablets ask to speak (one raises a point of order, which goes ahead), the clerk
reorders the queue by dragging, gives the floor to the next; the wall and the tablets show
the speaker and the timer, which turns amber in the warning before the limit and red past
it; the clerk ends the speech, a tablet withdraws, and the totals appear on the console and
in the printed sitting record. No page logs a JavaScript error.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from playwright.async_api import async_playwright, expect

from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from tests.pages_support import Errors, console_login, launch, needs_chromium, pairing_url, serve, shot
from tests.support import bearer

PASSWORD = "correct horse battery"
TABLET = {"width": 1180, "height": 820}
NAMES = ["王建国", "李秀英", "张志强", "刘海燕"]


def agenda():
    return agenda_from_dict(
        {
            "meeting": {
                "title": "常委会第二十三次会议",
                "body": "某市人大常委会",
                "session": "第二十三次会议",
                "language": "zh-CN",
                "date": "2026-11-25",
                # a short limit, so the warning and the overrun come within the test
                "speaking": {"normal": 4, "point_of_order": 600, "warning": 3},
            },
            "members": [
                {"id": f"m0{i + 1}", "name": n, "seat": f"S00{i + 1}", "group": "甲组" if i % 2 == 0 else "乙组"}
                for i, n in enumerate(NAMES)
            ],
            "items": [{"id": "item1", "title": "审议物业管理条例草案"}],
        }
    )


def order(page_entries: list[str | None]) -> list[str]:
    return [m or "" for m in page_entries]


@needs_chromium
async def test_requests_grant_timer_reorder_end_and_totals(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda())
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            clerk = await browser.new_context(viewport={"width": 1440, "height": 900})
            console = errors.watch(await clerk.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            await expect(console.locator("#floor-queue-empty")).to_be_visible()

            wall = await browser.new_context(viewport={"width": 1920, "height": 1080})
            display = errors.watch(await wall.new_page(), "display")
            await display.goto(pairing_url(srv))
            await expect(display.locator("[data-layout=idle]")).to_be_visible()

            tablets = []
            for seat in ("S001", "S002", "S003"):
                ctx = await browser.new_context(viewport=TABLET, has_touch=True)
                page = errors.watch(await ctx.new_page(), f"tablet-{seat}")
                await page.goto(pairing_url(srv, seat))
                await expect(page.locator("#floor-card")).to_contain_text("签到后可申请发言")
                await page.click("#check-in")
                await expect(page.locator("#my-status")).to_have_attribute("data-status", "present")
                tablets.append(page)

            # -- three requests; the point of order goes ahead --------------------------------
            await tablets[0].click("#floor-request")
            await expect(tablets[0].locator("#floor-place")).to_have_attribute("data-place", "1")
            await tablets[1].click("#floor-request")
            await tablets[2].click("#floor-point-of-order")
            await expect(tablets[2].locator("#floor-place")).to_have_attribute("data-place", "1")
            await expect(tablets[0].locator("#floor-place")).to_have_attribute("data-place", "2")
            await expect(tablets[1].locator("#floor-place")).to_have_attribute("data-place", "3")
            entries = console.locator("#floor-queue li")
            await expect(entries).to_have_count(3)
            assert order(await entries.evaluate_all("els => els.map(e => e.dataset.member)")) == ["m03", "m01", "m02"]
            await expect(display.locator("[data-layout=floor] #d-next li")).to_have_count(3)
            await shot(tablets[1], "floor-tablet-queued-zh")
            await shot(display, "floor-display-queue-zh")

            # -- the clerk drags the last to the head ------------------------------------------
            await console.drag_and_drop("#floor-entry-m02", "#floor-entry-m03")
            await expect(tablets[1].locator("#floor-place")).to_have_attribute("data-place", "1")
            await expect(tablets[2].locator("#floor-place")).to_have_attribute("data-place", "2")
            assert order(await entries.evaluate_all("els => els.map(e => e.dataset.member)")) == ["m02", "m03", "m01"]
            await shot(console, "floor-console-queue-zh")

            # -- next: m02 has the floor; every screen shows the speaker and the timer ---------
            await console.click("#floor-next")
            await expect(display.locator("#d-speaker")).to_have_attribute("data-member", "m02")
            await expect(display.locator("#d-speaker-name")).to_have_text("李秀英")
            await expect(display.locator("#d-speaker")).to_contain_text("乙组")
            await expect(display.locator("#d-speaker")).to_contain_text("S002席")
            await expect(tablets[1].locator("#floor-speaker")).to_contain_text("您正在发言")
            await expect(tablets[0].locator("#floor-speaker")).to_contain_text("李秀英")
            await expect(tablets[1].locator("#floor-place")).to_have_count(0)
            await expect(console.locator("#floor-speaker")).to_have_attribute("data-member", "m02")
            # within the 3 s before the 4 s limit: amber; past it: red, with the overrun
            await expect(display.locator("#d-floor-timer")).to_have_attribute("data-phase", "warning")
            await shot(display, "floor-display-warning-zh")
            await expect(display.locator("#d-floor-timer")).to_have_attribute("data-phase", "over", timeout=10_000)
            await expect(display.locator("#d-floor-timer")).to_contain_text("超时")
            await expect(tablets[1].locator("#floor-timer")).to_have_attribute("data-phase", "over")
            await expect(console.locator("#console-floor-timer")).to_have_attribute("data-phase", "over")
            await shot(display, "floor-display-over-zh")
            await shot(console, "floor-console-speaking-zh")
            await shot(tablets[1], "floor-tablet-speaking-zh")
            await shot(tablets[0], "floor-tablet-other-speaking-zh")

            # -- end; the next one; a withdrawal ------------------------------------------------
            await console.click("#floor-end")
            await expect(display.locator("#d-speaker")).to_have_count(0)
            await expect(tablets[1].locator("#floor-request")).to_be_visible()
            await console.click("#floor-next")  # m03's point of order (600 s limit)
            await expect(tablets[2].locator("#floor-speaker")).to_contain_text("您正在发言")
            await expect(display.locator("#d-floor-timer")).to_have_attribute("data-phase", "running")
            await tablets[0].click("#floor-withdraw")
            await expect(console.locator("#floor-queue-empty")).to_be_visible()
            await console.click("#floor-end")
            await expect(display.locator("[data-layout=idle]")).to_be_visible()

            # -- totals on the console ----------------------------------------------------------
            await expect(console.locator("#floor-totals-sitting tbody tr")).to_have_count(2)
            await expect(console.locator("#floor-totals-groups tbody tr")).to_have_count(2)
            await shot(console, "floor-console-totals-zh")

        # -- the sitting record: who spoke on what, for how long --------------------------------
        async with httpx.AsyncClient(base_url=srv.http, timeout=120) as http:
            pdf = await http.get("/api/record.pdf", headers=bearer(srv.creds["clerk"]["token"]))
        assert pdf.status_code == 200
        path = tmp_path / "record.pdf"
        path.write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
        assert "发言情况" in text and "审议物业管理条例草案（2人次）" in text
        assert "李秀英" in text and "张志强" in text and "程序性发言" in text
        assert "超时" in text  # 李秀英 spoke past the 4 s limit
        assert "发言时间合计（按人员）" in text
    finally:
        await srv.stop()
    assert errors.seen == []
