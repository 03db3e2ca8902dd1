"""What the clerk prints from the browser: the pairing sheet and a ballot's result.

Each page is checked twice: in print media (what is hidden, what stays) and as the PDF
Chromium prints (pdftotext for the words on each page, pdftoppm + zbarimg for the QR codes
and the colours), which is what a clerk would hold in hand.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.async_api import async_playwright, expect

from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from terminal_client import Client
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve

PASSWORD = "correct horse battery"
ZH = json.loads((Path(__file__).resolve().parents[1] / "server/edge/web/i18n/zh-CN.json").read_text(encoding="utf-8"))
NAMES = [
    "王建国",
    "李秀英",
    "张志强",
    "刘海燕",
    "陈明",
    "林芳",
    "赵刚",
    "孙立",
    "周洁",
    "吴新",
    "郑华",
    "冯军",
    "何静",
    "许强",
]
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"
"""window.print() opens the browser's dialog; the tests count calls and print to PDF instead."""


def agenda(seats: int):
    return agenda_from_dict(
        {
            "meeting": {
                "title": "常委会第二十五次会议",
                "body": "某市人大常委会",
                "language": "zh-CN",
                "date": "2027-01-15",
            },
            "members": [{"id": f"m{i + 1:02d}", "name": NAMES[i], "seat": f"S{i + 1:03d}"} for i in range(seats)],
            "items": [
                {
                    "id": "item1",
                    "title": "审议条例草案",
                    "ballots": [{"id": "reg1", "title": "物业管理条例（草案）", "rule": "simple_majority"}],
                }
            ],
        }
    )


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each printed page."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def pdf_images(pdf: Path, dpi: int, *, mono: bool = False) -> list[Path]:
    """Each page as an image: in colour, or in black and white as a laser printer prints
    (zbar misses the odd code in an anti-aliased grey rendering, never in a black-and-white one)."""
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-mono" if mono else "-png", str(pdf), str(prefix)], check=True)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.{'pbm' if mono else 'png'}"))


async def print_pdf(page: Any, path: Path) -> Path:
    path.write_bytes(
        await page.pdf(format="A4", margin={"top": "12mm", "bottom": "12mm", "left": "12mm", "right": "12mm"})
    )
    return path


@needs_chromium
async def test_pairing_sheet_prints_every_qr_card_whole_and_scannable(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda(14))
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
            await ctx.add_init_script(COUNT_PRINTS)
            await console_login(errors.watch(await ctx.new_page(), "console"), srv.http, PASSWORD)
            sheet = errors.watch(await ctx.new_page(), "sheet")
            await sheet.goto(f"{srv.http}/console/pairing")
            cards = sheet.locator(".qr-card")
            await expect(sheet.locator(".qr-card svg")).to_have_count(15)  # 14 seats + the display
            seats = {
                f"S{i:03d}": await sheet.locator(f".qr-card[data-seat=S{i:03d}] .qr-code").inner_text()
                for i in range(1, 15)
            }
            urls = set(await sheet.locator("a.qr-url[data-url]").evaluate_all("els => els.map(e => e.dataset.url)"))
            urls.add(await sheet.locator("#display-url").get_attribute("href"))
            await sheet.click("#print")
            assert await sheet.evaluate("window.__prints") == 1

            await sheet.emulate_media(media="print")
            for hidden in ("#print", "#renew", ".sheet-help"):
                await expect(sheet.locator(hidden)).to_be_hidden()
            for i in range(15):
                await expect(cards.nth(i)).to_be_visible()

            pages = pdf_pages(await print_pdf(sheet, tmp_path / "sheet.pdf"))
            assert len(pages) > 1  # 15 cards do not fit one A4 page: the grid goes on
            assert all(ZH["pairing.print"] not in p and ZH["pairing.renew"] not in p for p in pages)
            for seat, code in seats.items():
                label = ZH["pairing.seat"].format(seat=seat)
                holding = [p for p in pages if label in p]
                assert len(holding) == 1 and code in holding[0], f"{seat}'s card is split or missing"
            # every printed code scans, once: no QR code is cut by a page break
            scanned = subprocess.run(
                ["zbarimg", "--quiet", "--raw", *map(str, pdf_images(tmp_path / "sheet.pdf", 150, mono=True))],
                capture_output=True,
                text=True,
            ).stdout.split()
            missing, extra = urls - set(scanned), set(scanned) - urls
            assert not missing and not extra and len(scanned) == len(urls), f"unscannable {missing}, unexpected {extra}"
            await browser.close()
    finally:
        await srv.stop()
    assert errors.seen == []


@needs_chromium
async def test_console_prints_the_result_and_named_list_without_controls(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda(4))
    errors = Errors()
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    await clerk.connect()
    seats = [Client(srv.url, srv.seat_token(f"S00{i}")) for i in range(1, 5)]
    try:
        for seat in seats:
            await seat.connect()
            await seat.check_in()
        await clerk.command("open_ballot", ballot="reg1")
        for seat, choice in zip(seats, ("for", "for", "for", "against")):
            await seat.cast("reg1", choice)
        await clerk.command("close_ballot", ballot="reg1")
        async with async_playwright() as pw:
            browser = await launch(pw)
            ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
            await ctx.add_init_script(COUNT_PRINTS)
            console = errors.watch(await ctx.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "closed")
            await expect(console.locator(".annex tr")).to_have_count(4)
            await console.click("#print-result")
            assert await console.evaluate("window.__prints") == 1

            await console.emulate_media(media="print")
            for hidden in (
                "#logout",
                "#pairing-link",
                "#conn",
                "#agenda",
                "#print-result",
                "#announce-ballot",
                "#void-ballot",
                "#attendance",
            ):
                await expect(console.locator(hidden)).to_be_hidden()
            for shown in ("#meeting-title", "#ballot-title", "#result [data-verdict=passed]"):
                await expect(console.locator(shown)).to_be_visible()
            for i in range(4):  # the named list is printed open, though folded on screen
                await expect(console.locator(".annex tr").nth(i)).to_be_visible()

            pdf = await print_pdf(console, tmp_path / "result.pdf")
            pages = pdf_pages(pdf)
            assert len(pages) == 1
            text = pages[0]
            for words in ("常委会第二十五次会议", "物业管理条例（草案）", ZH["verdict.passed"], *NAMES[:4]):
                assert words in text
            for control in (
                "console.logout",
                "console.pairing_sheet",
                "console.announce",
                "console.void",
                "console.print_result",
                "console.agenda",
                "console.attendance",
            ):
                assert ZH[control] not in text, f"{control} is printed"
            # the verdict badge and the bars keep their colours on paper (white text on white otherwise)
            image = Image.open(pdf_images(pdf, 60)[0]).convert("RGB")
            assert any(_near(colour, (0x0A, 0x7A, 0x35)) for _, colour in image.getcolors(image.width * image.height))
            await browser.close()
    finally:
        for client in (clerk, *seats):
            await client.close()
        await srv.stop()
    assert errors.seen == []


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(pixel, colour))
