"""Finding a CJK font on this machine: one list, one search, for certificates and watermarks.

Both printed certificates (reportlab) and page watermarks (Pillow) must draw Chinese
names; a font without the glyphs would print empty boxes. They use the same list and
order, so the paper and the screen pick the same face.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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


def candidate_fonts(dirs: tuple[str, ...] = FONT_DIRS) -> Iterator[tuple[Path, int]]:
    """Known CJK font files present on this machine, best first, with their sub-font index."""
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
