"""The clerk's seat map shows a keypad that went offline, and stops showing it when the
unit answers again: simulated units on a real pty -> the keypad bridge -> the server ->
the console in headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.async_api import async_playwright, expect

from device_drivers.bridge import running_bridge
from device_drivers.bridge_config import config_from_dict
from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from simulators.keypads import PtySimulator, SimulatedLine
from simulators.keypads.serial_server import SerialServer
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot
from tests.support import agenda_data

PASSWORD = "correct horse battery"
CATALOGUES = Path(__file__).resolve().parents[1] / "server/edge/web/i18n"


@needs_chromium
async def test_console_marks_a_silent_keypad_offline_until_it_answers_again(tmp_path: Path) -> None:
    offline = {
        lang: json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))["console.keypad_offline"]
        for lang in ("zh-CN", "en")
    }
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda_from_dict(agenda_data(6)))
    sim = SimulatedLine(range(1, 7), seed=3)
    pty = PtySimulator(sim)
    pty.start()
    config = config_from_dict(
        {
            "token": srv.creds["device"]["token"],
            "lines": [{"name": "L1", "url": pty.slave_path, "units": "agenda", "offline_probe_interval": 0.05}],
        }
    )
    errors = Errors()
    try:
        async with running_bridge(config, srv.url), async_playwright() as pw:
            browser = await launch(pw)
            ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
            console = errors.watch(await ctx.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            seat = console.locator("#seat-m03")
            await expect(console.locator(".seat")).to_have_count(6)
            await expect(console.locator(".kp-off")).to_have_count(0)

            sim.set_silent(3)  # the unit at address 3 serves the third seat in agenda order
            await expect(seat.locator(".kp-off")).to_have_text(offline["zh-CN"])
            await expect(seat).to_have_attribute("aria-label", re.compile(re.escape(offline["zh-CN"])))  # read out too
            await expect(console.locator(".kp-off")).to_have_count(1)  # no other seat is marked
            await shot(console, "console-keypad-offline-zh")

            # a console opened while the unit is still offline learns it from the snapshot
            english = errors.watch(await ctx.new_page(), "console-en")
            await english.goto(f"{srv.http}/console?lang=en")
            await expect(english.locator("#seat-m03 .kp-off")).to_have_text(offline["en"])

            sim.set_silent(3, False)
            for page in (console, english):
                await expect(page.locator(".kp-off")).to_have_count(0)
            await expect(seat).not_to_have_attribute("aria-label", re.compile(re.escape(offline["zh-CN"])))
            await browser.close()
    finally:
        pty.stop()
        await srv.stop()
    assert errors.seen == []


@needs_chromium
async def test_console_shows_one_notice_for_a_keypad_line_that_is_down_and_clears_it(tmp_path: Path) -> None:
    """The line's serial server goes away: one notice naming the line, its seats and why;
    each seat's marker says "line down" instead of six unexplained "keypad offline"; when
    the server is back the notice goes and the clerk is told the line is back."""
    text = {lang: json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("zh-CN", "en")}
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda_from_dict(agenda_data(6)))
    sim = SimulatedLine(range(1, 7), seed=5)
    pty = PtySimulator(sim)
    pty.start()
    box = SerialServer(pty.slave_path, protocol="rfc2217")
    config = config_from_dict({"token": srv.creds["device"]["token"], "lines": [{"name": "L1", "url": box.start()}]})
    errors = Errors()
    try:
        async with running_bridge(config, srv.url), async_playwright() as pw:
            browser = await launch(pw)
            ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
            console = errors.watch(await ctx.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            await expect(console.locator(".seat")).to_have_count(6)
            await expect(console.locator(".kp-line-down")).to_have_count(0)

            box.stop()  # the serial server loses power
            notice = console.locator("#kp-line-L1")
            zh = text["zh-CN"]
            await expect(notice).to_contain_text(zh["keypad_line.port_failed"])
            await expect(notice).to_contain_text("L1")
            await expect(console.locator(".kp-line-down")).to_have_count(1)  # one notice for the line
            await expect(console.locator(".toast-error", has_text=zh["keypad_line.port_failed"])).to_have_count(1)
            await expect(console.locator(".kp-off.kp-line")).to_have_count(6)  # every seat explained by it
            await expect(console.locator(".kp-off:not(.kp-line)")).to_have_count(0)  # no unexplained marker
            await expect(console.locator("#seat-m02")).to_have_attribute(
                "aria-label", re.compile(re.escape(zh["console.keypad_line_off"]))
            )
            await shot(console, "console-keypad-line-down-zh")

            english = errors.watch(await ctx.new_page(), "console-en")
            await english.goto(f"{srv.http}/console?lang=en")
            en_notice = english.locator("#kp-line-L1")
            await expect(en_notice).to_contain_text(text["en"]["keypad_line.port_failed"])
            await expect(en_notice).to_contain_text("(6 seats)")

            box.start()  # back: the bridge reconnects, the units answer
            for page in (console, english):
                await expect(page.locator(".kp-line-down")).to_have_count(0)
                await expect(page.locator(".kp-off")).to_have_count(0)
            back = zh["console.keypad_line_back"].replace("{line}", "L1")
            await expect(console.locator(".toast-ok", has_text=back)).to_be_visible()
            await browser.close()
    finally:
        box.stop()
        pty.stop()
        await srv.stop()
    assert errors.seen == []
