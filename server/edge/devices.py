"""Paired devices: every tablet and display wall gets a token of its own, which the clerk can
list and revoke.

Why: pairing used to hand a tablet its seat's permanent token, so a lost tablet (or a code
someone else redeemed first) kept working for good and printing new codes revoked nothing.
Now a one-time code is exchanged for a token minted for that device alone (server/edge/auth.py
``Pairing``, ``POST /api/pair``); the console lists devices and revokes any of them, which also
closes its live connections.

The model:

* ``credentials.json`` (0600) keeps what the operator and software need: the seat → member
  mapping with a token per seat, and the clerk, display and device tokens — the bootstrap of
  the keypad bridge, the simulators and ``hemicycle docs add``, which read that file. It is
  never printed and its tokens never travel in a URL.
* ``devices.json`` (0600) keeps the paired devices: id, role (``seat`` or ``display``), seat
  and member, when and from which address they paired, and the SHA-256 of their token — never
  the token. A token is 192 random bits, so a plain digest cannot be reversed by guessing; a
  copy of the file lets nobody in. Revoking removes the entry.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import credentials
from .credentials import Identity

DEVICES_FILE = "devices.json"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeviceRegistry:
    """The paired devices of one data folder."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self.devices: dict[str, dict[str, Any]] = {}
        self._by_digest: dict[str, str] = {}
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        for device_id, entry in (data.get("devices") or {}).items() if isinstance(data, dict) else ():
            if isinstance(entry, dict) and isinstance(entry.get("token_sha256"), str):
                self.devices[device_id] = entry
                self._by_digest[entry["token_sha256"]] = device_id

    @classmethod
    def load(cls, data_dir: Path) -> DeviceRegistry:
        return cls(Path(data_dir) / DEVICES_FILE)

    def pair(self, role: str, seat: str | None, member: str | None, address: str, agent: str = "") -> tuple[str, str]:
        """A new device: returns (device id, token). The token is shown once, to the device."""
        device_id = secrets.token_urlsafe(9)
        token = credentials.new_token()
        entry: dict[str, Any] = {
            "role": role,
            "seat": seat,
            "member": member,
            "paired_at": self.clock(),
            "address": address,
            "agent": agent[:200],
            "token_sha256": _digest(token),
        }
        self.devices[device_id] = entry
        self._by_digest[entry["token_sha256"]] = device_id
        self._save()
        return device_id, token

    def identify(self, token: str) -> Identity | None:
        device_id = self._by_digest.get(_digest(token))
        if device_id is None:
            return None
        entry = self.devices[device_id]
        return Identity(entry["role"], entry.get("member"), entry.get("seat"), device_id)

    def revoke(self, device_id: str) -> bool:
        entry = self.devices.pop(device_id, None)
        if entry is None:
            return False
        self._by_digest.pop(entry["token_sha256"], None)
        self._save()
        return True

    def listing(self) -> list[dict[str, Any]]:
        """For the console: every device, newest first, without its token digest."""
        out = [
            {"id": device_id, **{k: v for k, v in entry.items() if k != "token_sha256"}}
            for device_id, entry in self.devices.items()
        ]
        return sorted(out, key=lambda d: -float(d.get("paired_at") or 0))

    def _save(self) -> None:
        credentials.write(self.path, {"version": 1, "devices": self.devices})
