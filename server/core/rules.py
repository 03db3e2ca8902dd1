"""Thresholds as data: ``count(option) [> | >=] fraction x base (+ constant)``.

Arithmetic is exact (fractions), so "more than half of 41" and "exactly half of 30"
can never be mis-rounded. Presets cover common practice; agenda files may define others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

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


def parse_fraction(value: Any) -> Fraction:
    """Accept "1/2", "2/3", 0.5 or 1; refuse anything outside 0..1."""
    if isinstance(value, bool):
        raise ValueError('must be a fraction such as "1/2"')
    if isinstance(value, (int, float)):
        frac = Fraction(value).limit_denominator(1000)
    elif isinstance(value, str):
        try:
            frac = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f'{value!r} is not a fraction such as "1/2"') from None
    else:
        raise ValueError('must be a fraction such as "1/2"')
    if not 0 <= frac <= 1:
        raise ValueError(f"{value!r} must lie between 0 and 1")
    return frac


def threshold_from_dict(data: Mapping[str, Any], default_option: str = "for") -> Threshold:
    """Build a threshold from agenda data; raises ValueError naming the bad key."""
    allowed = {"option", "cmp", "fraction", "base", "constant"}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    cmp = data.get("cmp", ">")
    if cmp not in COMPARATORS:
        raise ValueError(f"cmp must be one of {', '.join(COMPARATORS)}, not {cmp!r}")
    base = data.get("base", "seated")
    if base not in BASES:
        raise ValueError(f"base must be one of {', '.join(BASES)}, not {base!r}")
    constant = data.get("constant", 0)
    if not isinstance(constant, int) or isinstance(constant, bool):
        raise ValueError("constant must be a whole number")
    option = data.get("option", default_option)
    if not isinstance(option, str):
        raise ValueError("option must be a string")
    return Threshold(option, cmp, parse_fraction(data.get("fraction", "1/2")), base, constant)


def threshold_from_dict_or_preset(value: Any, default: str) -> Threshold:
    if value is None:
        return PRESETS[default]
    if isinstance(value, str):
        if value not in PRESETS:
            raise ValueError(f"unknown rule preset {value!r}; presets: {', '.join(PRESETS)}")
        return PRESETS[value]
    if isinstance(value, Mapping):
        return threshold_from_dict(value)
    raise ValueError("rule must be a preset name or a table")
