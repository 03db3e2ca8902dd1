"""Finding a CJK font on this machine: one list, one search, for certificates and watermarks.

Both printed certificates (reportlab) and page watermarks (Pillow) must draw Chinese
names; a font without the glyphs would print empty boxes. They use the same list and
order, so the paper and the screen pick the same face. A sitting with nothing Chinese to
print (an English agenda with Latin names) needs no CJK font: it uses the Latin TrueType
face that reportlab ships (Bitstream Vera), so a server without CJK fonts still serves it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

ENV_VAR = "HEMICYCLE_CJK_FONT"
"""``/path/font.ttc`` or ``/path/font.ttc#1`` (sub-font index) overrides discovery."""

# (file name, sub-font index), best first. Index 0 of wqy-zenhei is "WenQuanYi Zen Hei";
# Noto CJK's index 2 is the Simplified Chinese face.
KNOWN_FONTS: tuple[tuple[str, int], ...] = (
    ("wqy-zenhei.ttc", 0),
    ("wqy-microhei.ttc", 0),
    ("uming.ttc", 0),
    ("ukai.ttc", 0),
    ("NotoSansCJK-Regular.ttc", 2),
    ("NotoSerifCJK-Regular.ttc", 2),
    ("NotoSansSC-Regular.ttf", 0),
    ("NotoSansSC-Regular.otf", 0),
    ("SourceHanSansSC-Regular.ttf", 0),
    ("SourceHanSansSC-Regular.otf", 0),
    ("simsun.ttc", 0),
    ("msyh.ttc", 0),
    ("simhei.ttf", 0),
    ("Songti.ttc", 0),
    ("DroidSansFallbackFull.ttf", 0),
)

FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)

INSTALL_HINT = "install fonts-wqy-zenhei (Debian/Ubuntu) or wqy-zenhei-fonts (Fedora)"

DIRS_ENV_VAR = "HEMICYCLE_FONT_DIRS"
"""Colon-separated folders to search instead of ``FONT_DIRS`` (e.g. fonts kept with the data)."""


def font_dirs() -> tuple[str, ...]:
    """Where to look for fonts: ``$HEMICYCLE_FONT_DIRS`` when set, else the usual system folders."""
    override = os.environ.get(DIRS_ENV_VAR, "").strip()
    return tuple(d for d in override.split(os.pathsep) if d) if override else FONT_DIRS


def latin_font() -> Path:
    """A TrueType face with Latin glyphs that is always installed: reportlab's Vera."""
    return Path(str(resources.files("reportlab") / "fonts" / "Vera.ttf"))


def has_cjk(*texts: str) -> bool:
    """Whether any of ``texts`` has a character a Latin face cannot draw (CJK, full-width forms)."""
    return any(ord(ch) >= 0x2E80 for text in texts for ch in text)


def strings(value: Any) -> Iterator[str]:
    """Every string in a value made of dataclasses, mappings and sequences (what will be printed)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from strings(v)


def candidate_fonts(dirs: tuple[str, ...] | None = None) -> Iterator[tuple[Path, int]]:
    """Known CJK font files present on this machine, best first, with their sub-font index."""
    dirs = font_dirs() if dirs is None else dirs
    wanted = {name.lower(): (rank, index) for rank, (name, index) in enumerate(KNOWN_FONTS)}
    found: list[tuple[int, Path, int]] = []
    for base in dirs:
        root = Path(base).expanduser()
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for file in files:
                hit = wanted.get(file.lower())
                if hit is not None:
                    found.append((hit[0], Path(dirpath) / file, hit[1]))
    for _rank, path, index in sorted(found, key=lambda f: (f[0], str(f[1]))):
        yield path, index
