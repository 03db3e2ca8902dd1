"""The Makefile's promises: `make clean` removes the environment but never the record in var/;
removing data is a separate target that asks first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _copy_makefile(tmp: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp / "Makefile")
    (tmp / ".venv").mkdir()
    (tmp / ".venv" / "marker").write_text("env")
    (tmp / "var" / "certificates").mkdir(parents=True)
    (tmp / "var" / "hemicycle.db").write_text("the legal record")
    return tmp


def test_make_clean_keeps_the_record(tmp_path: Path) -> None:
    work = _copy_makefile(tmp_path)
    subprocess.run(["make", "-s", "clean"], cwd=work, check=True, capture_output=True)
    assert not (work / ".venv").exists()
    assert (work / "var" / "hemicycle.db").read_text() == "the legal record"


def test_make_clean_data_asks_and_keeps_the_record_unless_told_yes(tmp_path: Path) -> None:
    work = _copy_makefile(tmp_path)
    refused = subprocess.run(["make", "-s", "clean-data"], cwd=work, input="no\n", capture_output=True, text=True)
    assert refused.returncode != 0 and "kept var/" in refused.stdout
    assert (work / "var" / "hemicycle.db").exists()
    subprocess.run(["make", "-s", "clean-data"], cwd=work, input="yes\n", check=True, capture_output=True, text=True)
    assert not (work / "var").exists()
