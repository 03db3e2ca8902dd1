"""What every kind shares: turnout, applying a threshold, the result envelope."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..rules import Threshold

MOTION_OPTIONS = ("for", "against", "abstain")


@dataclass(frozen=True)
class Turnout:
    """Counts a rule's base can refer to, fixed when the ballot closes."""

    seated: int
    present: int
    voted: int


def base_value(rule: Threshold, turnout: Turnout, counts: Mapping[str, int]) -> int:
    if rule.base == "seated":
        return turnout.seated
    if rule.base == "present":
        return turnout.present
    cast = sum(counts.values())
    if rule.base == "cast":
        return cast
    return cast - counts.get("abstain", 0)


def judge(rule: Threshold, counts: Mapping[str, int], turnout: Turnout) -> dict[str, Any]:
    """Apply the rule to one line of counts; returns the verdict with the numbers behind it."""
    base = base_value(rule, turnout, counts)
    count = counts.get(rule.option, 0)
    return {
        "verdict": "passed" if rule.passes(count, base) else "failed",
        "base_value": base,
        "needed": rule.needed(base),
    }


def envelope(kind: str, turnout: Turnout, rule: Threshold, invalid: int = 0) -> dict[str, Any]:
    """The part of a result every kind has; kinds add ``lines`` and ``verdict``."""
    return {
        "kind": kind,
        "seated": turnout.seated,
        "present": turnout.present,
        "voted": turnout.voted,
        "not_voted": max(0, turnout.present - turnout.voted),
        "invalid": invalid,
        "rule": rule.to_dict(),
    }
