"""The English sample run through the pages only, in a shorter form than the Chinese one
(tests/test_pages_whole_sitting_zh.py): pairing from the QR sheet, check-in on tablets and
in bulk, a seat map, a ballot closed with some and one with no votes, hold/resume, a void
and re-run, certificates and the record from the console (QR codes checked by
`hemicycle verify-certificate`), the sitting closed from the console, `hemicycle verify`
at the end, and no JavaScript error on any page."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import async_playwright, expect

from server.edge.auth import set_password
from server.live.agenda_file import load_agenda
from tests.pages_flow import (
    CONSOLE,
    PASSWORD,
    PRINT_STUB,
    ROOT,
    TABLET,
    WALL,
    close_ballot,
    confirm,
    download,
    hemicycle,
    open_ballot,
    pair_urls,
    pdf_text,
    printed_pdf,
    qr_payload,
    show,
    stop,
    vote,
)
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot

VOTERS = ["C01", "C02", "C03", "C04"]


@needs_chromium
async def test_the_english_sample_from_pairing_to_the_signed_record(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    agenda = load_agenda(ROOT / "agendas" / "council.en.toml")
    srv = await serve(tmp_path, agenda, agenda_dir=ROOT / "agendas")
    errors = Errors()
    files = tmp_path / "downloads"
    files.mkdir()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            clerk = await browser.new_context(viewport=CONSOLE, accept_downloads=True)
            await clerk.add_init_script(PRINT_STUB)
            console = errors.watch(await clerk.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            # the seat map: every seat where the agenda's [layout] puts it
            await expect(console.locator("#console-map .seat.on-map")).to_have_count(len(agenda.members))

            sheet = errors.watch(await clerk.new_page(), "sheet")
            await sheet.goto(f"{srv.http}/console/pairing")
            await expect(sheet.locator(".qr-card[data-seat] svg")).to_have_count(len(agenda.members))
            urls, display_url = await pair_urls(sheet, VOTERS)

            wall = await browser.new_context(viewport=WALL)
            display = errors.watch(await wall.new_page(), "display")
            await display.goto(display_url)
            await expect(display.locator("[data-layout=idle]")).to_be_visible()
            tablets = {}
            for seat, url in urls.items():
                page = errors.watch(await (await browser.new_context(viewport=TABLET, has_touch=True)).new_page(), seat)
                await page.goto(url)
                await page.click("#check-in")
                await expect(page.locator("#my-status")).to_have_attribute("data-status", "present")
                tablets[seat] = page

            # -- attendance in bulk: everyone not checked in but one, then that one on leave --------
            await console.click("#bulk-not-checked-in")
            await expect(console.locator("#bulk-count")).to_have_text("11 selected")  # voting members only
            await console.click("#seat-w14")  # taken out of the selection
            await expect(console.locator("#bulk-count")).to_have_text("10 selected")
            await console.click("#bulk-present")
            await expect(console.locator("#present-count")).to_have_text("14")
            await console.click("#bulk-select")
            await console.click("#seat-w14")
            await console.click("#bulk-leave")
            await expect(console.locator("#seat-w14")).to_have_attribute("data-status", "leave")
            await expect(console.locator("#seat-manager")).to_have_attribute("data-status", "absent")
            await expect(console.locator("#seat-manager .seat-st")).to_have_text("Not checked in")
            await shot(console, "whole-en-console-attendance")
            attendance = errors.watch(await wall.new_page(), "display-attendance")
            await attendance.goto(f"{srv.http}/display?mode=attendance")
            await expect(attendance.locator("#wall-map .d-seat[data-status=present]")).to_have_count(14)
            await expect(attendance.locator("#wall-map .d-seat[data-status=leave]")).to_have_count(1)
            await shot(attendance, "whole-en-wall-seat-map")
            await attendance.close()

            # -- minutes: four vote, the confirmation says how many of those present ---------------
            await open_ballot(console, "minutes-adopt")
            await expect(console.locator("#seat-mayor.voted")).to_have_count(0)
            for page in tablets.values():
                await vote(page, "for")
            await expect(console.locator("#seat-mayor.voted")).to_have_count(1)  # progress on the map
            await shot(console, "whole-en-console-progress")
            text = await close_ballot(console)
            assert "4 of 14 present have voted." in text and "Nobody" not in text
            await expect(display.locator("#d-verdict-counts")).to_have_text("4 of 14 present voted")
            await console.click("#announce-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "announced")

            # -- the by-law: closed with nobody voting is said so, and never a bare red word --------
            await open_ballot(console, "procedure-bylaw-adopt")
            text = await close_ballot(console)
            assert "0 of 14 present have voted." in text and "Nobody has voted" in text
            await expect(display.locator("#d-verdict")).to_have_attribute("data-verdict", "failed")
            await expect(display.locator("#d-verdict-counts")).to_have_text("Nobody voted (14 present)")
            await shot(display, "whole-en-wall-nobody-voted")

            # -- the budget: hold and resume, a void and a re-run -----------------------------------
            await open_ballot(console, "budget-adopt", countdown=None)  # the agenda's 120 s
            await console.click("#hold-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "held")
            await expect(tablets["C01"].locator("#ballot-state")).to_have_attribute("data-state", "held")
            await console.click("#resume-ballot")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")
            for page in tablets.values():
                await vote(page, "against")
            await close_ballot(console)
            await console.click("#void-ballot")
            await confirm(console, reason="A tablet showed the wrong item")
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "voided")
            await console.fill("#countdown-input", "")
            await console.click("#open-ballot")  # the re-run
            await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")
            for page in tablets.values():
                await vote(page, "for")
            await close_ballot(console)

            # -- certificates from the console, checked as an auditor would -------------------------
            minutes = await download(console, "#cert-minutes-adopt-1-download", files)
            assert "Tally certificate" in pdf_text(minutes)
            assert await printed_pdf(console, "#cert-minutes-adopt-1-print") == ("application/pdf", minutes.name)
            void = await download(console, "#cert-budget-adopt-1-void-download", files)
            assert "VOID" in pdf_text(void)
            rerun = await download(console, "#cert-budget-adopt-2-download", files)
            await shot(console, "whole-en-console-certificates")

            # -- close the sitting: the confirmation names what is still open -----------------------
            await console.click("#close-sitting")
            text = await confirm(console, ok=False)  # read, then cancelled: nothing changes
            assert "Not voted (4): That the Freedom of the City" in text  # and the three appointment ballots
            assert "Closed but not announced (2): That the 2027 Operating" in text, text
            assert "recalled from the tablets (1): Solicitor's advice" in text
            await expect(console.locator("#sitting-closed")).to_have_count(0)
            await console.click("#close-sitting")
            await confirm(console)
            await expect(console.locator("#sitting-closed")).to_be_visible()
            await expect(display.locator("[data-layout=closed]")).to_be_visible()
            for page in tablets.values():
                await expect(page.get_by_text("The sitting has ended")).to_be_visible()
                await expect(page.locator("#check-in")).to_have_count(0)
            await show(console, "freedom-award")
            await expect(console.locator("#ballot .controls button")).to_have_count(0)  # no live controls
            await expect(console.locator("#bulk-select")).to_be_disabled()
            record = await download(console, "#record-download", files)
            assert "Riverton" in pdf_text(record)
            await shot(console, "whole-en-console-closed")
            await shot(display, "whole-en-wall-closed")
            await shot(tablets["C01"], "whole-en-tablet-closed")
            await browser.close()
    finally:
        await stop(srv)
    assert errors.seen == []
    for pdf, mark in ((minutes, "run 1"), (rerun, "run 2")):
        done = hemicycle("verify-certificate", qr_payload(pdf, tmp_path), "--db", srv.db)
        assert done.returncode == 0 and mark in done.stdout and "VOID" not in done.stdout, done.stdout + done.stderr
    done = hemicycle("verify-certificate", qr_payload(void, tmp_path), "--db", srv.db)
    assert done.returncode == 0 and "VOID" in done.stdout, done.stdout + done.stderr
    done = hemicycle("verify", "--db", srv.db)
    assert done.returncode == 0, done.stdout + done.stderr
