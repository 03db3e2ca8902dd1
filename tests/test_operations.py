"""Operating the server as a service: `hemicycle --version`, and a stop by the service manager
(SIGTERM) or by Ctrl-C is a clean shutdown with status 0 and nothing lost."""

from __future__ import annotations

import json
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


def test_the_banner_points_tablets_at_the_room_network_and_warns_about_loopback(tmp_path: Path) -> None:
    import argparse

    from server.assemble import Assembly, ServerConfig
    from server.cli import banner
    from tests.support import make_agenda

    def printed(host: str, public_url: str | None) -> str:
        config = ServerConfig(
            agenda=make_agenda(2, language="en"),
            db_url=str(tmp_path / "s.db"),
            credentials_path=tmp_path / "creds.json",
            data_dir=tmp_path,
            public_url=public_url,
        )
        assembly = Assembly(config)
        try:
            args = argparse.Namespace(
                host=host, port=8443, credentials=str(tmp_path / "creds.json"), db=str(tmp_path / "s.db"), tls_cert=None
            )
            return banner(assembly, args)
        finally:
            assembly.store.close()

    local = printed("127.0.0.1", None)
    assert "!! Tablets on the room network cannot reach http://127.0.0.1:8443" in local
    public = printed("0.0.0.0", "https://room.example:8443")
    assert "console      https://room.example:8443/console" in public and "!!" not in public
    assert "room network http://" in public  # this machine's own addresses, for the IT person
    creds = json.loads((tmp_path / "creds.json").read_text())
    secrets = [creds["clerk"]["token"], creds["device"]["token"], *(s["token"] for s in creds["seats"].values())]
    assert not [s for s in secrets if s in public or s in local]  # where the secrets are, never what
