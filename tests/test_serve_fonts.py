"""A server without a Chinese font: the English sample serves (certificates and watermarks in
the Latin face reportlab ships), the Chinese sample stops at once with one clear line naming
the package to install, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets

from tests.support import free_socket

ROOT = Path(__file__).resolve().parents[1]


def serve(tmp: Path, agenda: str, fonts: Path) -> tuple[subprocess.Popen[str], int]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items() if k != "HEMICYCLE_CJK_FONT"}
    env["HEMICYCLE_FONT_DIRS"] = str(fonts)  # the font search sees an empty folder: no CJK font here
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hemicycle.cli",
            "serve",
            "--agenda",
            str(ROOT / "agendas" / agenda),
            "--db",
            str(tmp / "s.db"),
            "--data-dir",
            str(tmp),
            "--credentials",
            str(tmp / "creds.json"),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return proc, port


def test_the_chinese_sample_stops_with_one_line_naming_the_font_package(tmp_path: Path) -> None:
    (tmp_path / "fonts").mkdir()
    proc, _ = serve(tmp_path, "standing-committee.zh.toml", tmp_path / "fonts")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "Cannot serve" in line]
    assert len(lines) == 1 and "fonts-wqy-zenhei" in lines[0], err


@pytest.mark.skipif(shutil.which("pdftotext") is None and os.environ.get("CI") != "true", reason="needs poppler-utils")
async def test_the_english_sample_serves_and_prints_its_certificates_in_a_latin_face(tmp_path: Path) -> None:
    (tmp_path / "fonts").mkdir()
    proc, port = serve(tmp_path, "council.en.toml", tmp_path / "fonts")
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                time.sleep(0.05)
        clerk = json.loads((tmp_path / "creds.json").read_text())["clerk"]["token"]
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send(json.dumps({"type": "hello", "token": clerk}))
            await ws.recv()
            for n, (name, args) in enumerate(
                [("open_ballot", {"ballot": "minutes-adopt"}), ("close_ballot", {"ballot": "minutes-adopt"})]
            ):
                await ws.send(json.dumps({"type": "command", "id": f"c{n}", "name": name, "args": args}))
                while (msg := json.loads(await ws.recv())).get("re") != f"c{n}":
                    pass
                assert msg["type"] == "ok", msg
        certificates = tmp_path / "certificates"
        for _ in range(600):
            if any(certificates.glob("*.pdf")):
                break
            await asyncio.sleep(0.05)
        (pdf,) = certificates.glob("*.pdf")
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "That the minutes of 24 November 2026 be adopted" in " ".join(text.split())
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "Vera" in fonts
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
