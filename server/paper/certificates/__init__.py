"""Printed tally certificates and sitting records, and the signed QR payload that links them to the log.

Rendering is pure: data in (see ``context``), PDF out. Writing certificates when a ballot
closes and the CLI commands that verify them live in the server, not here.
"""

from __future__ import annotations

from .certificate import render_certificate
from .context import BallotRecord, CertificateContext, LogPosition, MeetingInfo, MemberRef, RecordContext, SpeechRecord
from .fonts import FontNotFoundError, register_fonts
from .keys import KeyFileError, load_or_create_key, load_public_key, public_key_fingerprint, public_key_pem
from .payload import (
    InvalidPayload,
    certificate_fields,
    counts_from_fields,
    sign_payload,
    turnout_from_fields,
    verify_payload,
)
from .record import render_sitting_record

__all__ = [
    "BallotRecord",
    "CertificateContext",
    "FontNotFoundError",
    "InvalidPayload",
    "KeyFileError",
    "LogPosition",
    "MeetingInfo",
    "MemberRef",
    "RecordContext",
    "SpeechRecord",
    "certificate_fields",
    "counts_from_fields",
    "load_or_create_key",
    "load_public_key",
    "public_key_fingerprint",
    "public_key_pem",
    "register_fonts",
    "render_certificate",
    "render_sitting_record",
    "sign_payload",
    "turnout_from_fields",
    "verify_payload",
]
