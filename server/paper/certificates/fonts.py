"""Find and register a CJK TrueType font for printed certificates.

reportlab's built-in fonts carry no Chinese glyphs: a certificate drawn with them shows
empty boxes where members' names should be, which is worse than failing. So rendering
refuses to start without a font that has every glyph of a probe string, and says which
package to install. Only TrueType outlines work in reportlab; the CFF-flavoured Noto CJK
``.ttc`` files are skipped for that reason rather than crashing the render.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from ..fonts import ENV_VAR, candidate_fonts, latin_font

# Every glyph a certificate always prints; a font missing one of these is no use.
PROBE = "表决结果单赞成反对弃权未按通过主持人工作人员王建国秀英0123456789ABCabc"

MONO_FONT = "Courier"  # built in; digests and keys are ASCII, and monospace aids reading them


class FontNotFoundError(RuntimeError):
    """No usable CJK TrueType font: rendering would print boxes instead of names."""


@dataclass(frozen=True)
class FontSet:
    """reportlab font names to draw with."""

    text: str
    mono: str
    path: str
    subfont: int


def _parse_override(value: str) -> tuple[Path, int]:
    path, _, index = value.partition("#")
    try:
        return Path(path).expanduser(), int(index or 0)
    except ValueError:
        raise FontNotFoundError(f"{ENV_VAR}={value!r}: the part after '#' must be a sub-font number") from None


def _load(path: Path, index: int) -> TTFont | None:
    """Register the font under a name derived from its path, reusing an earlier registration."""
    name = "HC-" + hashlib.sha1(f"{path.resolve()}#{index}".encode()).hexdigest()[:10]
    try:
        font = pdfmetrics.getFont(name)
    except KeyError:
        try:
            font = TTFont(name, str(path), subfontIndex=index)
        except (TTFError, OSError, IndexError, ValueError):
            return None
        pdfmetrics.registerFont(font)
    cmap = getattr(font.face, "charToGlyph", {})
    if any(ord(ch) not in cmap for ch in PROBE):
        return None
    return font


def register_fonts(dirs: tuple[str, ...] | None = None, *, require_cjk: bool = True) -> FontSet:
    """Find a CJK font (``$HEMICYCLE_CJK_FONT`` first, then ``dirs``), register it, return the names to use.

    With ``require_cjk`` False (nothing Chinese to print), a machine without a CJK font gets
    the Latin face reportlab ships instead of an error."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        path, index = _parse_override(override)
        if not path.is_file():
            raise FontNotFoundError(f"{ENV_VAR}={override!r}: no such font file")
        font = _load(path, index)
        if font is None:
            raise FontNotFoundError(
                f"{ENV_VAR}={override!r} is not a readable TrueType font with Chinese glyphs "
                "(CFF/OpenType-PostScript fonts are not supported by reportlab)"
            )
        return FontSet(font.fontName, MONO_FONT, str(path), index)
    for path, index in candidate_fonts(dirs):
        font = _load(path, index)
        if font is not None:
            return FontSet(font.fontName, MONO_FONT, str(path), index)
    if not require_cjk:
        latin = TTFont("HC-Latin", str(latin_font()))
        pdfmetrics.registerFont(latin)
        return FontSet(latin.fontName, MONO_FONT, str(latin_font()), 0)
    raise FontNotFoundError(
        "No Chinese (CJK) TrueType font found; certificates would print empty boxes instead of names. "
        "Install one, e.g. `apt-get install fonts-wqy-zenhei` (Debian/Ubuntu) or "
        "`dnf install wqy-zenhei-fonts` (Fedora), or set "
        f"{ENV_VAR}=/path/to/font.ttc[#index] to a TrueType font with Chinese glyphs."
    )
