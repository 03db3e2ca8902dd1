"""Operating the server as a service: `hemicycle --version`, and a stop by the service manager
(SIGTERM) or by Ctrl-C is a clean shutdown with status 0 and nothing lost."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support import agenda_data, free_socket, write_agenda_toml
from tests.test_crash import HEMICYCLE, start

ROOT = Path(__file__).resolve().parents[1]


def test_version() -> None:
    done = subprocess.run([*HEMICYCLE, "--version"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.startswith("hemicycle ") and done.stdout.split()[1][0].isdigit()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_shuts_down_cleanly_with_status_zero(tmp_path: Path, stop: signal.Signals) -> None:
    agenda = write_agenda_toml(tmp_path / "agenda.toml", agenda_data(3, language="en"))
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    proc = start(tmp_path, agenda, port)
    proc.send_signal(stop)
    assert proc.wait(timeout=30) == 0
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
    with sqlite3.connect(tmp_path / "crash.db") as db:  # the record is whole: the sitting opened and was keyed
        names = [n for (n,) in db.execute("SELECT name FROM events ORDER BY seq")]
    assert names[:2] == ["sitting.opened", "sitting.key"]
