"""What a member sees selected on a tablet's paper is exactly what is cast.

For every paper — election with a write-in, appointment voted together or one nominee,
selection, evaluation with several subjects, scores on small and large scales — a member
sets it up the way a person does (taps, typing, steppers, a number field), the test reads
what the page shows, submits, and compares with what the server recorded in the log's
``vote.cast`` (the ballots are named) and with the member's confirmation. The last action
before submitting is the one a paper drawn once would lose: typing a write-in, a stepper,
a typed number. Then a secret election's write-in is followed from the tablet to the
console, the wall, the certificate and the export.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright, expect

from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from terminal_client import Client
from tests.pages_support import Errors, console_login, launch, needs_chromium, pairing_url, serve, shot

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
TABLET = {"width": 1180, "height": 820}
CANDIDATES = [{"id": "c1", "name": "陈明"}, {"id": "c2", "name": "林芳"}, {"id": "c3", "name": "赵刚"}]
MEMBERS = [{"id": "m01", "name": "王建国", "seat": "S001"}, {"id": "m02", "name": "李秀英", "seat": "S002"}]

# What the page shows on its paper: per row, the pressed buttons, a write-in, a score field.
READ_PAPER = """() => [...document.querySelectorAll('.markrow[data-row]')].map((r) => ({
  id: r.dataset.row,
  pressed: [...r.querySelectorAll('[aria-pressed=true]')].map((b) => b.dataset.mark ?? b.dataset.score ?? b.dataset.candidate),
  writein: r.querySelector('.writein') ? r.querySelector('.writein').value : null,
  number: r.querySelector('.score-number') ? r.querySelector('.score-number').value : null,
}))"""


def named_agenda():
    ballots: list[dict[str, Any]] = [
        {"id": "elect", "title": "选举副主任", "kind": "election", "seats": 2, "candidates": CANDIDATES},
        {
            "id": "appoint",
            "title": "任免",
            "kind": "appointment",
            "mode": "together",
            "nominees": [
                {"id": "n1", "name": "孙立", "post": "局长"},
                {"id": "n2", "name": "周洁", "post": "副局长", "action": "remove"},
            ],
        },
        {
            "id": "appoint1",
            "title": "任命",
            "kind": "appointment",
            "nominees": [{"id": "n1", "name": "韩立群", "post": "司法局局长"}],
        },
        {"id": "pick", "title": "评选优秀代表", "kind": "selection", "seats": 2, "candidates": CANDIDATES},
        {
            "id": "eval",
            "title": "满意度测评",
            "kind": "evaluation",
            "subjects": [
                {"id": "s1", "title": "住建局"},
                {"id": "s2", "title": "水务局"},
                {"id": "s3", "title": "交通局"},
            ],
        },
        {
            "id": "small",
            "title": "服务评分",
            "kind": "score",
            "subjects": [
                {"id": "stars", "title": "群众满意程度（星级）", "min": 1, "max": 5},
                {"id": "ten", "title": "工作作风", "min": 0, "max": 10},
            ],
        },
        {
            "id": "big",
            "title": "综合评分",
            "kind": "score",
            "trim": 1,
            "subjects": [
                {"id": "overall", "title": "综合评分", "min": 0, "max": 100},
                {"id": "half", "title": "半分制评分", "min": 0, "max": 10, "step": 0.5},
            ],
        },
    ]
    for b in ballots:
        b["secret"] = False  # named: the log records each choice, so the test can read it
    return agenda_from_dict(
        {
            "meeting": {"title": "常委会第二十四次会议", "language": "zh-CN", "date": "2026-12-20"},
            "members": MEMBERS,
            "items": [{"id": "item1", "title": "人事事项", "ballots": ballots}],
        }
    )


def normal(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split())


def number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def shown_choice(kind: str, rows: list[dict[str, Any]]) -> Any:
    """The choice the page shows, in the form the server records (null entries left out)."""
    if kind == "selection":
        return [r["id"] for r in rows if r["pressed"]]
    out: dict[str, Any] = {}
    for r in rows:
        mark = r["pressed"][0] if r["pressed"] else None
        if kind == "score":
            text = r["number"] if r["number"] not in (None, "") else mark
            if text is not None:
                out[r["id"]] = number(text)
        elif kind == "election" and mark == "against" and normal(r["writein"] or ""):
            out[r["id"]] = {"mark": "against", "write_in": normal(r["writein"])}
        elif mark is not None:
            out[r["id"]] = mark
    return out


def recorded(srv: Any, ballot: str, member: str = "m01") -> Any:
    """The choice in the log's last vote.cast of ``member`` in ``ballot``."""
    casts = [ev for _, ev in srv.assembly.sitting.history if isinstance(ev, e.VoteCast)]
    (last, *_) = [ev for ev in reversed(casts) if ev.ballot == ballot and ev.member == member]
    return last.choice


