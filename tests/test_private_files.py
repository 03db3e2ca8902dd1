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


def test_the_database_its_wal_and_its_folder_are_owner_only_from_creation(tmp_path: Path) -> None:
    from server.core.chain import GENESIS, make_entry
    from server.store.base import Batch
    from server.store.sql import SQLStore

    folder = tmp_path / "sitting"
    store = SQLStore(str(folder / "hemicycle.db"))
    try:
        store.commit(Batch(entries=[make_entry(GENESIS, 1, "sitting.opened", {"at": 1.0})]))
        files = sorted(folder.glob("hemicycle.db*"))
        assert [p.name for p in files] == ["hemicycle.db", "hemicycle.db-shm", "hemicycle.db-wal"]
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert mode(folder) == 0o700
    finally:
        store.close()


def test_an_older_world_readable_database_is_tightened_when_opened(tmp_path: Path) -> None:
    from server.store.sql import SQLStore

    db = tmp_path / "old.db"
    SQLStore(str(db)).close()
    db.chmod(0o644)
    SQLStore(str(db)).close()
    assert mode(db) == 0o600
