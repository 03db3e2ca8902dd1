"""The key that keeps an open secret ballot's choices unreadable on disk, and its escrow.

While a secret ballot run is open, each choice is written to the urn encrypted (AES-256-GCM,
a random 96-bit nonce per row, the ballot run as associated data) and padded to a fixed size
per ballot (``server.core.kinds.urn_block``),
so neither the bytes nor the length of a row say what was chosen. Whatever a commit wrote
during the ballot — database pages, the SQLite WAL, PostgreSQL's WAL beside the voter's
transaction id, a backup, a replica — holds only ciphertext. At the close the store writes
the choices once, in the clear and shuffled, in one transaction, and then destroys the key:
from then on the ciphertext that any log kept beside a voter is noise.

The key lives in memory and in one file of the escrow folder (``--escrow-dir``, 0700; the
file 0600), written and fsynced before the first row it protects commits, so a crash loses
no acknowledged vote: on restart the store reads it back and the ballot goes on. The escrow
is kept apart from the database on purpose — whoever holds the database and the WAL but not
the escrow learns nothing of an open ballot; deployments put it on another disk or a tmpfs.
Destroying the key overwrites the file before unlinking it (best effort: a journaling file
system or an SSD may keep old blocks, which is one more reason to keep it on a tmpfs).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "enc1:"  # prefix of an encrypted choice; a clear one is canonical JSON and never starts so
BLOCK = (
    512  # plaintexts are padded to a multiple of this: every choice up to 508 bytes is one block (docs/architecture.md)
)
_NONCE = 12


class MissingKey(Exception):
    """An encrypted urn row whose ballot run has no key in the escrow: it cannot be read."""


def _aad(ballot: str, run: int) -> bytes:
    return f"{ballot}\0{run}".encode()


def encrypt(cipher: AESGCM, ballot: str, run: int, choice: str, block: int = BLOCK) -> str:
    """``choice`` (canonical JSON) as a fixed-size encrypted text for the urn's choice column:
    padded to ``block`` bytes (a multiple of it, should a choice not fit)."""
    raw = choice.encode()
    size = -(-(len(raw) + 4) // block) * block
    padded = len(raw).to_bytes(4, "big") + raw + bytes(size - len(raw) - 4)
    nonce = os.urandom(_NONCE)
    return SEALED + base64.b64encode(nonce + cipher.encrypt(nonce, padded, _aad(ballot, run))).decode()


def decrypt(cipher: AESGCM, ballot: str, run: int, text: str) -> str:
    blob = base64.b64decode(text[len(SEALED) :])
    padded = cipher.decrypt(blob[:_NONCE], blob[_NONCE:], _aad(ballot, run))
    size = int.from_bytes(padded[:4], "big")
    return padded[4 : 4 + size].decode()


def is_sealed(text: str) -> bool:
    return text.startswith(SEALED)


class Escrow:
    """Per ballot run keys: in memory, and one file each in ``folder`` (None: memory only)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._keys: dict[tuple[str, int], AESGCM] = {}
        self._blocks: dict[tuple[str, int], int] = {}

    def _path(self, ballot: str, run: int) -> Path:
        assert self.folder is not None
        name = hashlib.sha256(_aad(ballot, run)).hexdigest()[:32]
        return self.folder / f"urn-{name}.key"

    def key(self, ballot: str, run: int, block: int = BLOCK) -> AESGCM:
        """The run's cipher; its key is made, and escrowed durably, when the run opens (or at
        its first choice), with ``block``, the size every choice of the run is padded to."""
        found = self.find(ballot, run)
        if found is not None:
            return found
        key = AESGCM.generate_key(bit_length=256)
        if self.folder is not None:
            data = {"ballot": ballot, "run": run, "key": key.hex(), "block": block}
            _write_private(self._path(ballot, run), json.dumps(data))
        self._blocks[(ballot, run)] = block
        cipher = self._keys[(ballot, run)] = AESGCM(key)
        return cipher

    def block(self, ballot: str, run: int) -> int:
        """The padded size of the run's choices (after ``key`` or ``find``)."""
        return self._blocks.get((ballot, run), BLOCK)

    def find(self, ballot: str, run: int) -> AESGCM | None:
        """The run's cipher from memory or the escrow file, or None if there is no key (never made, or destroyed)."""
        cipher = self._keys.get((ballot, run))
        if cipher is None and self.folder is not None:
            try:
                data = json.loads(self._path(ballot, run).read_text())
            except FileNotFoundError:
                return None
            cipher = self._keys[(ballot, run)] = AESGCM(bytes.fromhex(data["key"]))
            self._blocks[(ballot, run)] = int(data.get("block", BLOCK))
        return cipher

    def escrowed(self) -> list[tuple[str, int]]:
        """The ballot runs whose key is in the escrow folder."""
        if self.folder is None or not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob("urn-*.key"):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads(path.read_text())
                found.append((str(data["ballot"]), int(data["run"])))
        return found

    def destroy(self, ballot: str, run: int) -> None:
        """Forget the key: drop it from memory, overwrite its file and unlink it."""
        self._keys.pop((ballot, run), None)
        self._blocks.pop((ballot, run), None)
        if self.folder is None:
            return
        path = self._path(ballot, run)
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            with path.open("r+b") as f:
                f.write(bytes(size))
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
            _fsync_dir(path.parent)


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` 0600 in a 0700 folder, durably (file and folder fsynced) before returning."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
