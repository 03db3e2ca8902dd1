"""Files that hold secrets (seat tokens, the console password hash) are readable by their
owner only, from the first byte, and a rewrite leaves no stray copy beside them."""

from __future__ import annotations

import stat
from pathlib import Path

from server.edge import auth, credentials
from tests.support import make_agenda


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_credentials_are_owner_only_and_rewritten_in_place(tmp_path: Path) -> None:
    path = tmp_path / "var" / "credentials.json"
    first = credentials.load_or_create(path, make_agenda(3))
    assert mode(path) == 0o600
    credentials.write(path, {**first, "note": "rewritten"})
    assert mode(path) == 0o600
    assert credentials.load_or_create(path, make_agenda(3))["clerk"] == first["clerk"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["credentials.json"]


def test_console_password_file_is_owner_only_and_holds_no_password(tmp_path: Path) -> None:
    auth.set_password(tmp_path, "correct horse battery")
    files = list(tmp_path.iterdir())
    assert [p.name for p in files] == ["console-auth.json"]
    assert mode(files[0]) == 0o600
    assert "correct horse battery" not in files[0].read_text()
