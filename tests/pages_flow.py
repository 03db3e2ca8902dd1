"""Steps of a whole sitting run through the pages (tests/test_pages_whole_sitting_*.py): the
clerk's console actions as a clerk does them — buttons, confirmations, downloads — and the
checks an auditor makes on what the console hands out (QR codes, `hemicycle verify`)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import expect

ROOT = Path(__file__).resolve().parents[1]
#: a whole sitting shares two cores with everything else: waits are for conditions, and
#: a loaded machine is not a failure (a hang still fails)
expect.set_options(timeout=30_000)
PASSWORD = "correct horse battery"
TABLET = {"width": 1180, "height": 820}
CONSOLE = {"width": 1440, "height": 1000}
WALL = {"width": 1920, "height": 1080}


#: The browser's print dialog cannot be driven headless (and printing a PDF frame crashes a
#: headless renderer): every frame's print() only notes which document asked, so a test
#: sees that the certificate's PDF itself was printed, not the console page.
PRINT_STUB = "window.print = function () { (window.top.__printed = window.top.__printed || []).push(location.href); };"


async def stop(srv: Any) -> None:
    """Stop the server once its certificates are written. A sample sitting's documents keep
    the render workers busy (every page, watermarked per reader): on a loaded machine they
    take longer than the usual 15 s to finish, which is not a failure — a hang still is."""
    with contextlib.suppress(Exception):
        await srv.assembly.issuer.drain()
    srv.server.should_exit = True
    await asyncio.wait_for(srv.task, 180)


def hemicycle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hemicycle.cli", *args], capture_output=True, text=True, cwd=ROOT)


async def pair_urls(sheet: Any, seats: list[str]) -> tuple[dict[str, str], str]:
    """The pairing URLs of ``seats`` and of the display, read off the printable QR sheet."""
    urls = {s: await sheet.locator(f".qr-card[data-seat={s}] a.qr-url").get_attribute("data-url") for s in seats}
    display = await sheet.locator("#display-url").get_attribute("href")
    return urls, display


async def show(console: Any, ballot: str) -> None:
    await console.click(f"#ballot-{ballot}")
    await expect(console.locator("#ballot")).to_be_visible()


async def open_ballot(console: Any, ballot: str, countdown: str | None = "") -> None:
    """Open ``ballot`` from the console; ``countdown`` "" = no limit, None = the agenda's."""
    await show(console, ballot)
    if countdown is not None:
        await console.fill("#countdown-input", countdown)
    await console.click("#open-ballot")
    await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "open")


async def confirm(console: Any, ok: bool = True, reason: str | None = None) -> str:
    """Answer the confirmation dialog; returns the text it showed."""
    await expect(console.locator("#confirm")).to_be_visible()
    text = await console.locator("#confirm-text").inner_text()
    if reason is not None:
        await console.fill("#confirm-reason", reason)
    await console.click("#confirm-ok" if ok else "#confirm-cancel")
    await expect(console.locator("#confirm")).to_be_hidden()
    return text


async def close_ballot(console: Any) -> str:
    """Close the ballot shown; returns the confirmation's text."""
    await expect(console.locator("#close-ballot")).to_be_enabled()
    await console.click("#close-ballot")
    text = await confirm(console)
    try:
        await expect(console.locator("#ballot-status")).to_have_attribute("data-status", "closed")
    except AssertionError:
        await console.screenshot(path=str(ROOT / "test-artifacts" / "close-failed.png"))
        raise
    return text


async def vote(tablet: Any, choice: str) -> None:
    await tablet.click(f"[data-choice={choice}]")
    await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")


async def submit(tablet: Any) -> None:
    await tablet.click("#submit-paper")
    await expect(tablet.locator("#vote-state")).to_have_attribute("data-state", "recorded")


def row(tablet: Any, rid: str) -> Any:
    return tablet.locator(f".markrow[data-row='{rid}']")


async def download(console: Any, button: str, into: Path) -> Path:
    """Click a console download button; the file as the browser saved it."""
    await expect(console.locator(button)).to_be_visible()
    async with console.expect_download() as info:
        await console.click(button)
    dl = await info.value
    path = into / dl.suggested_filename
    await dl.save_as(path)
    assert path.read_bytes().startswith(b"%PDF"), path
    return path


async def printed_pdf(console: Any, button: str) -> tuple[str, str]:
    """Click a console print button: the PDF is fetched from the server and handed to the
    browser's print in a frame of its own (not a print of the page). Returns the content
    type fetched and the file the frame holds."""
    async with console.expect_response(lambda r: "/api/" in r.url and r.url.endswith(".pdf")) as info:
        await console.click(button)
    response = await info.value
    frame = console.locator("#pdf-print-frame")
    await expect(frame).to_have_count(1)
    src = await frame.get_attribute("src") or ""
    assert src.startswith("blob:")
    await console.wait_for_function("(src) => (window.__printed || []).includes(src)", arg=src)
    return response.headers["content-type"], await frame.get_attribute("data-file") or ""


def qr_payload(pdf: Path, work: Path) -> str:
    """The QR code of a certificate (on its first or second page, after a long table), as a
    phone would read it."""
    prefix = work / f"{pdf.stem}-page"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "2", str(pdf), str(prefix)], check=True)
    for png in sorted(work.glob(f"{pdf.stem}-page*.png")):
        qr = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
        if qr.returncode == 0:
            return qr.stdout.strip()
    raise AssertionError(f"the QR code of {pdf.name} did not decode")


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
