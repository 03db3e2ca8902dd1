"""Server-side page rendering: every document reaches tablets as page images.

Why images and not the PDF: tablets then need no PDF engine, every page looks the same on
every device, confidential pages can be watermarked per reader, and the original file never
leaves the server.

Format: **lossless WebP**. Measured on an A4 page of dense Chinese text at 1600 px: PNG
1.9 MB, lossy WebP q85 0.69 MB, lossless WebP 0.56 MB, JPEG q85 1.2 MB with ringing around
every stroke. Lossless WebP is the smallest *and* exact, so small characters stay crisp and a
cached page can be decoded and watermarked without a second round of lossy artefacts. Every
browser a tablet runs (Chrome/WebView, Safari ≥ 14, Firefox) decodes it.

Caching: a rendering is a pure function of (blob digest, page, width, RENDER_VERSION), so it
is cached on disk under that key forever and served with a strong ETag derived from the key
alone — the HTTP layer can answer ``If-None-Match`` without touching the disk.

Threading: PDFium calls go through :mod:`.pdfium_gate` (one process-wide lock); decoding
images, WebP encoding and file I/O run outside it, so a thread pool still overlaps work.
The server renders in worker processes (server/documents/render_pool.py) through
:func:`render_into_cache`, so a rendering never holds the server's GIL; a Renderer in the
server process then only reads the cache.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps

from .blobs import BlobStore, atomic_write, check_digest
from .errors import DocumentError
from .pdfium_gate import rasterize
from .validate import MIME_PDF, sniff_mime

#: Bump whenever the pixels or encoding for the same key would change: old cache files are
#: then ignored and ETags change, so no client keeps a stale page under a "strong" tag.
RENDER_VERSION: Final = 1
MEDIA_TYPE: Final = "image/webp"
#: Clean renderings never change for a given URL; "private" keeps shared proxies from storing
#: internal documents.
CACHE_FOREVER: Final = "private, max-age=31536000, immutable"
#: Watermarked renderings are per reader and per moment; browsers must not keep them on disk.
CACHE_NEVER: Final = "private, no-store"


@dataclass(frozen=True)
class RenderSettings:
    """Rendering knobs. Widths are a fixed set so clients cannot fill the cache with
    arbitrary sizes; the tablet picks the one closest to its screen."""

    default_width: int = 1600
    widths: tuple[int, ...] = (800, 1200, 1600, 2048)
    max_pixels: int = 16_000_000  # bounds memory for strip-shaped pages (a 1600 x 10000 page)
    max_side: int = 16_383  # the longest side WebP can encode: longer strips are scaled down
    webp_effort: int = 4  # WebP "method" 0-6: speed/size trade-off, not quality
    #: Effort for watermarked pages, encoded anew for every fetch and never cached: method 0
    #: encodes a dense page ~45 % faster than 4, ~13 % larger, still lossless (docs/benchmarks.md)
    stamp_webp_effort: int = 0

    def __post_init__(self) -> None:
        if self.default_width not in self.widths:
            raise ValueError("default_width must be one of widths")


@dataclass(frozen=True)
class PageImage:
    """One encoded page, ready to be sent: body, media type, ETag and Cache-Control."""

    data: bytes
    etag: str
    media_type: str = MEDIA_TYPE
    cache_control: str = CACHE_FOREVER


def etag_for(sha256: str, page: int, width: int) -> str:
    """Strong ETag of a clean rendering, computed from its key without any I/O."""
    key = f"{check_digest(sha256)}:{page}:{width}:webp-lossless:v{RENDER_VERSION}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:40] + '"'


class Renderer:
    """Renders and caches page images of stored documents; safe to call from many threads."""

    def __init__(self, store: BlobStore, settings: RenderSettings = RenderSettings()) -> None:
        self.store = store
        self.settings = settings
        self._page_locks: dict[Path, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock_for(self, path: Path) -> threading.Lock:
        """One lock per page image: readers asking for the same uncached page wait for one
        rendering instead of each rendering it (200 tablets open page 1 together)."""
        with self._locks_guard:
            return self._page_locks.setdefault(path, threading.Lock())

    def width(self, requested: int | None) -> int:
        """The width to render: the default if None, else one of the configured widths."""
        if requested is None:
            return self.settings.default_width
        if requested not in self.settings.widths:
            allowed = ", ".join(str(w) for w in self.settings.widths)
            raise DocumentError("bad_width", f"width {requested} is not offered; use one of {allowed}")
        return requested

    def etag(self, sha256: str, page: int, width: int | None = None) -> str:
        """ETag for ``If-None-Match`` checks; validates the width like :meth:`render_page`."""
        return etag_for(sha256, page, self.width(width))

    def cache_path(self, sha256: str, page: int, width: int) -> Path:
        return self.store.page_cache_dir(sha256) / f"p{page}-w{width}-v{RENDER_VERSION}.webp"

    def render_page(self, sha256: str, page: int, width: int | None = None) -> PageImage:
        """Page ``page`` (from 0) of the blob, as a cached lossless WebP ``width`` px wide.

        A cache hit returns the very bytes of the first rendering. Raises ``not_found``,
        ``page_out_of_range`` or ``bad_width``.
        """
        w = self.width(width)
        if page < 0:
            raise DocumentError("page_out_of_range", "page numbers start at 0")
        path = self.cache_path(sha256, page, w)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            with self._lock_for(path):
                try:
                    data = path.read_bytes()  # rendered while this thread waited
                except FileNotFoundError:
                    data = self._encode(self._rasterize(sha256, page, w))
                    atomic_write(path, data)
        return PageImage(data=data, etag=etag_for(sha256, page, w))

    def raster(self, sha256: str, page: int, width: int | None = None) -> Image.Image:
        """The page's pixels (RGB), from the cache when possible — the input for watermarking.

        Decoding the cached lossless WebP yields exactly the rendered pixels and takes no
        PDFium lock, so watermarking a page for 40 readers renders it only once.
        """
        rendered = self.render_page(sha256, page, width)
        with Image.open(io.BytesIO(rendered.data)) as im:
            return im.convert("RGB")

    def encode(self, image: Image.Image, effort: int | None = None) -> bytes:
        """Encode pixels the way every page image is encoded (lossless WebP); ``effort`` is
        the WebP method (default: ``settings.webp_effort``)."""
        return self._encode(image, effort)

    def _encode(self, image: Image.Image, effort: int | None = None) -> bytes:
        # For lossless WebP, quality is compression effort too, not fidelity: kept at 80, since
        # at 75 or less our text pages came out half again as large or more (docs/benchmarks.md).
        buf = io.BytesIO()
        image.save(
            buf, "WEBP", lossless=True, quality=80, method=self.settings.webp_effort if effort is None else effort
        )
        return buf.getvalue()

    def _rasterize(self, sha256: str, page: int, width: int) -> Image.Image:
        path = self.store.require(sha256)
        with path.open("rb") as fh:
            mime = sniff_mime(fh.read(1024))
        if mime == MIME_PDF:
            return rasterize(str(path), page, width, self.settings.max_pixels, self.settings.max_side)
        if page != 0:
            raise DocumentError("page_out_of_range", f"page {page} does not exist; an image has one page (0)")
        return _fit_image(path, width, self.settings.max_pixels, self.settings.max_side)


def _fit_image(path: Path, width: int, max_pixels: int, max_side: int) -> Image.Image:
    """An uploaded image as one page: upright, on white, at most ``width`` wide.

    Never upscaled (that would only add bytes); EXIF orientation applied so phone photos of
    paper are not shown sideways; transparency flattened onto white like paper.
    """
    with Image.open(path) as im:
        w, h = im.size
        # JPEG: decode at a reduced size directly (fast, less memory). Both sides are kept at
        # least `width` (or full size) because EXIF rotation may swap them afterwards.
        im.draft("RGB", (min(w, width), min(h, width)))
        upright = ImageOps.exif_transpose(im)
        if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            upright = flat
        else:
            upright = upright.convert("RGB")
    uw, uh = upright.size
    scale = min(width / uw, (max_pixels / (uw * uh)) ** 0.5, max_side / max(uw, uh), 1.0)
    if scale < 1.0:
        upright = upright.resize((max(1, round(uw * scale)), max(1, round(uh * scale))), Image.Resampling.LANCZOS)
    return upright


@dataclass(frozen=True)
class RenderOutcome:
    """What a worker process reports about one page: small, so it crosses the pipe cheaply
    (the pixels stay in the cache file the worker wrote)."""

    rendered: bool  # False: the page was already in the cache (or it failed)
    code: str = ""  # a DocumentError code when rendering failed, else ""
    message: str = ""


def render_into_cache(
    data_dir: str, sha256: str, page: int, width: int, settings: RenderSettings = RenderSettings()
) -> RenderOutcome:
    """Worker-process entry point: render one page into the page cache unless it is there.

    Every failure is returned, not raised: a DocumentError would not survive pickling, and
    the caller must learn the reason to report it. Only the death of the process itself
    (PDFium aborting at the worker's memory limit, the watchdog's kill at its time limit)
    escapes, as the pool breaking (server/documents/worker_processes.py).
    """
    renderer = Renderer(BlobStore(data_dir), settings)
    try:
        if renderer.cache_path(sha256, page, width).is_file():
            return RenderOutcome(False)
        renderer.render_page(sha256, page, width)
        return RenderOutcome(True)
    except DocumentError as exc:
        return RenderOutcome(False, exc.code, exc.message)
    except MemoryError:
        return RenderOutcome(False, "too_complex", f"page {page + 1} needs more memory to render than a worker may use")
    except Exception as exc:
        return RenderOutcome(False, "render_failed", f"page {page + 1} could not be rendered: {exc!r}")
