"""The signed QR payload and the signing key file: what a verifier and an operator notice."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.paper.certificates import (
    InvalidPayload,
    KeyFileError,
    certificate_fields,
    counts_from_fields,
    load_or_create_key,
    public_key_pem,
    sign_payload,
    turnout_from_fields,
    verify_payload,
)
from server.paper.certificates.payload import PREFIX

RESULT = {
    "kind": "appointment",
    "seated": 41,
    "present": 38,
    "voted": 37,
    "not_voted": 1,
    "invalid": 0,
    "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0},
    "lines": [
        {"id": "n1", "label": "王建国", "counts": {"for": 30, "against": 4, "abstain": 3}, "verdict": "passed"},
        {"id": "n2", "label": "李秀英", "counts": {"for": 12, "against": 20, "abstain": 5}, "verdict": "failed"},
        {"id": "n3", "label": "张志强", "counts": {"for": 25, "write_in": 2}, "verdict": "passed"},
    ],
    "verdict": None,
}


def fields() -> dict:
    return certificate_fields(
        meeting_id="2026-23",
        meeting_title="常委会第二十三次会议",
        ballot_id="appt1",
        run=2,
        result=RESULT,
        seq=4711,
        entry_digest="0f" * 32,
    )


def tamper(text: str, edit) -> str:
    """Re-encode the payload with an edited body but the original signature."""
    data = text[len(PREFIX) :]
    raw = base64.b32decode(data + "=" * (-len(data) % 8))
    body, sig = raw[:-64], raw[-64:]
    new_body = json.dumps(edit(json.loads(body)), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return PREFIX + base64.b32encode(new_body + sig).decode().rstrip("=")


def test_round_trip_returns_the_counts_of_every_line() -> None:
    key = Ed25519PrivateKey.generate()
    text = sign_payload(key, fields())
    got = verify_payload(key.public_key(), text)
    assert counts_from_fields(got) == {line["id"]: line["counts"] for line in RESULT["lines"]}
    assert turnout_from_fields(got) == {"seated": 41, "present": 38, "voted": 37, "not_voted": 1, "invalid": 0}
    assert (got["b"], got["r"], got["s"], got["h"]) == ("appt1", 2, 4711, "0f" * 32)


def test_text_uses_only_qr_alphanumeric_characters() -> None:
    text = sign_payload(Ed25519PrivateKey.generate(), fields())
    assert text.startswith("HC1:")
    assert re.fullmatch(r"[0-9A-Z $%*+\-./:]+", text)


def test_changing_one_count_breaks_the_signature() -> None:
    key = Ed25519PrivateKey.generate()
    text = sign_payload(key, fields())

    def plus_one(f: dict) -> dict:
        f["c"][0][1] += 1
        return f

    forged = tamper(text, plus_one)
    assert forged != text
    with pytest.raises(InvalidPayload, match="signature"):
        verify_payload(key.public_key(), forged)


def test_another_servers_key_is_rejected() -> None:
    text = sign_payload(Ed25519PrivateKey.generate(), fields())
    with pytest.raises(InvalidPayload):
        verify_payload(Ed25519PrivateKey.generate().public_key(), text)


@pytest.mark.parametrize("text", ["", "hello", "HC1:", "HC1:!!!!", "HC1:" + "A" * 40, "HC2:ABCD"])
def test_garbage_is_refused_with_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidPayload):
        verify_payload(Ed25519PrivateKey.generate().public_key(), text)


def test_verifies_with_the_pem_text_printed_on_the_record() -> None:
    key = Ed25519PrivateKey.generate()
    text = sign_payload(key, fields())
    assert verify_payload(public_key_pem(key), text)["b"] == "appt1"


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_or_create_key(path)
    text = sign_payload(first, {"v": 1})
    assert verify_payload(second.public_key(), text) == {"v": 1}


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError):
        load_or_create_key(path)


def test_a_result_too_long_for_a_qr_symbol_signs_a_digest_of_its_counts() -> None:
    """500 candidates' counts would not fit any QR symbol (rendering the certificate failed):
    past the largest full-size symbol the payload signs their digest, which the record's
    recount must reproduce."""
    from server.paper.certificates.payload import MAX_TEXT, text_length
    from server.paper.verification import check_payload

    lines = [{"id": f"c{i:03d}" + "x" * 60, "counts": {"for": i, "against": 1, "abstain": 0}} for i in range(500)]
    big = {**RESULT, "kind": "election", "lines": lines, "verdict": "elected"}
    signed = certificate_fields(
        meeting_id="m", meeting_title="t", ballot_id="e", run=1, result=big, seq=9, entry_digest="0f" * 32
    )
    assert "c" not in signed and len(signed["cd"]) == 64 and text_length(signed) <= MAX_TEXT
    assert "c" in fields() and "cd" not in fields()  # a short result keeps its counts in the code

    class Entry:
        hash = "0f" * 32

    from server.core import events as e

    closed = e.BallotClosed("e", 1, 5.0, big, "")
    entries, events = [Entry()] * 9, [closed] * 9
    assert check_payload(signed, entries, events) is None  # type: ignore[arg-type]
    recounted = {**big, "lines": [*lines[:-1], {**lines[-1], "counts": {"for": 0, "against": 1, "abstain": 0}}]}
    events[-1] = e.BallotClosed("e", 1, 5.0, recounted, "")
    assert "counts digest" in (check_payload(signed, entries, events) or "")  # type: ignore[arg-type]
