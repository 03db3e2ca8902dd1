"""Font discovery: a machine without Chinese glyphs gets told what to install, not boxes on paper."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from server.paper.certificates.fonts import ENV_VAR, FontNotFoundError, latin_font, register_fonts

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
NAMES = "王建国 李秀英 常务委员会 表决结果 赞成 反对 弃权"  # what a certificate prints


def test_finds_the_installed_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    fonts = register_fonts()
    glyphs = pdfmetrics.getFont(fonts.text).face.charToGlyph
    missing = [ch for ch in NAMES if not ch.isspace() and ord(ch) not in glyphs]
    assert missing == [], f"{fonts.path} would print boxes for {missing}"


def test_no_cjk_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(FontNotFoundError, match="fonts-wqy-zenhei"):
        register_fonts(dirs=(str(tmp_path),))


def test_override_with_a_latin_only_font_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    latin = latin_font()  # reportlab's own Vera: present wherever reportlab is, so the refusal is for its glyphs
    assert latin.is_file()
    monkeypatch.setenv(ENV_VAR, str(latin))
    with pytest.raises(FontNotFoundError, match="Chinese glyphs"):
        register_fonts()


def test_override_with_a_missing_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.ttc"))
    with pytest.raises(FontNotFoundError, match="no such font file"):
        register_fonts()


def test_override_selects_a_subfont_of_a_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, f"{WQY}#1")
    fonts = register_fonts()
    assert (fonts.path, fonts.subfont) == (str(WQY), 1)
