"""Thresholds as data: ``count(option) [> | >=] fraction x base (+ constant)``.

Arithmetic is exact (fractions), so "more than half of 41" and "exactly half of 30"
can never be mis-rounded. Presets cover common practice; agenda files may define others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .bounds import FRACTION_DIGITS, MAX_COUNT, id_problem, shown, whole_problem

BASES = ("seated", "present", "cast", "cast_excluding_abstain")
COMPARATORS = (">", ">=")


@dataclass(frozen=True)
class Threshold:
    """Passes if ``count(option) cmp fraction * base + constant``."""

    option: str = "for"
    cmp: str = ">"
    fraction: Fraction = Fraction(1, 2)
    base: str = "seated"
    constant: int = 0

    def bar(self, base_value: int) -> Fraction:
        return self.fraction * base_value + self.constant

    def passes(self, count: int, base_value: int) -> bool:
        if count <= 0 and self.fraction > 0:
            return False  # a share of nothing is not met by nothing: ">= 2/3 of 0 cast" fails
        bar = self.bar(base_value)
        return count > bar if self.cmp == ">" else count >= bar

    def needed(self, base_value: int) -> int:
        """The smallest count that passes (may exceed the base: then nothing can pass)."""
        bar = self.bar(base_value)
        least = 1 if self.fraction > 0 else 0
        if self.cmp == ">=":
            return max(least, math.ceil(bar))
        return max(least, math.floor(bar) + 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "cmp": self.cmp,
            "fraction": f"{self.fraction.numerator}/{self.fraction.denominator}",
            "base": self.base,
            "constant": self.constant,
        }


PRESETS: dict[str, Threshold] = {
    # Standing committees: a majority of ALL seated members, not of those present.
    "majority_of_all": Threshold("for", ">", Fraction(1, 2), "seated"),
    "simple_majority": Threshold("for", ">", Fraction(1, 2), "cast"),
    "majority_excluding_abstentions": Threshold("for", ">", Fraction(1, 2), "cast_excluding_abstain"),
    "two_thirds_of_all": Threshold("for", ">=", Fraction(2, 3), "seated"),
    "two_thirds_of_cast": Threshold("for", ">=", Fraction(2, 3), "cast"),
    "majority_of_present": Threshold("for", ">", Fraction(1, 2), "present"),
}

# Quorum: more than half of all seated members present.
QUORUM_PRESET = Threshold("present", ">", Fraction(1, 2), "seated")


_N = f"([0-9]{{1,{FRACTION_DIGITS}}})"
_RATIO = re.compile(rf"\s*{_N}\s*/\s*{_N}\s*")
_DECIMAL = re.compile(rf"\s*([0-9]{{1,{FRACTION_DIGITS}}})(?:\.([0-9]{{1,{FRACTION_DIGITS - 1}}}))?\s*")
_FRACTION_WORDS = 'must be a fraction such as "1/2" or "0.5"'


def parse_fraction(value: Any) -> Fraction:
    """Accept "1/2", "2/3", "0.5", 0.5 or 1; refuse anything outside 0..1.

    Text is read by a strict grammar ("n/d" with at most six digits a part, or a decimal
    with at most five places, no exponent, so ``to_dict`` writes it back as "n/d"): ``Fraction("1e-5000")`` would be exact, accepted, and break every view that
    prints it; ``Fraction("1e3000000")`` takes seconds to build. A number is limited to a
    denominator of at most 1,000 (0.6667 means two thirds; 0.667 is 667/1000).
    """
    if isinstance(value, bool):
        raise ValueError(_FRACTION_WORDS)
    if isinstance(value, int):
        frac = Fraction(value) if value in (0, 1) else Fraction(2)
    elif isinstance(value, float):
        frac = Fraction(value).limit_denominator(1000) if math.isfinite(value) and 0 <= value <= 1 else Fraction(2)
    elif isinstance(value, str):
        ratio, decimal = _RATIO.fullmatch(value), _DECIMAL.fullmatch(value)
        if ratio and int(ratio[2]) > 0:
            frac = Fraction(int(ratio[1]), int(ratio[2]))
        elif decimal:
            frac = Fraction(f"{decimal[1]}.{decimal[2] or 0}")
        else:
            raise ValueError(f"{shown(value)} {_FRACTION_WORDS} (at most {FRACTION_DIGITS} digits a part)")
    else:
        raise ValueError(_FRACTION_WORDS)
    if not 0 <= frac <= 1:
        raise ValueError(f"{shown(value)} must lie between 0 and 1")
    return frac


def threshold_from_dict(data: Mapping[str, Any], default_option: str = "for") -> Threshold:
    """Build a threshold from agenda data; raises ValueError naming the bad key."""
    allowed = {"option", "cmp", "fraction", "base", "constant"}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(str(k)[:40] for k in sorted(map(str, unknown))[:5])}")
    cmp = data.get("cmp", ">")
    if cmp not in COMPARATORS:
        raise ValueError(f"cmp must be one of {', '.join(COMPARATORS)}, not {shown(cmp)}")
    base = data.get("base", "seated")
    if base not in BASES:
        raise ValueError(f"base must be one of {', '.join(BASES)}, not {shown(base)}")
    constant = data.get("constant", 0)
    problem = whole_problem(constant, -MAX_COUNT, MAX_COUNT)
    if problem:
        raise ValueError(f"constant {problem}")
    option = data.get("option", default_option)
    problem = id_problem(option)
    if problem:
        raise ValueError(f"option {problem}")
    return Threshold(option, cmp, parse_fraction(data.get("fraction", "1/2")), base, constant)


def threshold_from_dict_or_preset(value: Any, default: str) -> Threshold:
    if value is None:
        return PRESETS[default]
    if isinstance(value, str):
        if value not in PRESETS:
            raise ValueError(f"unknown rule preset {shown(value)}; presets: {', '.join(PRESETS)}")
        return PRESETS[value]
    if isinstance(value, Mapping):
        return threshold_from_dict(value)
    raise ValueError("rule must be a preset name or a table")
