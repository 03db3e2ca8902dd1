"""Document processing for paperless sittings: validate, store, render, watermark.

Pipeline (docs/documents.md): an upload is validated (:func:`validate`) and stored by content
digest (:class:`BlobStore`) by :func:`ingest`, which returns the :class:`DocumentInfo` the
event log records. Tablets receive pages as images: :class:`Renderer` for clean, cached pages;
:class:`Watermarker` for confidential ones, stamped per reader. Nothing here does HTTP or
touches the event log; everything is synchronous and safe to call from a thread pool.
"""

from .blobs import AUDIENCES, CLASSIFICATIONS, BlobStore, DocumentInfo, check_digest, mint_document_id
from .errors import CODES, DocumentError
from .ingest import ingest
from .render import CACHE_FOREVER, CACHE_NEVER, PageImage, Renderer, RenderSettings, etag_for
from .validate import Limits, Validated, read_limited, sniff_mime, validate
from .watermark import Reader, StampOutcome, Watermarker, WatermarkSpec, find_cjk_font, stamp_page

__all__ = [
    "AUDIENCES",
    "CACHE_FOREVER",
    "CACHE_NEVER",
    "CLASSIFICATIONS",
    "CODES",
    "BlobStore",
    "DocumentError",
    "DocumentInfo",
    "Limits",
    "PageImage",
    "Reader",
    "RenderSettings",
    "Renderer",
    "StampOutcome",
    "Validated",
    "WatermarkSpec",
    "Watermarker",
    "check_digest",
    "etag_for",
    "find_cjk_font",
    "ingest",
    "mint_document_id",
    "read_limited",
    "sniff_mime",
    "stamp_page",
    "validate",
]
