"""`/` leads somewhere: a start page for the operator with the console, the pairing sheet
and the display wall, in the meeting's language (issue 15, item 16)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import async_playwright, expect

from tests.pages_support import Errors, launch, needs_chromium, serve, shot
from tests.support import make_agenda


@needs_chromium
async def test_the_start_page_links_the_console_the_pairing_sheet_and_the_wall(tmp_path: Path) -> None:
    srv = await serve(tmp_path, make_agenda(3))
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            page = errors.watch(await browser.new_page(), "start")
            response = await page.goto(f"{srv.http}/")
            assert response is not None and response.status == 200
            await expect(page.locator("#start-console")).to_have_text("会务控制台")
            await expect(page.locator("#start-pairing")).to_have_attribute("href", "/console/pairing")
            await expect(page.locator("#start-display")).to_have_attribute("href", "/display")
            await shot(page, "start-zh")
            await page.click("#start-console")
            await page.wait_for_url("**/console/login")  # the console asks for the password first
            await page.goto(f"{srv.http}/?lang=en")
            await expect(page.locator("#start-display")).to_have_text("Display wall")
            await expect(page.locator("#start-display")).to_have_attribute("href", "/display?lang=en")
            await shot(page, "start-en")
            await page.click("#start-display")
            await expect(page.locator("#pair-code")).to_be_visible()  # an unpaired wall asks for its code
            await browser.close()
    finally:
        await srv.stop()
    assert errors.seen == []
