"""Font discovery: a machine without Chinese glyphs gets told what to install, not boxes on paper."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.paper.certificates.fonts import ENV_VAR, FontNotFoundError, register_fonts

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_finds_the_installed_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    fonts = register_fonts()
    assert fonts.path.endswith((".ttc", ".ttf"))


def test_no_cjk_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(FontNotFoundError, match="fonts-wqy-zenhei"):
        register_fonts(dirs=(str(tmp_path),))


def test_override_with_a_latin_only_font_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(DEJAVU))
    with pytest.raises(FontNotFoundError, match=ENV_VAR):
        register_fonts()


def test_override_with_a_missing_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.ttc"))
    with pytest.raises(FontNotFoundError, match=ENV_VAR):
        register_fonts()


def test_override_selects_a_subfont_of_a_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, f"{WQY}#1")
    fonts = register_fonts()
    assert (fonts.path, fonts.subfont) == (str(WQY), 1)