@needs_chromium
async def test_every_paper_casts_exactly_what_the_member_sees(tmp_path: Path) -> None:
    srv = await serve(tmp_path, named_agenda())
    errors = Errors()
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    await clerk.connect()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            tablet = errors.watch(await (await browser.new_context(viewport=TABLET)).new_page(), "tablet")
            await tablet.goto(pairing_url(srv, "S001"))
            await tablet.click("#check-in")
            await expect(tablet.locator("#my-status")).to_have_attribute("data-status", "present")
            row = lambda rid: tablet.locator(f".markrow[data-row='{rid}']")  # noqa: E731

            async def paper(ballot: str, kind: str, interact: Any, name: str) -> tuple[Any, str]:
                await clerk.command("open_ballot", ballot=ballot)
                await expect(tablet.locator("#ballot-state[data-state=closed]")).to_have_count(0)
                await interact()
                shown = shown_choice(kind, await tablet.evaluate(READ_PAPER))
                await shot(tablet, f"tablet-paper-{name}-zh")
                await tablet.click("#submit-paper")
                await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")
                confirmation = await tablet.locator("#vote-state").inner_text()
                assert recorded(srv, ballot) == shown, ballot
                await clerk.command("close_ballot", ballot=ballot)
                await expect(tablet.locator("#ballot-state[data-state=closed]")).to_be_visible()
                return shown, confirmation

            # election: the write-in typed last is sent, counted as a "for", and confirmed
            async def election() -> None:
                await row("c1").locator("[data-mark=for]").click()
                await row("c3").locator("[data-mark=for]").click()
                await row("c2").locator("[data-mark=against]").click()
                await row("c2").locator(".writein").fill("吴  新")
                await expect(tablet.locator("#paper-warning-live")).to_contain_text("废票")  # 3 for > 2 seats
                await row("c3").locator("[data-mark=for]").click()  # un-mark: the paper is drawn again
                await expect(row("c2").locator(".writein")).to_have_value("吴  新")  # the typing survives
                await expect(tablet.locator("#paper-warning-live")).to_have_text("")
                await row("c2").locator(".writein").fill("吴  新华")  # the last thing done

            shown, said = await paper("elect", "election", election, "election")
            assert shown == {"c1": "for", "c2": {"mark": "against", "write_in": "吴 新华"}}
            assert "另选他人：吴 新华" in said and "陈明：赞成" in said

            async def together() -> None:
                await row("n1").locator("[data-mark=for]").click()
                await row("n2").locator("[data-mark=against]").click()
                await row("n2").locator("[data-mark=abstain]").click()

            shown, said = await paper("appoint", "appointment", together, "appointment-together")
            assert shown == {"n1": "for", "n2": "abstain"} and "周洁：弃权" in said

            # one nominee: the big buttons; the tablet casts the form the server records and echoes
            await clerk.command("open_ballot", ballot="appoint1-n1")
            await tablet.click("[data-choice=against]")
            await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")
            assert recorded(srv, "appoint1-n1") == {"n1": "against"}
            await expect(tablet.locator("#vote-state")).to_contain_text("韩立群：反对")
            await clerk.command("close_ballot", ballot="appoint1-n1")

            async def selection() -> None:
                await tablet.click("[data-candidate=c1]")
                await tablet.click("[data-candidate=c3]")
                await expect(tablet.locator("[data-candidate=c2]")).to_be_disabled()  # at most 2
                await tablet.click("[data-candidate=c1]")
                await tablet.click("[data-candidate=c2]")

            shown, said = await paper("pick", "selection", selection, "selection")
            assert shown == ["c2", "c3"] and "林芳、赵刚" in said

            async def evaluation() -> None:
                await row("s1").locator("[data-mark=satisfied]").click()
                await row("s2").locator("[data-mark=basically_satisfied]").click()
                await row("s3").locator("[data-mark=dissatisfied]").click()
                await row("s3").locator("[data-mark=dissatisfied]").click()  # taken back: no grade

            shown, said = await paper("eval", "evaluation", evaluation, "evaluation")
            assert shown == {"s1": "satisfied", "s2": "basically_satisfied"} and "交通局" not in said

            # small scales: a button per value, stars for 1–5
            async def small() -> None:
                await expect(row("stars").locator(".stars [data-score]")).to_have_count(5)
                await expect(row("ten").locator("[data-score]")).to_have_count(11)
                await expect(row("stars").locator("input")).to_have_count(0)
                await row("stars").locator("[data-score='4']").click()
                await expect(row("stars").locator("[data-lit]")).to_have_count(4)
                await row("ten").locator("[data-score='7']").click()
                await row("ten").locator("[data-score='7']").click()  # taken back
                await row("ten").locator("[data-score='8']").click()

            shown, said = await paper("small", "score", small, "score-small")
            assert shown == {"stars": 4, "ten": 8}

            # 0–100: a number field with steppers next to the slider; a value off the scale blocks the paper
            async def big() -> None:
                field = row("overall").locator(".score-number")
                await expect(row("overall").locator("input[type=range]")).to_have_count(1)
                await row("overall").locator(".step-up").click()  # from unscored: the lowest score
                await expect(field).to_have_value("0")
                await field.fill("101")
                await expect(row("overall").locator(".score-problem")).to_contain_text("0–100")
                await expect(tablet.locator("#submit-paper")).to_be_disabled()
                await field.fill("85")
                await expect(tablet.locator("#submit-paper")).to_be_enabled()
                await row("half").locator(".score-number").fill("7.5")
                await row("overall").locator(".step-up").click()  # the last thing done
                await expect(field).to_have_value("86")
                await expect(row("overall").locator("input[type=range]")).to_have_value("86")

            shown, said = await paper("big", "score", big, "score-big")
            assert shown == {"overall": 86, "half": 7.5}
            assert "综合评分：86" in said and "7.5" in said
            # each score ballot explains its own rule, not a motion's pass mark
            await clerk.command("void_ballot", ballot="big")
            await clerk.command("open_ballot", ballot="big")
            await expect(tablet.locator("#ballot-rule")).to_contain_text("去掉 1 个最高分")
            await expect(tablet.locator("#ballot-rule")).not_to_contain_text("赞成")
            await clerk.command("close_ballot", ballot="big")
            await browser.close()
    finally:
        await clerk.close()
        await srv.stop()
    assert errors.seen == []


