"""The clerk sees the paired tablets and display walls and revokes one, in real Chromium
(issue 11, defect 6): a display pairs with a typed code, the revoked tablet is sent back to
its pairing screen at once, and no page ever has a token in its address."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import async_playwright, expect

from server.edge.auth import set_password
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot
from tests.support import make_agenda

PASSWORD = "s3cret-for-tests"


@needs_chromium
async def test_the_clerk_lists_paired_devices_and_revokes_a_tablet(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, make_agenda(4))
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            clerk = await browser.new_context(viewport={"width": 1280, "height": 900})
            console = errors.watch(await clerk.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            sheet = errors.watch(await clerk.new_page(), "sheet")
            await sheet.goto(f"{srv.http}/console/pairing")
            await expect(sheet.locator("#no-devices")).to_be_visible()
            seat_url = await sheet.locator(".qr-card[data-seat=S001] a.qr-url").get_attribute("data-url")
            display_url = await sheet.locator("#display-url").get_attribute("href")
            assert "#pair=" in seat_url and "#pair=" in display_url

            tablet = errors.watch(await (await browser.new_context()).new_page(), "tablet")
            await tablet.goto(seat_url)
            await tablet.click("#check-in")
            await expect(tablet.locator("#my-status")).to_have_attribute("data-status", "present")

            # a display wall pairs with the code typed in (no URL needed)
            wall = errors.watch(
                await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page(), "wall"
            )
            await wall.goto(f"{srv.http}/display")
            await expect(wall.locator("[data-layout=pairing]")).to_be_visible()
            await shot(wall, "display-pairing-zh")
            await wall.fill("#pair-code", display_url.rsplit("=", 1)[1])
            await wall.press("#pair-code", "Enter")
            await expect(wall.locator("[data-layout=idle]")).to_be_visible()

            await sheet.click("#refresh-devices")
            await expect(sheet.locator("#devices tr")).to_have_count(2)
            await expect(sheet.locator("#devices tr[data-seat=S001]")).to_be_visible()
            await shot(sheet, "pairing-devices-zh")
            sheet.once("dialog", lambda dialog: dialog.accept())
            await sheet.click("#devices tr[data-seat=S001] button.revoke")
            await expect(sheet.locator("#devices tr")).to_have_count(1)  # the display remains
            # the tablet is disconnected at once and asks to be paired again
            await expect(tablet.locator("#pair-error")).to_have_attribute("data-code", "token_refused")
            await shot(tablet, "tablet-revoked-zh")
            await expect(wall.locator("[data-layout=idle]")).to_be_visible()
            for page in (console, sheet, tablet, wall):
                assert "token" not in page.url and "pair=" not in page.url
            await browser.close()
        assert errors.seen == []
    finally:
        await srv.stop()
