"""What every kind shares: turnout, applying a threshold, the result envelope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeGuard

from ..bounds import MAX_ENTRIES, MAX_NAME, MAX_TITLE, id_problem, shown, text_problem
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


# -- shared by the kinds beyond the motion -------------------------------------------


def check_entries(
    value: Any,
    key: str,
    required: tuple[str, ...] = ("name",),
    optional: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> list[str]:
    """Check a list of tables with unique ids (nominees, candidates, subjects).

    ``required`` and ``optional`` name string fields (a ``title`` may be as long as a
    title, anything else as long as a name); ``extra`` names further keys the kind checks
    itself. Problems come back as ``"key[i].field: message"`` so the agenda checker can
    point at the exact line of the file.
    """
    if not isinstance(value, list) or not value:
        return [f"{key}: must be a non-empty list of tables"]
    if len(value) > MAX_ENTRIES:
        return [f"{key}: may hold at most {MAX_ENTRIES} entries, not {len(value)}"]
    problems: list[str] = []
    seen: set[str] = set()
    allowed = {"id", *required, *optional, *extra}
    for i, entry in enumerate(value):
        path = f"{key}[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{path}: must be a table")
            continue
        for k in sorted(set(entry) - allowed, key=str)[:5]:
            problems.append(f"{path}.{str(k)[:40]}: unknown key")
        for k in ("id", *required):
            if k not in entry:
                problems.append(f"{path}.{k}: is required")
        if "id" in entry and (problem := id_problem(entry["id"])):
            problems.append(f"{path}.id: {problem}")
        for k in (*required, *optional):
            if k not in entry:
                continue
            if not isinstance(entry[k], str) or not entry[k].strip():
                problems.append(f"{path}.{k}: must be a non-empty string")
            elif problem := text_problem(entry[k], MAX_TITLE if k == "title" else MAX_NAME):
                problems.append(f"{path}.{k}: {problem}")
        ident = entry.get("id")
        if isinstance(ident, str):
            if ident in seen:
                problems.append(f"{path}.id: duplicate id {shown(ident)}")
            seen.add(ident)
    return problems


def entries_ok(value: Any) -> TypeGuard[list[Mapping[str, Any]]]:
    """True when ``value`` is a non-empty list of tables with string ids (safe to index)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(e, Mapping) and isinstance(e.get("id"), str) for e in value)
    )


def whole(value: Any) -> TypeGuard[int]:
    """An int that is not a bool (TOML and JSON both give bools that are ints in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def ranks(counts: Mapping[str, int]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4): equal counts share a rank, so ties stay visible."""
    return {k: 1 + sum(1 for other in counts.values() if other > n) for k, n in counts.items()}


def pick(ranked: list[tuple[str, int]], seats: int) -> tuple[list[str], list[str], int]:
    """Fill ``seats`` from eligible ``(id, count)`` pairs sorted by count, highest first.

    Returns ``(winners, tied, seats_for_tied)``: when equal counts straddle the last
    seat nobody in that group wins; they go to a further round for the seats left.
    No tie-break by list order or lot: that is a decision for people, not code.
    """
    if len(ranked) <= seats:
        return [i for i, _ in ranked], [], 0
    cut = ranked[seats - 1][1]
    above = [i for i, n in ranked if n > cut]
    at = [i for i, n in ranked if n == cut]
    left = seats - len(above)
    if len(at) <= left:
        return above + at, [], 0
    return above, at, left


def percent(n: int, base: int) -> float | None:
    """``n`` as a percentage of ``base``, exactly rounded to two places (None for base 0)."""
    if base <= 0:
        return None
    return float(round(Fraction(100 * n, base), 2))


def number(value: Fraction) -> int | float:
    """A plain JSON number: an int when whole, else a float rounded to two places."""
    r = round(value, 2)
    return int(r) if r.denominator == 1 else float(r)


def has_cjk(*texts: str) -> bool:
    """Whether generated titles should use Chinese punctuation (kinds have no language)."""
    return any("\u3400" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" for t in texts for ch in t)


def check_seats_and_candidates(params: Mapping[str, Any], rule: Threshold, what: str) -> list[str]:
    """What elections and selections share: candidates, a seat count they can fill, "for" marks."""
    problems = check_entries(params.get("candidates"), "candidates")
    seats = params.get("seats")
    if not whole(seats) or not 1 <= seats <= MAX_ENTRIES:
        problems.append(f"seats: must be a whole number from 1 to {MAX_ENTRIES}")
    elif isinstance(params.get("candidates"), list) and len(params["candidates"]) < seats:
        problems.append(f"candidates: {len(params['candidates'])} candidates cannot fill {seats} seats")
    if rule.option != "for":
        problems.append(f'rule: {what} counts "for" marks, not {shown(rule.option)}')
    return problems