def secret_election():
    return agenda_from_dict(
        {
            "meeting": {"title": "常委会第二十四次会议", "language": "zh-CN", "date": "2026-12-20"},
            "members": MEMBERS,
            "items": [
                {
                    "id": "item1",
                    "title": "补选",
                    "ballots": [
                        {
                            "id": "elect",
                            "title": "补选副主任委员",
                            "kind": "election",
                            "seats": 1,
                            "candidates": [{"id": "c1", "name": "孙立军"}, {"id": "c2", "name": "郑宏伟"}],
                        }
                    ],
                }
            ],
        }
    )


@needs_chromium
async def test_a_secret_write_in_reaches_the_count_the_console_the_wall_the_certificate_and_the_export(
    tmp_path: Path,
) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, secret_election())
    errors = Errors()
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    other = Client(srv.url, srv.seat_token("S002"))
    await clerk.connect()
    await other.connect()
    try:
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
            tablet = errors.watch(await (await browser.new_context(viewport=TABLET)).new_page(), "tablet")
            await tablet.goto(pairing_url(srv, "S001"))
            await tablet.click("#check-in")
            await other.check_in()
            await clerk.command("open_ballot", ballot="elect")
            row = lambda rid: tablet.locator(f".markrow[data-row='{rid}']")  # noqa: E731
            await row("c1").locator("[data-mark=against]").click()
            await row("c2").locator("[data-mark=against]").click()
            await row("c1").locator(".writein").fill("吴新")
            await tablet.click("#submit-paper")
            await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")
            await expect(tablet.locator("#vote-state")).to_contain_text("另选他人：吴新")
            await other.cast("elect", {"c1": {"mark": "against", "write_in": "吴新"}, "c2": "against"})
            await clerk.command("close_ballot", ballot="elect")

            await expect(console.locator("#result [data-line='write_in:吴新']")).to_contain_text("吴新")
            await expect(wall.locator("#d-lines tr[data-line='write_in:吴新']")).to_contain_text("2")
            await shot(wall, "display-election-write-in-zh")
            await shot(console, "console-election-write-in-zh")
            await browser.close()
        await srv.assembly.issuer.drain()
        (closed,) = [ev for _, ev in srv.assembly.sitting.history if isinstance(ev, e.BallotClosed)]
        (line,) = [x for x in closed.result["lines"] if x["write_in"]]
        assert (line["label"], line["counts"], line["verdict"]) == ("吴新", {"for": 2}, "elected")
        pdf = srv.assembly.issuer.path_for("elect", 1)
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
        assert "吴新" in text
    finally:
        await clerk.close()
        await other.close()
        await srv.stop()
    assert errors.seen == []
    out = tmp_path / "csv"
    done = subprocess.run(
        [sys.executable, "-m", "hemicycle.cli", "export", "--db", srv.db, "--format", "csv", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    results = (out / "results.csv").read_text(encoding="utf-8")
    assert "write_in:吴新,吴新" in results
