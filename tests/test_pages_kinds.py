"""The tablet's papers for every ballot kind, and the display's table of result lines."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import async_playwright, expect

from server.core.agenda import agenda_from_dict
from terminal_client import Client
from tests.pages_support import Errors, launch, needs_chromium, pairing_url, serve, shot

CANDIDATES = [{"id": "c1", "name": "陈明"}, {"id": "c2", "name": "林芳"}, {"id": "c3", "name": "赵刚"}]


def agenda():
    return agenda_from_dict(
        {
            "meeting": {"title": "常委会第二十四次会议", "language": "zh-CN", "date": "2026-12-20"},
            "members": [
                {"id": "m01", "name": "王建国", "seat": "S001"},
                {"id": "m02", "name": "李秀英", "seat": "S002"},
            ],
            "items": [
                {
                    "id": "item1",
                    "title": "人事事项",
                    "ballots": [
                        {
                            "id": "elect",
                            "title": "选举副主任",
                            "kind": "election",
                            "seats": 2,
                            "candidates": CANDIDATES,
                        },
                        {
                            "id": "appoint",
                            "title": "任命",
                            "kind": "appointment",
                            "mode": "together",
                            "nominees": [
                                {"id": "n1", "name": "孙立", "post": "局长"},
                                {"id": "n2", "name": "周洁", "post": "副局长", "action": "remove"},
                            ],
                        },
                        {
                            "id": "pick",
                            "title": "评选优秀代表",
                            "kind": "selection",
                            "seats": 2,
                            "candidates": CANDIDATES,
                        },
                        {
                            "id": "eval",
                            "title": "满意度测评",
                            "kind": "evaluation",
                            "subjects": [{"id": "s1", "title": "市住建局"}, {"id": "s2", "title": "市水务局"}],
                        },
                        {
                            "id": "score",
                            "title": "工作评分",
                            "kind": "score",
                            "subjects": [{"id": "q1", "title": "总体评价", "min": 0, "max": 10}],
                        },
                    ],
                }
            ],
        }
    )


@needs_chromium
async def test_every_kind_has_a_paper_and_the_display_tabulates_lines(tmp_path: Path) -> None:
    srv = await serve(tmp_path, agenda())
    errors = Errors()
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    await clerk.connect()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            tablet = errors.watch(
                await (await browser.new_context(viewport={"width": 1180, "height": 820})).new_page(), "tablet"
            )
            await tablet.goto(pairing_url(srv, "S001"))
            await tablet.click("#check-in")
            await expect(tablet.locator("#my-status")).to_have_attribute("data-status", "present")
            display = errors.watch(
                await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page(), "display"
            )
            await display.goto(pairing_url(srv))

            async def run(ballot: str, fill, name: str) -> None:
                await clerk.command("open_ballot", ballot=ballot)
                await expect(tablet.locator("#ballot-title")).to_have_count(1)
                await fill()
                await shot(tablet, f"tablet-{name}-zh")
                await tablet.click("#submit-paper")
                await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")
                await clerk.command("close_ballot", ballot=ballot)
                await expect(display.locator("[data-layout=result]")).to_be_visible()
                await shot(display, f"display-{name}-result-zh")

            async def election() -> None:
                await tablet.click(".markrow:nth-child(1) [data-mark=for]")
                await tablet.click(".markrow:nth-child(2) [data-mark=against]")
                await tablet.fill(".writein", "吴  新")
                await tablet.click(".markrow:nth-child(3) [data-mark=for]")
                await expect(tablet.locator("#paper-warning-live")).to_contain_text("废票")  # 3 "for" > 2 seats
                await tablet.click(".markrow:nth-child(3) [data-mark=for]")  # un-mark
                await expect(tablet.locator("#paper-warning-live")).to_have_text("")

            await run("elect", election, "election")
            await expect(display.locator("#d-lines tbody tr")).to_have_count(4)  # 3 candidates + the write-in

            async def appointment() -> None:
                await tablet.click(".markrow:nth-child(1) [data-mark=for]")
                await tablet.click(".markrow:nth-child(2) [data-mark=against]")

            await run("appoint", appointment, "appointment")

            async def selection() -> None:
                await tablet.click("[data-candidate=c1]")
                await tablet.click("[data-candidate=c3]")
                await expect(tablet.locator("[data-candidate=c2]")).to_be_disabled()  # at most 2

            await run("pick", selection, "selection")

            async def evaluation() -> None:
                await tablet.click(".markrow:nth-child(1) [data-mark=satisfied]")
                await tablet.click(".markrow:nth-child(2) [data-mark=basically_satisfied]")

            await run("eval", evaluation, "evaluation")

            async def score() -> None:
                await tablet.click("[data-score='8']")  # 0–10: a button per value

            await run("score", score, "score")
            await expect(tablet.locator("#vote-state")).to_contain_text("8")
            await browser.close()
    finally:
        await clerk.close()
        await srv.stop()
    assert errors.seen == []
