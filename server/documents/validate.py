"""Decide whether uploaded bytes may become a document, before anything is stored.

Checks run cheapest first and stop at the first failure, each with a stable code
(see :mod:`.errors`): size, then type by magic bytes (the file name is a claim, the bytes are
the truth), then a full parse — PDFium must open the PDF without a password and count its
pages; Pillow must decode the image, whose pixel count is checked from the header *before*
decoding so a decompression bomb costs nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DocumentError
from .pdfium_gate import PdfFacts, inspect_outcome, inspect_pdf
from .worker_processes import MiB, Opener, WorkerDied

__all__ = [
    "MIME_JPEG",
    "MIME_PDF",
    "MIME_PNG",
    "DocumentError",
    "Limits",
    "Validated",
    "read_limited",
    "sniff_mime",
    "validate",
]

MIME_PDF = "application/pdf"
MIME_PNG = "image/png"
MIME_JPEG = "image/jpeg"

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024  # the PDF spec tolerates junk before the header; PDFium looks this far
_PDF_TRAILER_WINDOW = 2048  # "%%EOF" must appear this near the end, else the file was cut short


@dataclass(frozen=True)
class Limits:
    """Upload limits; the defaults suit committee papers (long reports, scanned annexes)."""

    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 500
    max_image_pixels: int = 64_000_000  # a 48 MP phone photo fits; below Pillow's own bomb warning
    reject_owner_password_pdfs: bool = False  # see docs/documents.md, "Encrypted PDFs"


@dataclass(frozen=True)
class Validated:
    """What validation learned; enough to build a DocumentInfo without re-reading the file."""

    mime: str
    page_count: int
    size: int


def sniff_mime(data: bytes) -> str | None:
    """The media type the bytes actually are (PDF, PNG, JPEG), or None."""
    if data.startswith(_PNG_MAGIC):
        return MIME_PNG
    if data.startswith(_JPEG_MAGIC):
        return MIME_JPEG
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:
        return MIME_PDF
    return None


def _claims_pdf(filename: str | None, declared_type: str | None) -> bool:
    return bool(
        (filename and filename.lower().endswith(".pdf"))
        or (declared_type and declared_type.split(";")[0].strip().lower() == MIME_PDF)
    )


def validate(
    data: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    limits: Limits = Limits(),
    opener: Opener | None = None,
) -> Validated:
    """Check uploaded bytes; return what they are, or raise DocumentError.

    ``filename`` and ``declared_type`` (the multipart Content-Type) are only used to give a
    better message: a file called ``report.pdf`` that is really a Word document gets
    ``not_a_pdf`` rather than a generic ``unsupported_type``. The stored type is always the
    sniffed one. ``opener``: open PDFs in its limited worker process (the server always passes
    one: a hostile PDF costs a worker, never the server); without it, in this process.
    """
    size = len(data)
    if size == 0:
        raise DocumentError("empty_file", "the file is empty")
    if size > limits.max_bytes:
        raise DocumentError("too_large", f"the file is {_mib(size)}; the limit is {_mib(limits.max_bytes)}")
    mime = sniff_mime(data)
    if mime is None:
        if _claims_pdf(filename, declared_type):
            raise DocumentError(
                "not_a_pdf", f"{filename or 'the file'} is named or declared as a PDF but its contents are not a PDF"
            )
        raise DocumentError("unsupported_type", "only PDF, PNG and JPEG files can be documents")
    if mime != MIME_PDF and _claims_pdf(filename, declared_type):
        raise DocumentError(
            "not_a_pdf", f"{filename or 'the file'} is named or declared as a PDF but is really a {mime} image"
        )
    if mime == MIME_PDF:
        return Validated(mime=mime, page_count=_validate_pdf(data, limits, opener), size=size)
    _validate_image(data, limits)
    return Validated(mime=mime, page_count=1, size=size)


def _validate_pdf(data: bytes, limits: Limits, opener: Opener | None) -> int:
    # PDFium repairs many damaged files by rebuilding the cross-reference table, which would
    # silently show a truncated upload with its last pages missing. A complete PDF ends with
    # "%%EOF" (possibly followed by a little padding), so its absence means the file was cut.
    if b"%%EOF" not in data[-_PDF_TRAILER_WINDOW:]:
        raise DocumentError(
            "malformed_pdf",
            "the PDF is incomplete (it does not end with %%EOF); the upload or the export was probably interrupted",
        )
    facts = inspect_pdf(data, max_pages=limits.max_pages) if opener is None else _open_in_worker(data, limits, opener)
    if facts.encrypted and limits.reject_owner_password_pdfs:
        raise DocumentError("encrypted_pdf", "the PDF is encrypted with usage restrictions; upload an unprotected copy")
    return facts.page_count


def _open_in_worker(data: bytes, limits: Limits, opener: Opener) -> PdfFacts:
    try:
        facts, refusal = opener.run(inspect_outcome, data, limits.max_pages)
    except WorkerDied as died:
        budget = opener.limits
        what = (
            f"more than {budget.open_seconds:g} s of processor time"
            if died.reason == "time"
            else f"more than {budget.memory_bytes // MiB} MiB of memory"
            if died.reason == "memory"
            else "a crash of the PDF engine"
        )
        raise DocumentError(
            "too_complex", f"opening the PDF took {what}; it may be damaged or built to exhaust the server"
        ) from None
    if refusal is not None:
        raise DocumentError(*refusal)
    assert facts is not None
    return facts


def _validate_image(data: bytes, limits: Limits) -> None:
    try:
        with Image.open(io.BytesIO(data)) as im:
            # Image.open reads only the header: the pixel count is known before any decoding.
            w, h = im.size
            if w * h > limits.max_image_pixels:
                raise DocumentError(
                    "image_too_large", f"the image is {w} x {h} pixels; the limit is {limits.max_image_pixels:,} pixels"
                )
            if w == 0 or h == 0:
                raise DocumentError("malformed_image", "the image has no pixels")
            im.load()  # a full decode catches truncated files now, not on a tablet later
            ImageOps.exif_transpose(im)  # a corrupt EXIF block would otherwise fail at render time
    except DocumentError:
        raise
    except Image.DecompressionBombError:
        raise DocumentError("image_too_large", "the image is too large to decode safely") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DocumentError("malformed_image", f"the image is damaged or incomplete ({exc})") from None


def read_limited(stream: BinaryIO, limits: Limits = Limits(), chunk: int = 1 << 20) -> bytes:
    """Read an upload stream, refusing as soon as it exceeds ``limits.max_bytes``.

    For the HTTP layer: a 2 GB upload is refused after max_bytes + 1 bytes, not buffered.
    """
    parts: list[bytes] = []
    total = 0
    while True:
        block = stream.read(chunk)
        if not block:
            return b"".join(parts)
        total += len(block)
        if total > limits.max_bytes:
            raise DocumentError("too_large", f"the file is over the limit of {_mib(limits.max_bytes)}")
        parts.append(block)


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"
