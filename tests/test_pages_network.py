"""On the room network: pairing codes carry the public URL, the room CA is offered to tablets
with its fingerprint, and when the codes would point at this machine only, the console and
the pairing sheet say so loudly."""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from playwright.async_api import async_playwright, expect

from server.edge import tls
from server.edge.auth import set_password
from server.edge.network import check_public_url, is_loopback_url
from tests.pages_support import Errors, console_login, launch, needs_chromium, serve, shot
from tests.support import make_agenda

PASSWORD = "correct horse battery"


def test_public_urls_are_checked_and_loopback_is_recognised() -> None:
    assert check_public_url("https://room.example:8443/") == "https://room.example:8443"
    for bad in ("room.example", "ftp://room.example", "https://room.example/console", "https://x?y=1"):
        try:
            check_public_url(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    assert (
        is_loopback_url("http://127.0.0.1:8000")
        and is_loopback_url("http://localhost")
        and is_loopback_url("http://[::1]:8000")
    )
    assert not is_loopback_url("https://room.example") and not is_loopback_url("http://192.0.2.10:8000")


@needs_chromium
async def test_a_loopback_address_is_called_out_on_the_console_and_the_sheet(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, make_agenda(2, language="en"))
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            context = await browser.new_context()
            page = errors.watch(await context.new_page(), "console")
            await console_login(page, srv.http, PASSWORD)
            await expect(page.locator("#loopback-warning")).to_contain_text("127.0.0.1")
            sheet = errors.watch(await context.new_page(), "pairing")
            await sheet.goto(f"{srv.http}/console/pairing")
            await expect(sheet.locator("#network-warning [role=alert]")).to_contain_text(
                "no tablet on the room network"
            )
            await shot(sheet, "pairing-loopback-warning-en")
            await browser.close()
    finally:
        await srv.stop()
    assert errors.seen == []


@needs_chromium
async def test_codes_carry_the_public_url_and_the_sheet_offers_the_room_ca(tmp_path: Path) -> None:
    files = tls.init(tmp_path / "tls", ["room.example"], ["192.0.2.10"])
    set_password(tmp_path, PASSWORD)
    srv = await serve(
        tmp_path, make_agenda(2, language="en"), public_url="https://room.example:8443", tls_ca=files.ca_cert
    )
    errors = Errors()
    try:
        async with httpx.AsyncClient() as http:
            ca = await http.get(f"{srv.http}/ca.pem")
        assert ca.status_code == 200 and x509.load_pem_x509_certificate(ca.content) == x509.load_pem_x509_certificate(
            files.ca_cert.read_bytes()
        )
        fingerprint = x509.load_pem_x509_certificate(ca.content).fingerprint(hashes.SHA256()).hex().upper()
        async with async_playwright() as pw:
            browser = await launch(pw)
            context = await browser.new_context()
            page = errors.watch(await context.new_page(), "console")
            await console_login(page, srv.http, PASSWORD)
            await expect(page.locator("#conn [data-status=online]")).to_be_visible()
            assert await page.locator("#loopback-warning").count() == 0  # the codes name the public URL
            sheet = errors.watch(await context.new_page(), "pairing")
            await sheet.goto(f"{srv.http}/console/pairing")
            first = sheet.locator(".qr-card[data-seat] .qr-url").first
            await expect(first).to_have_attribute(
                "href",
                "https://room.example:8443/seat#pair="
                + "".join((await first.get_attribute("href") or "").split("#pair=")[1:]),
            )
            await expect(sheet.locator("#ca-url")).to_have_text("https://room.example:8443/ca.pem")
            shown = (await sheet.locator(".ca-card .qr-fingerprint").inner_text()).replace(" ", "")
            assert fingerprint in shown
            assert await sheet.locator("#network-warning [role=alert]").count() == 0
            await shot(sheet, "pairing-public-url-ca-en")
            await browser.close()
    finally:
        await srv.stop()
    assert errors.seen == []
