"""Content-addressed store, unguessable ids, and document metadata."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from server.documents import BlobStore, DocumentError, DocumentInfo, mint_document_id


def test_blob_named_by_its_sha256(tmp_path: Path) -> None:
    data = "某市人大常委会会议文件".encode()
    sha = BlobStore(tmp_path).put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = tmp_path / "blobs" / sha[:2] / sha[2:]
    assert path.read_bytes() == data


def test_identical_uploads_share_one_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    assert store.put(b"same bytes") == store.put(b"same bytes")
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert len(files) == 1  # deduplicated, and no temporary file left behind


def test_existing_blob_is_never_rewritten(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"v1")
    before = os.stat(store.path(sha))
    store.put(b"v1")
    assert os.stat(store.path(sha)).st_ino == before.st_ino


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab", "A" * 64, "g" * 64, "a" * 63 + "/"])
def test_malformed_digests_never_reach_the_filesystem(tmp_path: Path, bad: str) -> None:
    with pytest.raises(DocumentError) as info:
        BlobStore(tmp_path).get(bad)
    assert info.value.code == "bad_digest"


def test_missing_blob_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as info:
        BlobStore(tmp_path).get("0" * 64)
    assert info.value.code == "not_found"


def test_document_ids_are_unguessable_and_url_safe() -> None:
    ids = {mint_document_id() for _ in range(1000)}
    assert len(ids) == 1000
    for i in ids:
        assert len(i) >= 22 and all(c.isalnum() or c in "-_" for c in i)


def info(**overrides: object) -> DocumentInfo:
    fields: dict[str, object] = dict(
        id=mint_document_id(),
        title="物业管理条例（草案）",
        item_id="item1",
        audience="members",
        classification="internal",
        page_count=12,
        sha256="a" * 64,
        size=1234,
        mime="application/pdf",
        filename="草案.pdf",
    )
    fields.update(overrides)
    return DocumentInfo(**fields)  # type: ignore[arg-type]


def test_document_info_round_trips_through_the_event_log_shape() -> None:
    doc = info(audience="named", readers=("m01", "m02"))
    data = doc.to_dict()
    assert data["readers"] == ["m01", "m02"] and data["title"] == "物业管理条例（草案）"
    assert DocumentInfo.from_dict(data) == doc


@pytest.mark.parametrize(
    "overrides",
    [
        {"audience": "public"},
        {"classification": "secret"},
        {"audience": "named"},
        {"readers": ("m01",)},
        {"title": "  "},
        {"page_count": 0},
        {"sha256": "xyz"},
    ],
)
def test_document_info_rejects_out_of_domain_values(overrides: dict[str, object]) -> None:
    with pytest.raises(DocumentError) as err:
        info(**overrides)
    assert err.value.code in ("bad_metadata", "bad_digest")


def test_only_confidential_documents_are_watermarked() -> None:
    assert info(classification="confidential").watermarked
    assert not info(classification="internal").watermarked
