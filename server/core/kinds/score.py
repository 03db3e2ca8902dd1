"""Numeric scoring (测评打分): a number per subject within ``[min, max]`` on ``step``.

Per subject: count, sum, mean, median, lowest, highest and a trimmed mean dropping the
``trim`` highest and ``trim`` lowest scores (the judges'-panel rule). A trimmed mean
needs at least ``2 * trim + 1`` scores so that one remains; with fewer it is ``None``
and the line says why (``note: "too_few_to_trim"``) instead of quietly falling back to
the plain mean, which would print a different statistic under the same heading.

All arithmetic is exact (fractions); figures are rounded to two places only for
display, so the recount an auditor runs gives the same JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from ..bounds import MAX_COUNT, MAX_ENTRIES, number_problem, shown
from ..errors import CommandError
from ..rules import Threshold
from .common import Turnout, check_entries, entries_ok, envelope, number, whole

PARAM_KEYS = ("subjects", "trim")
DEFAULT_RULE = None  # unused: scores have no pass/fail verdict; the envelope shows the meeting rule
SECRET_BY_DEFAULT = True
KEYPAD_OK = False


def exact(value: Any) -> Fraction | None:
    """A JSON number as an exact fraction (0.1 means one tenth), or None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Fraction(repr(value))
    return Fraction(value)


def _bounds(subject: Mapping[str, Any]) -> tuple[Fraction, Fraction, Fraction]:
    """A normalized subject's min, max and step (normalize_params made them numbers)."""
    lo, hi, step = exact(subject["min"]), exact(subject["max"]), exact(subject["step"])
    assert lo is not None and hi is not None and step is not None
    return lo, hi, step


def plain(value: Fraction) -> int | float:
    """An exact value back as the JSON number a person would write."""
    return int(value) if value.denominator == 1 else float(value)


def _check_subject(i: int, s: Mapping[str, Any]) -> list[str]:
    path = f"subjects[{i}]"
    problems = []
    for key in ("min", "max", "step"):
        if key in s or key != "step":
            problem = number_problem(s.get(key))
            if problem:
                problems.append(f"{path}.{key}: {problem}")
    if problems:
        return problems
    lo, hi, step = exact(s["min"]), exact(s["max"]), exact(s.get("step", 1))
    assert lo is not None and hi is not None and step is not None
    if lo >= hi:
        problems.append(f"{path}.max: must be greater than min")
    elif step <= 0:
        problems.append(f"{path}.step: must be greater than 0")
    elif ((hi - lo) / step).denominator != 1:
        problems.append(f"{path}.step: must divide max - min into whole steps")
    return problems


def check_params(params: Mapping[str, Any], rule: Threshold) -> list[str]:
    subjects = params.get("subjects")
    problems = check_entries(subjects, "subjects", ("title",), extra=("min", "max", "step"))
    if isinstance(subjects, list) and len(subjects) <= MAX_ENTRIES:
        for i, s in enumerate(subjects):
            if isinstance(s, Mapping):
                problems += _check_subject(i, s)
    trim = params.get("trim", 0)
    if not whole(trim) or not 0 <= trim <= MAX_COUNT:
        problems.append(f"trim: must be a whole number from 0 to {MAX_COUNT}")
    return problems


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    subjects = params.get("subjects")
    if not entries_ok(subjects):
        return dict(params)
    out = []
    for s in subjects:
        lo, hi, step = exact(s.get("min")), exact(s.get("max")), exact(s.get("step", 1))
        if lo is None or hi is None or step is None:
            return dict(params)
        out.append(
            {"id": s["id"], "title": s.get("title", ""), "min": plain(lo), "max": plain(hi), "step": plain(step)}
        )
    return {"subjects": out, "trim": params.get("trim", 0)}


def keypad_ok(spec: Any) -> bool:
    return False


def keypad_options(spec: Any) -> list[str]:
    return []


def normalize_choice(spec: Any, raw: Any) -> dict[str, int | float]:
    """``{subject_id: number}``; a subject left out (or null) is not scored on this paper.

    A bare number is accepted when there is a single subject.
    """
    subjects = {s["id"]: s for s in spec.params["subjects"]}
    if len(subjects) == 1 and exact(raw) is not None:
        raw = {next(iter(subjects)): raw}
    if not isinstance(raw, Mapping):
        raise CommandError("invalid_choice", "choice must map subject ids to numbers")
    out: dict[str, int | float] = {}
    for sid, value in raw.items():
        s = subjects.get(sid) if isinstance(sid, str) else None
        if s is None:
            raise CommandError("invalid_choice", f"no subject {shown(sid)} on this ballot")
        if value is None:
            continue
        v = exact(value)
        lo, hi, step = _bounds(s)
        if v is None or not lo <= v <= hi or ((v - lo) / step).denominator != 1:
            raise CommandError(
                "invalid_choice",
                f"the score for {shown(sid)} must be a number from {s['min']} to {s['max']} in steps of {s['step']}",
            )
        out[sid] = plain(v)
    return {sid: out[sid] for sid in subjects if sid in out}


def _median(ordered: list[Fraction]) -> Fraction:
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def stats(scores: list[Fraction], trim: int) -> dict[str, Any]:
    """The figures of one subject; None where there is nothing to compute, with a note saying why."""
    ordered = sorted(scores)
    n = len(ordered)
    if n == 0:
        return {
            "count": 0,
            "sum": 0,
            "mean": None,
            "median": None,
            "lowest": None,
            "highest": None,
            "trimmed_mean": None,
            "trimmed_count": 0,
            "note": "no_scores",
        }
    out: dict[str, Any] = {
        "count": n,
        "sum": plain(sum(ordered, Fraction(0))),
        "mean": number(sum(ordered, Fraction(0)) / n),
        "median": number(_median(ordered)),
        "lowest": plain(ordered[0]),
        "highest": plain(ordered[-1]),
    }
    if n < 2 * trim + 1:
        out.update(trimmed_mean=None, trimmed_count=0, note="too_few_to_trim")
    else:
        kept = ordered[trim : n - trim]
        out.update(trimmed_mean=number(sum(kept, Fraction(0)) / len(kept)), trimmed_count=len(kept))
    return out


def tally(spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]:
    trim = spec.params["trim"]
    rows = []
    for s in spec.params["subjects"]:
        scores = [v for c in choices if s["id"] in c and (v := exact(c[s["id"]])) is not None]
        figures = stats(scores, trim)
        rows.append(
            {
                "id": s["id"],
                "label": s["title"],
                "counts": {"scored": figures["count"]},
                "unscored": len(choices) - figures["count"],
                "min": s["min"],
                "max": s["max"],
                **figures,
            }
        )
    result = envelope("score", turnout, spec.rule, invalid=sum(1 for c in choices if not c))
    result.update({"trim": trim, "needed_to_trim": 2 * trim + 1, "lines": rows, "verdict": None})
    return result
