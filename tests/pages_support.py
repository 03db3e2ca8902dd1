"""Helpers for the browser tests of the three screens (tests/test_pages_*.py).

Headless Chromium through Playwright's Python package (the system's /usr/bin/chromium:
browser downloads are impossible here), a server that can be restarted on the same port
and database, and a collector of JavaScript errors.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from server.core.agenda import Agenda
from tests.support import LiveServer, start_server

CHROMIUM = os.environ.get("HEMICYCLE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screens"
# Network noise Chromium logs while the server is down: not JavaScript errors.
NETWORK_NOISE = (
    "WebSocket connection to",
    "net::ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "net::ERR_EMPTY_RESPONSE",
)

_CHROMIUM_MISSING = shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists()
if _CHROMIUM_MISSING and os.environ.get("CI") == "true":
    # Under CI the pages must be tested, as PostgreSQL must (tests/support_pg.py): a skip
    # there would pass a build that never opened a page.
    raise RuntimeError(f"Chromium is required under CI and {CHROMIUM} is missing (scripts/system-deps.sh --test)")
needs_chromium = pytest.mark.skipif(_CHROMIUM_MISSING, reason="needs a Chromium at /usr/bin/chromium")


async def serve(tmp: Path, agenda: Agenda, *, port: int = 0, db: str | None = None, **config: Any) -> LiveServer:
    """A live server that a test may stop and start again on the same port and database."""
    return await start_server(tmp, agenda, db=db, port=port, graceful_shutdown=2, **config)


@dataclass
class Errors:
    """JavaScript errors and console errors/warnings of every page watched."""

    seen: list[str] = field(default_factory=list)
    expected: tuple[str, ...] = ()  # console texts a test expects, with its reason beside it

    def watch(self, page: Any, name: str) -> Any:
        def on_console(msg: Any) -> None:
            noise = (*NETWORK_NOISE, *self.expected)
            if msg.type in ("error", "warning") and not any(n in msg.text for n in noise):
                self.seen.append(f"{name} console.{msg.type}: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.seen.append(f"{name} pageerror: {exc}"))
        return page


def pairing_url(srv: LiveServer, seat: str | None = None) -> str:
    """A one-time pairing URL, as the clerk's QR sheet prints it: a seat's, or a display wall's."""
    pairing = srv.assembly.auth.pairing
    if seat is None:
        return f"{srv.http}/display#pair={pairing.issue([], display=True)['display']}"
    return f"{srv.http}/seat#pair={pairing.issue([seat])[seat]}"


async def launch(playwright: Any) -> Any:
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


async def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path


async def console_login(page: Any, http: str, password: str) -> None:
    """Log the clerk in through the login page and wait for the console to be online."""
    await page.goto(f"{http}/console")
    await page.wait_for_url("**/console/login")
    await page.fill("#password", password)
    await page.click("#login-button")
    await page.wait_for_url("**/console")
    await expect(page.locator("#conn [data-status=online]")).to_be_visible()
