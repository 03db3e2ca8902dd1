"""Serialised access to PDFium, the only way this package touches it.

PDFium is not thread-safe: the pypdfium2 documentation forbids calling it from two threads at
once, *even on different documents* (doing so can crash or corrupt the process). The HTTP
layer calls us from a thread pool, so every PDFium call made by validation and rendering goes
through :data:`PDFIUM_LOCK`, and every PDFium object (document, page, bitmap) is closed inside
the lock, so no finalizer can run PDFium code later from another thread.

Only rasterisation is inside the lock; image encoding (Pillow releases the GIL) and disk I/O
happen outside it, so pool threads still overlap usefully. The server renders pages in
worker processes (server/documents/render_pool.py), each with its own PDFium and its own lock, so
renders on several cores do not serialise here and never hold the server's GIL.

The lock is the one deliberate module-level object in this package: PDFium's global state is
per process, so the guard for it must be per process too. A lock owned by, say, a Renderer
instance would let two instances (or the validator) call PDFium concurrently.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import pypdfium2 as pdfium
from PIL import Image

from .errors import DocumentError

PDFIUM_LOCK: Final = threading.Lock()
MIN_SIDE_PT: Final = 1.0  # a page narrower than a point is no page (a 0 x 0 MediaBox)
MAX_SIDE_PT: Final = 1e5  # ~35 m: past this a size is a mistake or an attack


@dataclass(frozen=True)
class PdfFacts:
    """What validation needs to know about a PDF, gathered in one locked visit."""

    page_count: int
    encrypted: bool  # opened without a password but has a security handler (owner-only)


@contextmanager
def _opened(source: bytes | str) -> Iterator[pdfium.PdfDocument]:
    """A PDFium document held with the lock, closed inside it; load errors become ours."""
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(source)
        except pdfium.PdfiumError as exc:
            raise _load_error(exc) from None
        try:
            yield doc
        finally:
            doc.close()


def inspect_pdf(data: bytes, *, max_pages: int) -> PdfFacts:
    """Open a PDF from memory and check it is usable; raise DocumentError if not.

    Every page is loaded, which parses its content (form XObjects included): a file built to
    exhaust memory or time does it here, so the server calls this only in a limited worker
    process (:func:`inspect_outcome`, server/documents/worker_processes.py). A page whose size
    is absurd, or whose own MediaBox is empty (PDFium would silently show a Letter page), is
    refused at upload rather than failing later on a tablet.
    """
    with _opened(data) as doc:
        count = len(doc)
        if count > max_pages:
            raise DocumentError("too_many_pages", f"the PDF has {count} pages; the limit is {max_pages}")
        for i in range(count):
            page = doc[i]
            try:
                _check_size(i, page)
            finally:
                page.close()
        revision = pdfium.raw.FPDF_GetSecurityHandlerRevision(doc)
        return PdfFacts(page_count=count, encrypted=revision != -1)


def _check_size(index: int, page: pdfium.PdfPage) -> None:
    w, h = page.get_size()
    own = page.get_mediabox(fallback_ok=False)  # None: inherited from the page tree, or absent
    if own is not None:
        x0, y0, x1, y1 = own
        ow, oh = abs(x1 - x0), abs(y1 - y0)
        if not (ow >= MIN_SIDE_PT and oh >= MIN_SIDE_PT):
            raise DocumentError("malformed_pdf", f"page {index + 1} has an invalid size ({ow:g} x {oh:g} pt)")
    if not (MIN_SIDE_PT <= w < MAX_SIDE_PT and MIN_SIDE_PT <= h < MAX_SIDE_PT):
        raise DocumentError("malformed_pdf", f"page {index + 1} has an invalid size ({w:g} x {h:g} pt)")


def inspect_outcome(data: bytes, max_pages: int) -> tuple[PdfFacts | None, tuple[str, str] | None]:
    """Worker-process entry point of :func:`inspect_pdf`: the facts, or the refusal as
    ``(code, message)`` (a DocumentError does not survive pickling)."""
    try:
        return inspect_pdf(data, max_pages=max_pages), None
    except DocumentError as exc:
        return None, (exc.code, exc.message)
    except MemoryError:
        return None, ("too_complex", "opening the PDF needs more memory than a worker may use")


def _load_error(exc: pdfium.PdfiumError) -> DocumentError:
    """Translate PDFium's load error codes into ours."""
    code = exc.err_code
    if code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY):
        return DocumentError("encrypted_pdf", "the PDF is password-protected; upload an unprotected copy")
    return DocumentError(
        "malformed_pdf", "the PDF is damaged or incomplete (PDFium could not read it); export or download it again"
    )


def page_count(path: str) -> int:
    """Number of pages of a stored PDF (used when rendering to check the page index)."""
    with _opened(path) as doc:
        return len(doc)


def rasterize(path: str, index: int, width: int, max_pixels: int, max_side: int) -> Image.Image:
    """Render one page of a stored PDF to an RGB image ``width`` pixels wide.

    The height follows the page's aspect ratio; if that would exceed ``max_pixels`` or make a
    side longer than ``max_side`` (a strip-shaped page: 3 x 14,400 pt at 1600 px wide would be
    277,000 px tall, past what WebP can hold), the scale is reduced so the whole page fits.
    The returned image owns its pixels: the PDFium bitmap is closed before returning.
    """
    with _opened(path) as doc:
        if not 0 <= index < len(doc):
            raise DocumentError(
                "page_out_of_range", f"page {index} does not exist; the document has {len(doc)} pages (numbered from 0)"
            )
        page = doc[index]
        try:
            pw, ph = page.get_size()
            # A hair under width/pw: pdfium sizes the bitmap with ceil(), and float error
            # must not turn 1600 into 1601.
            scale = (width - 0.01) / pw
            if (width * ph * scale) > max_pixels:
                scale = (max_pixels / (pw * ph)) ** 0.5
            scale = min(scale, (max_side - 0.01) / ph)
            bitmap = page.render(scale=scale, rotation=0)
            try:
                # to_pil() may share the bitmap's buffer; convert() copies it out.
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
