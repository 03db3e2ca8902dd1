"""Helpers for the browser tests of the three screens (tests/test_pages_*.py).

Headless Chromium through Playwright's Python package (the system's /usr/bin/chromium:
browser downloads are impossible here), a server that can be restarted on the same port
and database, and a collector of JavaScript errors.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import expect

from server.app import create_app
from server.core.agenda import Agenda
from server.runtime import ServerConfig
from tests.support import LiveServer

CHROMIUM = os.environ.get("HEMICYCLE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screens"
# Network noise Chromium logs while the server is down: not JavaScript errors.
NETWORK_NOISE = ("WebSocket connection to", "net::ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET",
                 "net::ERR_EMPTY_RESPONSE")

needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
                                    reason="needs a Chromium at /usr/bin/chromium")


def bind(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def serve(tmp: Path, agenda: Agenda, *, port: int = 0, db: str | None = None) -> LiveServer:
    """Like tests.support.start_server, but on a chosen port (to restart in place)."""
    db = db or str(tmp / "sitting.db")
    cfg = ServerConfig(agenda=agenda, db_url=db, credentials_path=tmp / "credentials.json", data_dir=tmp)
    app = create_app(cfg)
    sock = bind(port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws_per_message_deflate=False,
                                           ws_max_size=1 << 20, lifespan="on", timeout_graceful_shutdown=2))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    for _ in range(1000):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    creds = json.loads((tmp / "credentials.json").read_text())
    return LiveServer(f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}", creds, db, app, server, task)


@dataclass
class Errors:
    """JavaScript errors and console errors/warnings of every page watched."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page: Any, name: str) -> Any:
        def on_console(msg: Any) -> None:
            if msg.type in ("error", "warning") and not any(n in msg.text for n in NETWORK_NOISE):
                self.seen.append(f"{name} console.{msg.type}: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.seen.append(f"{name} pageerror: {exc}"))
        return page


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
