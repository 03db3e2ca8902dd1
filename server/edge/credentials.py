"""Tokens for the roles of the protocol, kept in a JSON credentials file (mode 0600).

The file is what `hemicycle serve` names (never prints) and what software clients read —
the keypad bridge, the simulators, ``hemicycle docs add``: one token for the clerk, one for
displays, one for keypad bridges (devices), and one per seat with the seat → member mapping.
A file that already exists for the same seats is reused, so clients survive a restart.
Tablets and display walls never see these tokens: pairing gives each its own
(server/edge/devices.py), which the clerk can revoke.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..core.agenda import Agenda
from ..live.sittings import OtherSitting, identity

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Identity:
    role: str  # clerk | seat | display | device
    member: str | None = None
    seat: str | None = None
    device: str | None = None  # a paired device (server/edge/devices.py): revocable


def new_token() -> str:
    return secrets.token_urlsafe(24)


def build(agenda: Agenda, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    old = existing or {}
    old_seats = old.get("seats", {})
    seats = {}
    for m in agenda.members:
        prev = old_seats.get(m.seat, {})
        token = prev.get("token") if prev.get("member") == m.id else None
        seats[m.seat] = {"member": m.id, "name": m.name, "token": token or new_token()}
    return {
        "version": FORMAT_VERSION,
        "clerk": {"token": old.get("clerk", {}).get("token") or new_token()},
        "display": {"token": old.get("display", {}).get("token") or new_token()},
        "device": {"token": old.get("device", {}).get("token") or new_token()},
        "seats": seats,
    }


def load_or_create(path: Path, agenda: Agenda, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sitting's tokens: the file's, kept for seats that did not change, new ones for the
    rest. A file written for ANOTHER sitting is never overwritten (its tablets and bridge
    would lose their tokens): that raises OtherSitting."""
    existing = None
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except (OSError, ValueError):
            existing = None
    sitting = identity(agenda.source)
    if isinstance(existing, dict) and existing.get("sitting") not in (None, sitting):
        raise OtherSitting(
            f"{path} holds the tokens of another sitting; nothing was changed. Give this sitting its own "
            f"--credentials file (or data folder)."
        )
    creds = build(agenda, existing)
    creds["sitting"] = sitting
    creds.update(extra or {})
    write(path, creds)
    return creds


def write(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON readable by the owner only (mode 0600), atomically.

    Used for every file holding a secret (tokens, the console password hash, pairing
    codes): the temporary file is created 0600 by ``mkstemp`` under a unique name beside
    the target, so the secret is never world-readable for an instant and two writers
    never share a temporary file; fsync before the rename, so a power cut leaves the old
    file or the new one, never an empty one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class PairedDevices(Protocol):
    def identify(self, token: str) -> Identity | None: ...


class Identities:
    """Who each bearer token speaks for: the credentials file's tokens, the clerk tokens
    minted for console sessions (server/edge/auth.py), which live in memory only, and the
    tokens of paired devices (server/edge/devices.py)."""

    def __init__(self, table: dict[str, Identity], devices: PairedDevices | None = None) -> None:
        self._table = table
        self._devices = devices

    def identify(self, token: str | None) -> Identity | None:
        if not token:
            return None
        found = self._table.get(token)
        if found is None and self._devices is not None:
            found = self._devices.identify(token)
        return found

    def add(self, token: str, identity: Identity) -> None:
        self._table[token] = identity

    def remove(self, token: str) -> None:
        self._table.pop(token, None)


def token_table(creds: dict[str, Any]) -> dict[str, Identity]:
    table = {
        creds["clerk"]["token"]: Identity("clerk"),
        creds["display"]["token"]: Identity("display"),
        creds["device"]["token"]: Identity("device"),
    }
    for seat, entry in creds["seats"].items():
        table[entry["token"]] = Identity("seat", entry["member"], seat)
    return table
