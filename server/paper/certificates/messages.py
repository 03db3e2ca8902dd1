"""Every text a person reads on a printed certificate or record, in zh-CN and en.

Labels live in the catalogues server/paper/certificates/i18n/<language>.json and nowhere else,
like the screens' (server/edge/web/i18n) and the keypads' (device_drivers/i18n), so a translation
or a wording change made for one legislature's practice (e.g. 未按 vs 未表决) reaches every
paper at once. Values that the
catalogue does not know (a new kind's field or option) fall back to a readable form of
the key rather than failing, so new ballot kinds print without code changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from importlib import resources
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = ("zh-CN", "en")

# Fields whose true/false reads better as a word of their own.
_BOOL_WORDS = MappingProxyType(
    {
        "elected": ("elected", "not_elected"),
        "selected": ("selected", "not_selected"),
    }
)


def _load(language: str) -> tuple[Mapping[str, str], ...]:
    """One language's catalogue (server/paper/certificates/i18n/<language>.json): texts, values
    (options, verdicts, kinds), field headings and the words of a rule."""
    data = json.loads((resources.files(__package__) / "i18n" / f"{language}.json").read_text("utf-8"))
    return tuple(MappingProxyType(data[part]) for part in ("text", "values", "fields", "rule"))


_CATALOGUE = MappingProxyType({language: _load(language) for language in LANGUAGES})

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """0..9999 in Chinese numerals as used in rules: 2 → 二, 10 → 十, 105 → 一百零五."""
    if not 0 <= n <= 9999:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = (n // value) % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if (digit == 1 and unit == "十" and not out) else _DIGITS[digit]) + unit
    return out


class Messages:
    """Look-ups in one language, with readable fallbacks for keys the catalogue lacks."""

    def __init__(self, language: str) -> None:
        if language not in _CATALOGUE:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        self.language = language
        self._text, self._values, self._fields, self._rule = _CATALOGUE[language]

    def __call__(self, key: str, **kw: Any) -> str:
        return self._text[key].format(**kw) if kw else self._text[key]

    def value(self, key: Any) -> str:
        """An option, verdict or kind name; unknown values print as themselves."""
        text = str(key)
        return self._values.get(text, text)

    def field(self, key: str) -> str:
        return self._fields.get(key, key.replace("_", " ").capitalize())

    def boolean(self, field: str, flag: bool) -> str:
        words = _BOOL_WORDS.get(field)
        if words:
            return self.value(words[0] if flag else words[1])
        return self("yes") if flag else self("no")

    def datetime(self, epoch: float | None, tz: str | None = None) -> str:
        """Epoch seconds as local wall-clock text (the meeting's zone if given)."""
        if epoch is None:
            return "—"
        zone = ZoneInfo(tz) if tz else None
        t = datetime.fromtimestamp(epoch, zone) if zone else datetime.fromtimestamp(epoch).astimezone()
        return self("datetime", y=t.year, m=t.month, d=t.day, H=t.hour, M=t.minute, S=t.second)

    def rule(self, rule: Mapping[str, Any]) -> str:
        """The threshold in words, e.g. 赞成票超过全体组成人员的二分之一."""
        frac = Fraction(str(rule.get("fraction", "1/2")))
        cmp = self._rule.get(str(rule.get("cmp", ">")), str(rule.get("cmp")))
        base = self._rule.get(str(rule.get("base", "seated")), str(rule.get("base")))
        option = self.value(rule.get("option", "for"))
        constant = int(rule.get("constant", 0) or 0)
        if self.language == "zh-CN":
            if frac == 0:
                return f"{option}票{cmp}{constant}票"
            share = "全部" if frac == 1 else f"{chinese_number(frac.denominator)}分之{chinese_number(frac.numerator)}"
            text = f"{option}票{cmp}{base}的{share}"
            if constant:
                text += f"{'加' if constant > 0 else '减'}{abs(constant)}票"
            return text
        if frac == 0:
            return f"{option} votes {cmp} {constant}"
        share = "all" if frac == 1 else f"{frac.numerator}/{frac.denominator} of"
        text = f"{option} votes {cmp} {share} {base}"
        if constant:
            text += f" {'plus' if constant > 0 else 'minus'} {abs(constant)}"
        return text
