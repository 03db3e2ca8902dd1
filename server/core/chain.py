"""The hash chain over the log: each entry's hash covers its predecessor's.

``hash(n) = sha256(hash(n-1) || "<seq>\\n<name>\\n<body>")`` with 32 zero bytes before
the first entry. Editing, deleting, reordering or inserting any entry breaks every hash
from that position on, so `hemicycle verify` can name the first bad position.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

Encoder = Callable[[Any], str]
"""Writes a value as JSON text for the log. The hash covers the text as written, and every
reader parses it back, so any encoder whose text parses to the same value will do; the
sitting passes a faster one (server/live/fast_json.py, checked by tests/test_chain_audit.py).
Digests over values (``urn_digest``) always use ``canonical`` itself."""


def canonical(data: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def entry_hash(prev: str, seq: int, name: str, body: str) -> str:
    h = hashlib.sha256(bytes.fromhex(prev))
    h.update(f"{seq}\n{name}\n{body}".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class LogEntry:
    seq: int
    name: str
    body: str  # canonical JSON of the event's data
    prev: str
    hash: str


def make_entry(prev: str, seq: int, name: str, data: Any, encode: Encoder = canonical) -> LogEntry:
    body = encode(data)
    return LogEntry(seq, name, body, prev, entry_hash(prev, seq, name, body))


def first_bad_position(entries: Iterable[LogEntry]) -> tuple[int, str] | None:
    """Walk the chain; return (position, reason) of the first entry that does not fit."""
    prev, expected_seq = GENESIS, 1
    for entry in entries:
        if entry.seq != expected_seq:
            return expected_seq, f"expected entry {expected_seq}, found entry {entry.seq}"
        if entry.prev != prev:
            return entry.seq, "does not follow the entry before it"
        if entry_hash(entry.prev, entry.seq, entry.name, entry.body) != entry.hash:
            return entry.seq, "its content does not match its hash"
        prev, expected_seq = entry.hash, expected_seq + 1
    return None
