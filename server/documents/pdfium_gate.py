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

    Page sizes are read (cheap, no page load) so a document with an absurd or zero-sized
    page is refused at upload rather than failing later on a tablet.
    """
    with _opened(data) as doc:
        count = len(doc)
        if count > max_pages:
            raise DocumentError("too_many_pages", f"the PDF has {count} pages; the limit is {max_pages}")
        for i in range(count):
            w, h = doc.get_page_size(i)
            if not (0 < w < 1e5 and 0 < h < 1e5):
                raise DocumentError("malformed_pdf", f"page {i + 1} has an invalid size ({w} x {h} pt)")
        revision = pdfium.raw.FPDF_GetSecurityHandlerRevision(doc)
        return PdfFacts(page_count=count, encrypted=revision != -1)


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


def rasterize(path: str, index: int, width: int, max_pixels: int) -> Image.Image:
    """Render one page of a stored PDF to an RGB image ``width`` pixels wide.

    The height follows the page's aspect ratio; if that would exceed ``max_pixels`` (a
    pathological strip-shaped page), the scale is reduced so memory stays bounded. The
    returned image owns its pixels: the PDFium bitmap is closed before returning.
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
            bitmap = page.render(scale=scale, rotation=0)
            try:
                # to_pil() may share the bitmap's buffer; convert() copies it out.
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
