"""Satisfaction evaluation (满意度测评): one grade per subject, a verdict per subject.

Grades: satisfied (满意), basically_satisfied (基本满意), dissatisfied (不满意). A subject
with no grade, or with more than one, is invalid FOR THAT SUBJECT only: such papers are
accepted (a paper form allows them) and counted in the subject's ``invalid``.

Verdicts are data: ``verdicts`` is an ordered list of rows
``{verdict, grades, cmp?, fraction?, base?, constant?}``; the first row whose summed
``grades`` count passes its threshold gives the verdict; a last row without ``grades``
is the fallback (default "dissatisfied"). Threshold keys a row omits come from the
ballot rule, whose default is the district preset "more than half of ALL seated".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..bounds import MAX_NAME, MAX_VERDICTS, shown, text_problem
from ..errors import CommandError
from ..rules import Threshold, threshold_from_dict
from .common import Turnout, base_value, check_entries, entries_ok, envelope, percent

PARAM_KEYS = ("subjects", "percent_base", "verdicts")
DEFAULT_RULE = {"option": "satisfied", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0}
SECRET_BY_DEFAULT = True
KEYPAD_OK = True  # single-subject evaluations only: ask keypad_ok(spec)
GRADES = ("satisfied", "basically_satisfied", "dissatisfied")
PERCENT_BASES = ("voted", "seated", "present")
THRESHOLD_KEYS = ("cmp", "fraction", "base", "constant")
DEFAULT_VERDICTS = (
    {"verdict": "satisfied", "grades": ["satisfied"]},
    {"verdict": "basically_satisfied", "grades": ["satisfied", "basically_satisfied"]},
    {"verdict": "dissatisfied"},
)


def _row_threshold(rule: Threshold, row: Mapping[str, Any]) -> Threshold:
    """A verdict row's threshold: its own keys over the ballot rule's (the option is unused)."""
    merged = {**rule.to_dict(), **{k: row[k] for k in THRESHOLD_KEYS if k in row}}
    merged["option"] = "grades"
    return threshold_from_dict(merged)


def _check_verdicts(value: Any, rule: Threshold) -> list[str]:
    if not isinstance(value, list) or not value:
        return ["verdicts: must be a non-empty list of tables"]
    if len(value) > MAX_VERDICTS:
        return [f"verdicts: may hold at most {MAX_VERDICTS} rows, not {len(value)}"]
    problems = []
    for i, row in enumerate(value):
        path = f"verdicts[{i}]"
        if not isinstance(row, Mapping):
            problems.append(f"{path}: must be a table")
            continue
        for k in sorted(map(str, set(row) - {"verdict", "grades", *THRESHOLD_KEYS}))[:5]:
            problems.append(f"{path}.{k[:40]}: unknown key")
        verdict = row.get("verdict")
        if not isinstance(verdict, str) or not verdict.strip():
            problems.append(f"{path}.verdict: must be a non-empty string")
        elif problem := text_problem(verdict, MAX_NAME):
            problems.append(f"{path}.verdict: {problem}")
        grades = row.get("grades")
        if grades is None:
            if i != len(value) - 1:
                problems.append(f"{path}.grades: only the last row (the fallback) may omit grades")
            continue
        if (
            not isinstance(grades, list)
            or not grades
            or any(g not in GRADES for g in grades)
            or len(set(grades)) != len(grades)
        ):
            problems.append(f"{path}.grades: must be a list drawn from {', '.join(GRADES)} without repeats")
        try:
            _row_threshold(rule, row)
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
    return problems


def check_params(params: Mapping[str, Any], rule: Threshold) -> list[str]:
    problems = check_entries(params.get("subjects"), "subjects", ("title",))
    if params.get("percent_base", "voted") not in PERCENT_BASES:
        problems.append(f"percent_base: must be one of {', '.join(PERCENT_BASES)}")
    if "verdicts" in params:
        problems += _check_verdicts(params["verdicts"], rule)
    return problems


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    if not entries_ok(params.get("subjects")):
        return dict(params)
    verdicts = params.get("verdicts", DEFAULT_VERDICTS)
    if not isinstance(verdicts, list | tuple):
        return dict(params)
    return {
        "subjects": [{"id": s["id"], "title": s.get("title", "")} for s in params["subjects"]],
        "percent_base": params.get("percent_base", "voted"),
        "verdicts": [dict(row) if isinstance(row, Mapping) else row for row in verdicts],
    }


def keypad_ok(spec: Any) -> bool:
    """Three keys map to the three grades, so only a single subject can be keyed."""
    return len(spec.params["subjects"]) == 1


def keypad_options(spec: Any) -> list[str]:
    return list(GRADES) if keypad_ok(spec) else []


def normalize_choice(spec: Any, raw: Any) -> dict[str, Any]:
    """``{subject_id: grade}``; a list of two or more grades is kept (invalid for that subject).

    A plain grade string is accepted for a single subject (what a keypad sends).
    """
    ids = [s["id"] for s in spec.params["subjects"]]
    if isinstance(raw, str) and len(ids) == 1:
        raw = {ids[0]: raw}
    if not isinstance(raw, Mapping):
        raise CommandError(
            "invalid_choice", "choice must map subject ids to satisfied, basically_satisfied or dissatisfied"
        )
    out: dict[str, Any] = {}
    for sid, value in raw.items():
        if sid not in ids:
            raise CommandError("invalid_choice", f"no subject {shown(sid)} on this ballot")
        grades = value if isinstance(value, list) else [] if value is None else [value]
        for g in grades:
            if not isinstance(g, str) or g not in GRADES:
                raise CommandError("invalid_choice", f"the grade for {shown(sid)} must be one of {', '.join(GRADES)}")
        chosen = [g for g in GRADES if g in grades]
        if len(chosen) == 1:
            out[sid] = chosen[0]
        elif chosen:
            out[sid] = chosen
    return {sid: out[sid] for sid in ids if sid in out}


def _percent_base(spec: Any, turnout: Turnout, papers: int) -> int:
    which = spec.params["percent_base"]
    return turnout.seated if which == "seated" else turnout.present if which == "present" else papers


def tally(spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]:
    pbase = _percent_base(spec, turnout, len(choices))
    rows: list[dict[str, Any]] = []
    for subject in spec.params["subjects"]:
        counts = {g: 0 for g in GRADES}
        for choice in choices:
            grade = choice.get(subject["id"])
            if isinstance(grade, str):
                counts[grade] += 1
        invalid = len(choices) - sum(counts.values())
        verdict, needed, basis, fallback = None, None, None, "dissatisfied"
        for row in spec.params["verdicts"]:
            if "grades" not in row:
                fallback = row["verdict"]
                break
            threshold = _row_threshold(spec.rule, row)
            base = base_value(threshold, turnout, counts)
            summed = sum(counts[g] for g in row["grades"])
            if needed is None:  # what the best verdict needs: the figure people look for
                needed, basis = threshold.needed(base), base
            if threshold.passes(summed, base):
                verdict = row["verdict"]
                break
        rows.append(
            {
                "id": subject["id"],
                "label": subject["title"],
                "counts": counts,
                "invalid": invalid,
                "percent": {k: percent(n, pbase) for k, n in {**counts, "invalid": invalid}.items()},
                "base_value": basis,
                "needed": needed,
                "verdict": verdict or fallback,
            }
        )
    result = envelope(
        "evaluation",
        turnout,
        spec.rule,
        invalid=sum(1 for c in choices if not any(isinstance(v, str) for v in c.values())),
    )
    summary: dict[str, int] = {}
    for r in rows:
        summary[r["verdict"]] = summary.get(r["verdict"], 0) + 1
    result.update(
        {
            "percent_base": spec.params["percent_base"],
            "percent_base_value": pbase,
            "lines": rows,
            "summary": summary,
            "verdict": rows[0]["verdict"] if len(summary) == 1 else "mixed",
        }
    )
    return result
