"""Every message catalogue speaks both languages: a key present in zh-CN and missing in en
(or the reverse) would show a raw key, or fail, on a screen, a keypad or a certificate of a
meeting held in the other language."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = [
    ROOT / "server" / "edge" / "web" / "i18n",
    ROOT / "device_drivers" / "i18n",
    ROOT / "server" / "paper" / "certificates" / "i18n",
]


def flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested catalogue -> {"a.b.c": text}."""
    if not isinstance(data, dict):
        return {prefix.rstrip("."): data}
    return {k: v for key, value in data.items() for k, v in flat(value, f"{prefix}{key}.").items()}


@pytest.mark.parametrize("folder", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_zh_cn_and_en_catalogues_have_the_same_keys_and_blank_only_together(folder: Path) -> None:
    zh = flat(json.loads((folder / "zh-CN.json").read_text(encoding="utf-8")))
    en = flat(json.loads((folder / "en.json").read_text(encoding="utf-8")))
    assert zh.keys() - en.keys() == set(), "missing in en"
    assert en.keys() - zh.keys() == set(), "missing in zh-CN"
    assert all(isinstance(text, str) for text in [*zh.values(), *en.values()])
    # A deliberately blank text (a keypad display cleared when idle) is blank in both.
    assert {k for k, t in zh.items() if not t.strip()} == {k for k, t in en.items() if not t.strip()}
