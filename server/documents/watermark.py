"""Per-reader watermarks for confidential documents.

A confidential page leaves the server only as an image stamped for one reader, so a photo
or screenshot that escapes the room names its source. Two layers:

* **visible**: the reader's name, seat and the delivery time, repeated diagonally across the
  whole page in semi-transparent grey — it survives cropping, and the text underneath stays
  readable;
* **faint pattern**: a 64-bit fingerprint of the reader (keyed with an optional server secret)
  drawn as a grid of dots three grey levels darker than their surroundings — invisible when
  reading, but it survives when someone retouches the visible text out. Lossless WebP keeps it
  exact.

Nothing here is cached: every call produces pixels for one reader at one moment. In the
server, stamping runs in the render pool's worker processes (:func:`stamp_page`, given a
:class:`WatermarkSpec`), never in the server process: it costs ~0.2 CPU-s per page per
reader, mostly holding the GIL.

Chinese names need a CJK font; one is looked for in the standard font directories and its
absence is an explicit error, never a page full of empty boxes.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from PIL import Image, ImageChops, ImageDraw, ImageFont

from ..paper.fonts import INSTALL_HINT, candidate_fonts, font_dirs, latin_font
from .blobs import BlobStore
from .errors import DocumentError
from .render import CACHE_NEVER, PageImage, Renderer, RenderSettings

FINGERPRINT_BITS: Final = 64
_GRID: Final = 8  # the fingerprint is an 8 x 8 grid of cells
_CELL: Final = 6  # pixels per cell; one dot of 2 x 2 pixels per "1" bit


def find_cjk_font(search_dirs: tuple[str, ...] | None = None) -> tuple[Path, int]:
    """The best known CJK font under ``search_dirs`` and its sub-font index.

    Raises ``no_cjk_font`` naming the packages to install: a watermark drawn without one
    would show empty boxes instead of the reader's name, which defeats its purpose.
    """
    best = next(candidate_fonts(search_dirs), None)
    if best is None:
        raise DocumentError(
            "no_cjk_font",
            "no Chinese-capable font found for watermarks in "
            f"{', '.join(search_dirs or font_dirs())}; {INSTALL_HINT}, or configure the font path explicitly",
        )
    return best


@dataclass(frozen=True)
class Reader:
    """Who a watermarked page is for. ``id`` is the stable member/observer id (fingerprinted)."""

    id: str
    name: str
    seat: str


@dataclass(frozen=True)
class WatermarkSpec:
    """Everything needed to build the same :class:`Watermarker` in another process.

    Plain values, because a Watermarker holds FreeType faces and a lock, which do not pickle.
    The secret (the HMAC key of every reader's fingerprint) is left out of ``repr`` so that no
    log line or traceback that shows a spec shows the key.
    """

    font_path: str
    font_index: int
    secret: bytes = field(repr=False)
    opacity: float
    pattern_strength: int

    def build(self) -> Watermarker:
        return Watermarker(
            self.font_path,
            font_index=self.font_index,
            secret=self.secret,
            opacity=self.opacity,
            pattern_strength=self.pattern_strength,
        )


class Watermarker:
    """Stamps page images, one reader per call. Construct once at startup: it finds and loads
    the font, so a missing or broken font is reported before the sitting, not during it.

    Thread-safe: the FreeType face is shared, so text drawing holds an instance lock; the
    compositing of the page, which is the bulk of the work, does not.
    """

    def __init__(
        self,
        font_path: Path | str | None = None,
        *,
        font_index: int = 0,
        secret: bytes = b"",
        opacity: float = 0.24,
        pattern_strength: int = 3,
        search_dirs: tuple[str, ...] | None = None,
        require_cjk: bool = True,
    ) -> None:
        if font_path is None and not require_cjk and next(candidate_fonts(search_dirs), None) is None:
            font_path = latin_font()  # nothing Chinese to stamp: the Latin face every install has
        if font_path is None:
            self.font_path, self.font_index = find_cjk_font(search_dirs)
        else:
            self.font_path, self.font_index = Path(font_path), font_index
        if not self.font_path.is_file():
            raise DocumentError("no_cjk_font", f"watermark font {self.font_path} does not exist")
        self.secret = secret
        self.opacity = opacity
        self.alpha = round(255 * opacity)
        self.pattern_strength = pattern_strength
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self._font_lock = threading.Lock()
        self._check_font()

    @property
    def spec(self) -> WatermarkSpec:
        """This watermarker as plain values, for the render pool's worker processes."""
        return WatermarkSpec(str(self.font_path), self.font_index, self.secret, self.opacity, self.pattern_strength)

    @staticmethod
    def label(reader: Reader, at: datetime) -> str:
        """The visible text: name, seat, time to the minute."""
        return f"{reader.name}  {reader.seat}  {at:%Y-%m-%d %H:%M}"

    def fingerprint(self, reader: Reader) -> int:
        """The reader's 64-bit pattern; keyed with ``secret`` so it cannot be forged without it."""
        digest = hmac.new(self.secret, f"hemicycle-watermark:{reader.id}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[: FINGERPRINT_BITS // 8], "big")

    def apply(self, image: Image.Image, reader: Reader, at: datetime) -> Image.Image:
        """A watermarked RGB copy of ``image``; the input is left untouched."""
        base = image.convert("RGB")
        base = ImageChops.subtract(base, self._pattern(base.size, self.fingerprint(reader)))
        overlay = self._text_overlay(base.size, self.label(reader, at))
        return Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")

    def watermark_page(
        self, renderer: Renderer, sha256: str, page: int, reader: Reader, at: datetime, width: int | None = None
    ) -> PageImage:
        """Render (via the clean cache), stamp for ``reader`` and encode; never cached.

        The ETag is the digest of the bytes (strong by construction) and Cache-Control is
        ``private, no-store``: the tablet app keeps pages in its own storage, which is
        cleared on recall, rather than in the browser's HTTP cache. Encoded at the lower
        effort of ``RenderSettings.stamp_webp_effort``: still lossless (the pattern stays
        exact), much faster, slightly larger — worth it for an image made for one fetch.
        """
        stamped = self.apply(renderer.raster(sha256, page, width), reader, at)
        data = renderer.encode(stamped, effort=renderer.settings.stamp_webp_effort)
        etag = '"' + hashlib.sha256(data).hexdigest()[:40] + '"'
        return PageImage(data=data, etag=etag, cache_control=CACHE_NEVER)

    def _check_font(self) -> None:
        """Load the font once from an open file so a broken one fails now, explicitly.

        Given a *path* that fails to load, Pillow silently searches the system font folders
        for a file of the same name and may load a different font; given a file object it
        cannot, so this probe proves the configured file itself is usable.
        """
        try:
            with self.font_path.open("rb") as fh:
                ImageFont.truetype(fh, 32, index=self.font_index)
        except OSError as exc:
            raise DocumentError("no_cjk_font", f"cannot load watermark font {self.font_path}: {exc}") from None

    def _font(self, size: int) -> ImageFont.FreeTypeFont:
        font = self._fonts.get(size)
        if font is None:
            try:
                font = ImageFont.truetype(str(self.font_path), size, index=self.font_index)
            except OSError as exc:
                raise DocumentError("no_cjk_font", f"cannot load watermark font {self.font_path}: {exc}") from None
            self._fonts[size] = font
        return font

    def _text_tile(self, text: str, size: int) -> Image.Image:
        """The label once, rotated 30°, on a transparent tile with breathing room."""
        with self._font_lock:
            font = self._font(size)
            left, top, right, bottom = font.getbbox(text)
            pad = size
            tile = Image.new("RGBA", (int(right - left + 2 * pad), int(bottom - top + 2 * pad)), (0, 0, 0, 0))
            ImageDraw.Draw(tile).text((pad - left, pad - top), text, font=font, fill=(96, 96, 96, self.alpha))
        return tile.rotate(30, expand=True, resample=Image.Resampling.BICUBIC)

    def _text_overlay(self, size: tuple[int, int], text: str) -> Image.Image:
        """The tile repeated over the page, every other row shifted by half a tile."""
        width, height = size
        tile = self._text_tile(text, max(14, width // 32))
        tw, th = tile.size
        step_y = max(1, th * 2 // 3)
        overlay = Image.new("RGBA", size, (0, 0, 0, 0))
        for row, y in enumerate(range(-th // 2, height, step_y)):
            shift = (tw // 2) if row % 2 else 0
            for x in range(-tw + shift, width, tw):
                overlay.alpha_composite(tile, (max(x, 0), max(y, 0)), (max(-x, 0), max(-y, 0)))
        return overlay

    def _pattern(self, size: tuple[int, int], bits: int) -> Image.Image:
        """An RGB image that is ``pattern_strength`` on fingerprint dots and 0 elsewhere."""
        period = _GRID * _CELL
        tile = Image.new("L", (period, period), 0)
        dots = ImageDraw.Draw(tile)
        for i in range(FINGERPRINT_BITS):
            if bits >> (FINGERPRINT_BITS - 1 - i) & 1:
                x, y = (i % _GRID) * _CELL + 2, (i // _GRID) * _CELL + 2
                dots.rectangle((x, y, x + 1, y + 1), fill=self.pattern_strength)
        plane = Image.new("L", size, 0)
        for y in range(0, size[1], period):
            for x in range(0, size[0], period):
                plane.paste(tile, (x, y))
        return Image.merge("RGB", (plane, plane, plane))


@dataclass(frozen=True)
class StampOutcome:
    """What a worker process answers for one stamping: the image, or why there is none
    (a DocumentError would not survive pickling, and the reader must learn the reason)."""

    image: PageImage | None
    code: str = ""
    message: str = ""


#: Per worker process: the Watermarker built from a spec, so the font is loaded once per
#: process rather than once per page.
_markers: dict[WatermarkSpec, Watermarker] = {}


def stamp_page(
    data_dir: str,
    sha256: str,
    page: int,
    width: int,
    settings: RenderSettings,
    spec: WatermarkSpec,
    reader: Reader,
    at: datetime,
) -> StampOutcome:
    """Worker-process entry point: stamp one page (from the clean cache) for one reader.

    Returns failures instead of raising them; only a crash of the process escapes (as the
    pool breaking). Nothing is written: stamped pages are never cached.
    """
    try:
        marker = _markers.get(spec)
        if marker is None:
            _markers.clear()  # one spec per server; never let stale ones pile up
            marker = _markers[spec] = spec.build()
        return StampOutcome(
            marker.watermark_page(Renderer(BlobStore(data_dir), settings), sha256, page, reader, at, width)
        )
    except DocumentError as exc:
        return StampOutcome(None, exc.code, exc.message)
    except Exception as exc:
        return StampOutcome(None, "render_failed", f"page {page + 1} could not be watermarked: {exc!r}")
