"""The signed verification payload printed as a QR code on each certificate.

Text form: ``"HC1:" + BASE32(body || signature)`` with RFC 4648 upper-case base32 and
no ``=`` padding; ``body`` is the canonical JSON of the fields (sorted keys, no spaces,
UTF-8), ``signature`` the 64-byte Ed25519 signature of ``b"HC1:" + body``. Base32 keeps
every character inside the QR alphanumeric set, which packs 5.5 bits per character
instead of 8: the symbol is smaller, so each module prints larger and scans more reliably
from a photocopy. The prefix names the version, so the format can change without a
verifier misreading old paper.

The fields say *which* entry of the log this certificate stands for and *what* it
counted; a verifier recomputes the tally from the log and compares. See docs/certificates.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .keys import load_public_key

PREFIX = "HC1:"
VERSION = 1
SIGNATURE_BYTES = 64
TURNOUT_KEYS = ("seated", "present", "voted", "not_voted", "invalid")
#: the longest QR text with the counts written out: QR version 18 at level M, the largest
#: symbol the certificate prints with full-size (0.62 mm) modules
MAX_TEXT = 800


class InvalidPayload(ValueError):
    """Not a Hemicycle payload, damaged, or not signed by the given key."""


def _canonical(fields: Any) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign_payload(private_key: Ed25519PrivateKey, fields: Mapping[str, Any]) -> str:
    """Sign ``fields`` (JSON-able, string keys) and return the QR text."""
    body = _canonical(fields)
    signature = private_key.sign(PREFIX.encode() + body)
    return PREFIX + base64.b32encode(body + signature).decode().rstrip("=")


def verify_payload(public_key: Ed25519PublicKey | bytes | str, text: str) -> dict[str, Any]:
    """Return the signed fields; raise InvalidPayload unless ``public_key`` signed exactly this text."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise InvalidPayload(f"not a Hemicycle certificate code (expected it to start with {PREFIX})")
    data = text[len(PREFIX) :]
    try:
        raw = base64.b32decode(data + "=" * (-len(data) % 8))
    except (binascii.Error, ValueError):
        raise InvalidPayload("the code is damaged (not valid base32)") from None
    if len(raw) <= SIGNATURE_BYTES:
        raise InvalidPayload("the code is too short to carry a signature")
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    try:
        load_public_key(public_key).verify(signature, PREFIX.encode() + body)
    except InvalidSignature:
        raise InvalidPayload("signature does not match: the certificate was altered or signed by another key") from None
    try:
        fields = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        raise InvalidPayload("signed body is not JSON") from None
    if not isinstance(fields, dict) or fields.get("v") != VERSION:
        raise InvalidPayload(f"unsupported payload version {fields.get('v') if isinstance(fields, dict) else None!r}")
    return fields


def meeting_digest(meeting_id: str, meeting_title: str) -> str:
    """First 128 bits of SHA-256 over ``id + "\\n" + title``: names the meeting without its text."""
    return hashlib.sha256(f"{meeting_id}\n{meeting_title}".encode()).hexdigest()[:32]


def certificate_fields(
    *,
    meeting_id: str,
    meeting_title: str,
    ballot_id: str,
    run: int,
    result: Mapping[str, Any],
    seq: int,
    entry_digest: str,
    void_seq: int | None = None,
) -> dict[str, Any]:
    """The fields a certificate's QR code signs, in compact form.

    ``x`` (only on a voided run's re-issued certificate) is the log position of the
    ``ballot.voided`` entry: the mark 作废 / VOID is signed with the counts.

    ``o`` lists every option once (first-seen order); each line in ``c`` is
    ``[line_id, n_o0, n_o1, ...]`` with ``null`` where that line has no such option.
    """
    lines = list(result.get("lines") or [])
    options: list[str] = []
    for line in lines:
        for option in line.get("counts", {}):
            if option not in options:
                options.append(option)
    counts = [
        [str(line.get("id", i))] + [line.get("counts", {}).get(o) for o in options] for i, line in enumerate(lines)
    ]
    fields: dict[str, Any] = {
        "v": VERSION,
        "m": meeting_digest(meeting_id, meeting_title),
        "b": ballot_id,
        "r": run,
        "t": [int(result.get(k, 0) or 0) for k in TURNOUT_KEYS],
        "o": options,
        "c": counts,
        "s": seq,
        "h": entry_digest,
    }
    if isinstance(result.get("verdict"), str):
        fields["d"] = result["verdict"]
    if void_seq is not None:
        fields["x"] = void_seq
    if text_length(fields) > MAX_TEXT:
        # 500 candidates would not fit any QR symbol: sign the counts' digest instead; the
        # sheet prints every count, and a verifier recomputes the digest from the record
        del fields["c"]
        fields["cd"] = hashlib.sha256(_canonical(counts)).hexdigest()
    return fields


def text_length(fields: Mapping[str, Any]) -> int:
    """How many characters the QR text of ``fields`` has (prefix, base32 of body and signature)."""
    return len(PREFIX) + -(-(len(_canonical(fields)) + SIGNATURE_BYTES) * 8 // 5)


def counts_from_fields(fields: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Expand ``o``/``c`` back to ``{line_id: {option: count}}`` (as in the result form)."""
    options = list(fields.get("o", []))
    out: dict[str, dict[str, int]] = {}
    for row in fields.get("c", []):
        out[row[0]] = {o: n for o, n in zip(options, row[1:]) if n is not None}
    return out


def turnout_from_fields(fields: Mapping[str, Any]) -> dict[str, int]:
    return dict(zip(TURNOUT_KEYS, fields.get("t", [])))
