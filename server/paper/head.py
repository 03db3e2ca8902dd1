"""The log's head, anchored outside the database: a cut tail is found.

A hash chain shows that nothing inside the log was changed, but not that nothing was cut
from its end: a log without its last entries is still a valid chain. So after every
certificate and the sitting record the server writes the latest head — ``SEQ:HASH`` of the
last entry, and the same signed as certificates' checkpoints are — to ``log-head.txt`` in the
data folder, shows it on the console, and prints it on the record (whose PDF carries it
signed, as a certificate carries its payload). Whoever copies it down — on the printed
record, a certificate, a photo of the console — can later run
``hemicycle verify --head SEQ:HASH`` (or ``--head-from`` the file, a certificate or the
record): the log must still reach that entry with that hash. `verify` also names every
certificate PDF in the data folder the log does not know.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..core import events as e
from ..core.audit import Problem
from ..core.chain import LogEntry
from ..documents.blobs import atomic_write
from . import certificates as cert
from .certificates.payload import PREFIX, SIGNATURE_BYTES, VERSION

HEAD_FILE = "log-head.txt"
_HEAD = re.compile(r"^\s*(\d+):([0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    source: str = "--head"

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def sign_head(key: Ed25519PrivateKey, seq: int, digest: str) -> str:
    """The head as a signed payload (HC1:…, the certificates' format): kind ``head``."""
    return cert.sign_payload(key, {"v": VERSION, "k": "head", "s": seq, "h": digest})


def write_head_file(folder: Path, key: Ed25519PrivateKey, seq: int, digest: str) -> Path:
    """Replace ``folder/log-head.txt`` (0600) atomically with the head and its signed form."""
    path = folder / HEAD_FILE
    text = (
        f"{seq}:{digest}\n{sign_head(key, seq, digest)}\n"
        "# the log's last entry when this was written: hemicycle verify --head-from this file\n"
    )
    atomic_write(path, text.encode())  # 0600 from its first byte (mkstemp), fsynced with its folder
    return path


def parse_head(text: str, source: str = "--head") -> Head:
    match = _HEAD.match(text)
    if not match:
        raise ValueError(f"{source}: a head is SEQ:HASH, the entry number and its 64-hex hash, e.g. 42:9f86d0…")
    return Head(int(match.group(1)), match.group(2), source)


def head_from(source: str, public_key_pem: str | None) -> Head:
    """The head a file vouches for: a head file, a certificate PDF (the entry it certifies) or
    the sitting record PDF. A signed head is checked against the key when one is known."""
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"{source} is not a file")
    if path.read_bytes()[:5] == b"%PDF-":
        from .verification import payload_from

        fields = _fields(payload_from(source), public_key_pem, source)
        return Head(int(fields["s"]), str(fields["h"]), source)
    lines = [line for line in path.read_text(errors="replace").splitlines() if line and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{source} holds no head")
    head = parse_head(lines[0], source)
    if len(lines) > 1 and lines[1].startswith(PREFIX):
        fields = _fields(lines[1], public_key_pem, source)
        if (fields.get("s"), fields.get("h")) != (head.seq, head.hash):
            raise ValueError(f"{source}: the signed head differs from the head written above it")
    return head


def _fields(payload: str, public_key_pem: str | None, source: str) -> dict:
    if public_key_pem is None:
        import base64

        data = payload.strip()[len(PREFIX) :]
        raw = base64.b32decode(data + "=" * (-len(data) % 8))
        return json.loads(raw[:-SIGNATURE_BYTES].decode())
    try:
        return cert.verify_payload(public_key_pem, payload)
    except cert.InvalidPayload as exc:
        raise ValueError(f"{source}: {exc}") from None


def check_head(entries: list[LogEntry], head: Head) -> Problem | None:
    """Does the log still reach ``head``? None if so, else what is missing or different."""
    last = len(entries)
    if head.seq > last:
        missing = f"entry {head.seq}" if head.seq == last + 1 else f"entries {last + 1} to {head.seq}"
        return Problem(
            0,
            f"the log ends at entry {last}, but the head {head.seq}:{head.hash[:12]}… ({head.source}) shows it reached "
            f"entry {head.seq}: {missing} are missing — cut from its end",
        )
    if head.seq < 1 or entries[head.seq - 1].hash != head.hash:
        return Problem(
            head.seq,
            f"entry {head.seq} has hash {entries[head.seq - 1].hash[:12]}… but the head ({head.source}) says "
            f"{head.hash[:12]}…: the log was rewritten at or before it",
        )
    return None


def unknown_certificates(folder: Path, entries: list[LogEntry]) -> list[Problem]:
    """Certificate PDFs in ``folder/certificates`` whose bytes no ``certificate.issued`` entry names."""
    known = set()
    for entry in entries:
        if entry.name == e.CertificateIssued.NAME:
            known.add(json.loads(entry.body).get("file_sha256"))
    problems = []
    for pdf in sorted((folder / "certificates").glob("*.pdf")):
        if hashlib.sha256(pdf.read_bytes()).hexdigest() in known:
            continue
        what = ""
        try:
            fields = _fields(_subject(pdf), None, str(pdf))
            what = f" (ballot {fields.get('b')} run {fields.get('r')}, log entry {fields.get('s')})"
        except (ValueError, KeyError, TypeError):
            pass
        problems.append(Problem(0, f"certificate {pdf.name}{what} is on disk but not in the log"))
    return problems


def _subject(pdf: Path) -> str:
    from .verification import payload_from

    return payload_from(str(pdf))
