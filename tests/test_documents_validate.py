"""Upload validation: good files are accepted, bad ones refused with a stable code and
nothing stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from server.documents import BlobStore, DocumentError, Limits, ingest, read_limited, validate
from tests.fixtures.documents import make_encrypted_pdf, make_image, make_owner_only_pdf, make_pdf, make_png_bomb


@pytest.fixture(scope="module")
def pdf3() -> bytes:
    return make_pdf(3)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def refused(
    tmp_path: Path, data: bytes, code: str, *, filename: str = "upload.pdf", limits: Limits = Limits()
) -> DocumentError:
    """Ingest must refuse with ``code`` and leave the data directory empty."""
    store = BlobStore(tmp_path)
    with pytest.raises(DocumentError) as info:
        ingest(store, data, title="议程文件", item_id="item1", filename=filename, limits=limits)
    assert info.value.code == code, info.value
    assert info.value.message  # a human-readable reason
    assert stored_files(tmp_path) == []
    return info.value


def test_pdf_accepted_with_page_count(pdf3: bytes) -> None:
    checked = validate(pdf3, filename="条例草案.pdf")
    assert (checked.mime, checked.page_count, checked.size) == ("application/pdf", 3, len(pdf3))


@pytest.mark.parametrize("fmt, mime", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_images_accepted_as_one_page(fmt: str, mime: str) -> None:
    checked = validate(make_image(fmt), filename=f"photo.{fmt.lower()}")
    assert (checked.mime, checked.page_count) == (mime, 1)


def test_ingest_stores_and_describes(tmp_path: Path, pdf3: bytes) -> None:
    info = ingest(
        BlobStore(tmp_path),
        pdf3,
        title="物业管理条例（草案）",
        item_id="item1",
        classification="confidential",
        filename="draft.pdf",
    )
    assert info.page_count == 3 and info.mime == "application/pdf" and info.watermarked
    assert BlobStore(tmp_path).get(info.sha256) == pdf3


def test_truncated_pdf_refused(tmp_path: Path, pdf3: bytes) -> None:
    refused(tmp_path, pdf3[: len(pdf3) // 2], "malformed_pdf")


def test_pdf_missing_only_its_tail_refused(tmp_path: Path, pdf3: bytes) -> None:
    # Cut just before %%EOF: PDFium might repair this, but the upload is still incomplete.
    refused(tmp_path, pdf3[: pdf3.rindex(b"%%EOF")], "malformed_pdf")


def test_pdf_header_with_garbage_refused(tmp_path: Path) -> None:
    refused(tmp_path, b"%PDF-1.7\n" + b"garbage " * 500 + b"\n%%EOF\n", "malformed_pdf")


def test_word_document_named_pdf_refused(tmp_path: Path) -> None:
    docx_like = b"PK\x03\x04" + b"\x00" * 200  # a .docx is a zip archive
    err = refused(tmp_path, docx_like, "not_a_pdf", filename="报告.pdf")
    assert "报告.pdf" in err.message


def test_image_named_pdf_refused(tmp_path: Path) -> None:
    refused(tmp_path, make_image("PNG"), "not_a_pdf", filename="scan.pdf")


def test_unknown_type_refused(tmp_path: Path) -> None:
    refused(tmp_path, b"GIF89a" + b"\x00" * 64, "unsupported_type", filename="anim.gif")


def test_empty_file_refused(tmp_path: Path) -> None:
    refused(tmp_path, b"", "empty_file")


def test_password_protected_pdf_refused(tmp_path: Path) -> None:
    refused(tmp_path, make_encrypted_pdf(), "encrypted_pdf")


def test_owner_password_only_pdf_policy(tmp_path: Path) -> None:
    data = make_owner_only_pdf()
    assert validate(data).page_count == 2  # readable without a password: accepted by default
    refused(tmp_path, data, "encrypted_pdf", limits=Limits(reject_owner_password_pdfs=True))


def test_too_many_pages_refused(tmp_path: Path, pdf3: bytes) -> None:
    err = refused(tmp_path, pdf3, "too_many_pages", limits=Limits(max_pages=2))
    assert "3" in err.message and "2" in err.message


def test_oversized_file_refused(tmp_path: Path, pdf3: bytes) -> None:
    refused(tmp_path, pdf3, "too_large", limits=Limits(max_bytes=len(pdf3) - 1))


def test_image_decompression_bomb_refused(tmp_path: Path) -> None:
    bomb = make_png_bomb()
    assert len(bomb) < 1000
    refused(tmp_path, bomb, "image_too_large", filename="bomb.png")


def test_image_over_configured_pixels_refused(tmp_path: Path) -> None:
    refused(
        tmp_path,
        make_image("PNG", (300, 300)),
        "image_too_large",
        filename="a.png",
        limits=Limits(max_image_pixels=300 * 299),
    )


def test_truncated_image_refused(tmp_path: Path) -> None:
    jpeg = make_image("JPEG", (800, 600))
    refused(tmp_path, jpeg[: len(jpeg) // 2], "malformed_image", filename="photo.jpg")


def test_bad_metadata_refused_before_storing(tmp_path: Path, pdf3: bytes) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(DocumentError) as info:
        ingest(store, pdf3, title="x", item_id="item1", classification="top-secret")
    assert info.value.code == "bad_metadata"
    assert stored_files(tmp_path) == []


def test_read_limited_stops_at_the_limit() -> None:
    assert read_limited(io.BytesIO(b"x" * 100), Limits(max_bytes=100)) == b"x" * 100
    with pytest.raises(DocumentError) as info:
        read_limited(io.BytesIO(b"x" * 101), Limits(max_bytes=100), chunk=7)
    assert info.value.code == "too_large"
