"""The clerk's console drives the sitting, and every screen follows it (real Chromium).

- Countdown: the field shows the agenda's value; emptied, the ballot opens without a limit.
- reveal = "on_announce": the clerk sees the result at close; the wall and the tablets say
  "表决结束，待宣布" until the chair announces, then show it.
- Current item: making an item current shows its ballot in the panel; opening a ballot of
  another item makes that item current, so the tablets show the right 当前议程.
- Further rounds: one click creates the round and the panel moves to it; its number agrees
  in the title, the headers, the wall and the certificate; candidates keep their order.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from playwright.async_api import async_playwright, expect

from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from terminal_client import Client
from tests.pages_support import Errors, console_login, launch, needs_chromium, pairing_url, serve, shot

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]
ZH = json.loads((ROOT / "server/edge/web/i18n/zh-CN.json").read_text(encoding="utf-8"))
NAMES = ["王建国", "李秀英", "张志强", "刘海燕"]


def agenda():
    return agenda_from_dict(
        {
            "meeting": {
                "title": "常委会第二十五次会议",
                "body": "某市人大常委会",
                "language": "zh-CN",
                "date": "2027-01-10",
            },
            "members": [{"id": f"m0{i + 1}", "name": n, "seat": f"S00{i + 1}"} for i, n in enumerate(NAMES)],
            "items": [
                {
                    "id": "item1",
                    "title": "审议条例草案",
                    "ballots": [
                        {"id": "reg1", "title": "物业管理条例（草案）", "countdown": 60},
                        {"id": "reg2", "title": "生态环境保护条例（草案）", "countdown": 60, "reveal": "on_announce"},
                        {"id": "reg3", "title": "城市绿化条例（草案）"},
                    ],
                },
                {
                    "id": "item2",
                    "title": "补选",
                    "ballots": [
                        {
                            "id": "el",
                            "title": "补选副主任委员",
                            "kind": "election",
                            "seats": 1,
                            "candidates": [
                                {"id": "z", "name": "甲一"},
                                {"id": "a", "name": "乙二"},
                                {"id": "m", "name": "丙三"},
                            ],
                        }
                    ],
                },
            ],
        }
    )


@needs_chromium
async def test_the_console_runs_countdowns_reveal_current_items_and_further_rounds(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda())
    meeting = srv.assembly.sitting
    errors = Errors()
    seats = [Client(srv.url, srv.seat_token(f"S00{i}")) for i in (2, 3, 4)]
    try:
        for seat in seats:
            await seat.connect()
            await seat.check_in()
        async with async_playwright() as pw:
            browser = await launch(pw)
            console = errors.watch(
                await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page(), "console"
            )
            await console_login(console, srv.http, PASSWORD)
            wall = errors.watch(
                await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page(), "wall"
            )
            await wall.goto(pairing_url(srv))
            tablet = errors.watch(
                await (await browser.new_context(viewport={"width": 1180, "height": 820})).new_page(), "tablet"
            )
            await tablet.goto(pairing_url(srv, "S001"))
            await tablet.click("#check-in")
            title = console.locator("#ballot-title")

            async def close_from_console() -> None:
                await console.click("#close-ballot")
                await console.click("#confirm-ok")
                await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "closed")

            # -- countdown: the agenda's value is shown; emptied, no limit -----------------------
            await expect(title).to_have_text("物业管理条例（草案）")
            field = console.locator("#countdown-input")
            await expect(field).to_have_value("60")
            await expect(console.locator("#countdown-help")).to_contain_text("留空表示不限时")
            await field.fill("")
            await console.click("#open-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")
            assert meeting.meeting.ballots["reg1"].deadline is None
            await expect(tablet.locator("#countdown")).to_have_attribute("data-deadline", "")
            await close_from_console()

            await console.click("#ballot-reg2")
            await expect(title).to_have_text("生态环境保护条例（草案）")
            await expect(field).to_have_value("60")
            await console.click("#open-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")
            deadline = meeting.meeting.ballots["reg2"].deadline
            assert deadline is not None and deadline - meeting.meeting.ballots["reg2"].opened_at == 60
            await expect(tablet.locator("#countdown")).to_contain_text("剩余")

            # -- reveal on announcement ----------------------------------------------------------
            await tablet.click("[data-choice=for]")
            await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")
            await seats[0].cast("reg2", "against")
            await close_from_console()
            await expect(console.locator("#result .rline")).to_have_count(1)
            await expect(console.locator("#not-yet-shown")).to_be_visible()
            await expect(wall.locator("[data-layout=awaiting] #d-awaiting")).to_have_text("表决结束，待宣布")
            await expect(tablet.locator("#ballot-state")).to_have_attribute("data-state", "awaiting")
            await expect(tablet.locator("#ballot-state")).to_have_text("表决结束，待宣布")
            await expect(tablet.locator(".result")).to_have_count(0)
            await shot(wall, "display-awaiting-announcement-zh")
            await shot(console, "console-awaiting-announcement-zh")
            await console.click("#announce-ballot")
            await expect(wall.locator("#d-verdict")).to_have_attribute("data-verdict", "failed")
            await expect(tablet.locator(".result")).to_have_count(1)
            await expect(console.locator("#not-yet-shown")).to_have_count(0)

            # -- the current item and the ballot panel follow each other --------------------------
            await console.click("#item-item2")
            await expect(title).to_have_text("补选副主任委员")
            await expect(tablet.locator("#item-title")).to_have_text("补选")
            await console.click("#ballot-reg3")
            await expect(title).to_have_text("城市绿化条例（草案）")
            await console.click("#open-ballot")
            await expect(tablet.locator("#item-title")).to_have_text("审议条例草案")
            await expect(console.locator(".item.current")).to_have_attribute("data-item", "item1")
            await expect(wall.locator("#d-ballot-title")).to_have_text("城市绿化条例（草案）")
            await close_from_console()

            # -- a further round: one click, the panel moves to it --------------------------------
            await console.click("#item-item2")
            await expect(title).to_have_text("补选副主任委员")
            await console.click("#open-ballot")
            await tablet.locator(".markrow[data-row=a] [data-mark=for]").click()
            await tablet.click("#submit-paper")
            await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")
            for seat, cand in zip(seats, ("a", "m", "m")):
                await seat.cast("el", {cand: "for"})
            await close_from_console()  # 2, 2 and 0 of 4: nobody has more than half
            await console.click("#further-round")
            await expect(title).to_have_text("补选副主任委员（第2轮）")
            await expect(console.locator("#ballot-kind")).to_contain_text("第 2 轮")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "draft")
            assert await console.locator(".toast-error").count() == 0
            await console.click("#open-ballot")
            await expect(tablet.locator("#ballot-title")).to_have_text("补选副主任委员（第2轮）")
            await expect(tablet.locator("#ballot-kind")).to_contain_text("第 2 轮")
            rows = await tablet.locator(".markrow[data-row]").evaluate_all("(rows) => rows.map((r) => r.dataset.row)")
            assert rows == ["z", "a", "m"]  # the first paper's order, not the vote order
            await expect(wall.locator("#d-kind")).to_contain_text("第 2 轮")
            await expect(wall.locator("#d-ballot-title")).to_have_text("补选副主任委员（第2轮）")
            await shot(tablet, "tablet-election-round-2-zh")
            await tablet.locator(".markrow[data-row=a] [data-mark=for]").click()
            await tablet.click("#submit-paper")
            for seat in seats:
                await seat.cast("el-r2", {"a": "for"})
            await close_from_console()
            await expect(wall.locator("#d-kind")).to_contain_text("第 2 轮")
            await console.click("#ballot-el")
            await expect(console.locator("#go-to-round")).to_have_text("转到第 2 轮")
            await expect(console.locator("#further-round")).to_have_count(0)
            await console.click("#go-to-round")
            await expect(title).to_have_text("补选副主任委员（第2轮）")
            await browser.close()
        await srv.assembly.issuer.drain()
        pdf = srv.assembly.issuer.path_for("el-r2", 1)
        text = " ".join(
            subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode().split()
        )
        assert "补选副主任委员（第2轮）" in text and "选举轮次 第2轮" in text and "表决次数 第1次" in text
    finally:
        for seat in seats:
            await seat.close()
        await srv.stop()
    assert errors.seen == []
