"""A clean install: the wheel (not the source tree, not an editable install) installed into a
new virtual environment runs a sitting from any directory: pages, shared library,
catalogues, migrations and certificate texts all come from package data."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support import free_socket

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_serves_a_sitting_from_another_directory(tmp_path: Path) -> None:
    dist, venv, room = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    # built from a copy: pip's build step writes build/ and *.egg-info beside the sources
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "mutants", "build", "*.egg-info", "test-artifacts", ".*cache"
        ),
    )
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], check=True)
    (wheel,) = dist.glob("hemicycle-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    shutil.copytree(ROOT / "agendas", room / "agendas")  # an operator's own agenda files, far from the source
    hemicycle = str(venv / "bin" / "hemicycle")
    where = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import server, terminal_client; print(server.__file__, terminal_client.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=room,
        check=True,
    ).stdout
    assert str(ROOT) not in where and str(venv) in where  # the installed copy, not the source tree
    assert subprocess.run([hemicycle, "--version"], capture_output=True, text=True, check=True).stdout.startswith(
        "hemicycle 0."
    )

    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen(
        [
            hemicycle,
            "serve",
            "--agenda",
            "agendas/council.en.toml",
            "--db",
            "sitting/hemicycle.db",
            "--data-dir",
            "sitting",
            "--credentials",
            "sitting/credentials.json",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=room,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                time.sleep(0.05)
        for path, wanted in [
            ("/seat", b"<html"),
            ("/display", b"<html"),
            ("/console/login", b"<html"),
            ("/static/lib/protocol.js", b"export class Connection"),
            ("/static/seat/seat.js", b"import"),
            ("/static/web/console/main.js", b"import"),
            ("/i18n/en.json", b"{"),
        ]:
            with urllib.request.urlopen(f"{base}{path}", timeout=5) as answer:
                assert answer.status == 200 and wanted in answer.read(), path
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err
    verified = subprocess.run(
        [hemicycle, "verify", "--db", "sitting/hemicycle.db"], cwd=room, capture_output=True, text=True
    )
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stderr
