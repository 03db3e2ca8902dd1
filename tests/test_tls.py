"""TLS on the room network: `hemicycle tls init` makes a room CA and a server certificate; the
whole protocol and the pages run over HTTPS/WSS for a client that trusts that CA, and a
client that does not is refused."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from cryptography import x509
from playwright.async_api import async_playwright, expect

from server.edge import tls
from server.edge.auth import set_password
from tests.pages_support import CHROMIUM, LAUNCH_ARGS, Errors, needs_chromium, shot
from tests.support import make_agenda, serving

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"


def test_tls_init_makes_a_ca_once_and_a_certificate_for_the_names_and_addresses(tmp_path: Path) -> None:
    out = tmp_path / "tls"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hemicycle.cli",
            "tls",
            "init",
            "--name",
            "room.example",
            "--ip",
            "192.0.2.10",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "room.example, 192.0.2.10" in done.stdout and "install it on every tablet" in done.stdout
    files = tls.TlsFiles(out)
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {
        "ca.pem": "0o644",
        "ca-key.pem": "0o600",
        "server.pem": "0o644",
        "server-key.pem": "0o600",
    }
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # a second run renews the server certificate under the SAME CA: tablets keep trusting it
    again = tls.init(out, ["room.example", "room"], [])
    assert x509.load_pem_x509_certificate(again.ca_cert.read_bytes()) == ca
    renewed = x509.load_pem_x509_certificates(again.cert.read_bytes())[0]
    renewed.verify_directly_issued_by(ca)
    assert renewed.serial_number != server.serial_number


@pytest.mark.parametrize(
    ("names", "ips", "why"),
    [([], [], "at least one"), ([], ["999.1.1.1"], "not an IP"), (["bad name"], [], "not a host name")],
)
def test_tls_init_refuses_what_no_tablet_could_use_and_writes_nothing(
    tmp_path: Path, names: list[str], ips: list[str], why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        tls.init(tmp_path / "tls", names, ips)
    assert not (tmp_path / "tls").exists()


async def test_the_protocol_runs_over_wss_for_a_client_trusting_the_room_ca(tmp_path: Path) -> None:
    files = tls.init(tmp_path / "tls", ["localhost"], ["127.0.0.1"])
    async with serving(tmp_path, make_agenda(3), tls=(files.cert, files.key)) as srv:
        trusted = ssl.create_default_context(cafile=str(files.ca_cert))
        async with httpx.AsyncClient(verify=trusted) as http:
            health = await http.get(f"{srv.http}/health")
        assert health.status_code == 200 and health.headers["strict-transport-security"] == "max-age=31536000"
        async with websockets.connect(srv.url, ssl=trusted) as seat:
            await seat.send(json.dumps({"type": "hello", "token": srv.seat_token("S001")}))
            assert json.loads(await seat.recv())["type"] == "welcome"
            await seat.send(json.dumps({"type": "check_in", "id": "c1"}))
            while (reply := json.loads(await seat.recv())).get("re") != "c1":
                pass
            assert reply["type"] == "ok"
        untrusted = ssl.create_default_context()  # the system's CAs only: the room CA is not among them
        with pytest.raises(ssl.SSLCertVerificationError):
            async with websockets.connect(srv.url, ssl=untrusted):
                pass


@needs_chromium
async def test_the_console_runs_over_https_in_a_browser_that_trusts_the_room_ca(tmp_path: Path) -> None:
    files = tls.init(tmp_path / "tls", ["localhost"], ["127.0.0.1"])
    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    # what an IT person does once per tablet: trust the room CA (here in Chromium's NSS store)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "hemicycle-room", "-i", str(files.ca_cert)],
        check=True,
    )
    set_password(tmp_path, PASSWORD)
    errors = Errors()
    async with serving(tmp_path, make_agenda(3), tls=(files.cert, files.key)) as srv, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, env={**os.environ, "HOME": str(home)}
        )
        try:
            page = errors.watch(await browser.new_page(), "console")
            await page.goto(f"{srv.http}/console")
            await page.wait_for_url("**/console/login")
            await page.fill("#password", PASSWORD)
            await page.click("#login-button")
            await page.wait_for_url("**/console")
            await expect(page.locator("#conn [data-status=online]")).to_be_visible()  # WSS is up
            cookie = next(c for c in await page.context.cookies() if c["name"] == "hemicycle_console")
            assert cookie["secure"] and cookie["httpOnly"]
            assert await page.evaluate("location.protocol") == "https:"
            await shot(page, "console-over-tls")
        finally:
            await browser.close()
    assert errors.seen == []
