"""One folder per sitting: an agenda file pointed at another sitting's record is refused with a
clear message and changes nothing (`--resume` continues the stored sitting instead); a
credentials file of another sitting is never overwritten; `hemicycle sittings` lists them."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support import agenda_data, free_socket, write_agenda_toml

ROOT = Path(__file__).resolve().parents[1]
HEMICYCLE = [sys.executable, "-m", "hemicycle.cli"]


def agenda_file(tmp: Path, name: str, title: str, n: int = 3) -> Path:
    data = agenda_data(n, language="en")
    data["meeting"]["title"] = title
    return write_agenda_toml(tmp / f"{name}.toml", data)


def serve(folder: Path, agenda: Path, *extra: str, creds: Path | None = None) -> tuple[subprocess.Popen[str], int]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    args = ["--agenda", str(agenda), "--db", str(folder / "hemicycle.db"), "--data-dir", str(folder)]
    args += ["--credentials", str(creds or folder / "credentials.json"), "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(
        [*HEMICYCLE, "serve", *args, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    return proc, port


def run_briefly(started: tuple[subprocess.Popen[str], int]) -> str:
    """Until the server answers /health, then a clean stop; returns what it printed."""
    proc, port = started
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            break
        except OSError:
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out


def entries(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM events ORDER BY seq")]


def test_another_agenda_on_a_sittings_record_is_refused_and_resume_continues_it(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "budget"
    budget = agenda_file(tmp_path, "budget", "Budget sitting")
    other = agenda_file(tmp_path, "bylaws", "Bylaws sitting", n=4)
    assert "Budget sitting" in run_briefly(serve(folder, budget))
    before = entries(folder / "hemicycle.db")
    creds = (folder / "credentials.json").read_text()

    refused, _ = serve(folder, other)
    _, err = refused.communicate(timeout=30)
    assert refused.returncode == 2 and "Traceback" not in err
    assert "holds another sitting: 'Budget sitting'" in err and "--resume" in err and "own data folder" in err
    assert "meeting title: 'Budget sitting' in the record, 'Bylaws sitting' in the file" in err
    assert "members only in the file: m04" in err
    assert entries(folder / "hemicycle.db") == before  # nothing changed
    assert (folder / "credentials.json").read_text() == creds

    resumed = run_briefly(serve(folder, other, "--resume"))
    assert "Budget sitting" in resumed and "Bylaws" not in resumed  # the record's own agenda
    assert entries(folder / "hemicycle.db")[: len(before)] == before


def test_a_credentials_file_of_another_sitting_is_never_overwritten(tmp_path: Path) -> None:
    shared = tmp_path / "credentials.json"
    run_briefly(serve(tmp_path / "a", agenda_file(tmp_path, "a", "Sitting A"), creds=shared))
    tokens = shared.read_text()
    refused, _ = serve(tmp_path / "b", agenda_file(tmp_path, "b", "Sitting B"), creds=shared)
    _, err = refused.communicate(timeout=30)
    assert refused.returncode == 2 and "holds the tokens of another sitting" in err and "Traceback" not in err
    assert shared.read_text() == tokens


def test_sittings_lists_each_folder_with_its_state(tmp_path: Path) -> None:
    root = tmp_path / "var"
    run_briefly(serve(root / "budget", agenda_file(tmp_path, "budget", "Budget sitting")))
    run_briefly(serve(root / "bylaws", agenda_file(tmp_path, "bylaws", "Bylaws sitting")))
    (root / "empty").mkdir()
    done = subprocess.run([*HEMICYCLE, "sittings", "--data-root", str(root)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(root / "budget"), str(root / "bylaws")]
    assert "Budget sitting (2026-11-25, en)\topen\t0/3 ballots closed" in lines[0]
    none = subprocess.run(
        [*HEMICYCLE, "sittings", "--data-root", str(root / "empty")], capture_output=True, text=True, cwd=ROOT
    )
    assert none.returncode == 1 and "no sittings" in none.stderr
