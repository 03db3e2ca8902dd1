"""Appointment and removal vote (人事任免): one verdict per nominee under the motion rule.

Two ways to vote a list of nominees:

- ``mode = "each"`` (逐人表决, the default): ``expand`` turns the definition into one
  ballot per nominee, ``<id>-<nominee id>``, so each person is opened, closed and
  announced on their own, and a three-key keypad can vote it;
- ``mode = "together"`` (合并表决): one paper listing everyone; each nominee still gets
  their own for/against/abstain and their own verdict, and a voter may leave a nominee
  unanswered (counted as not voted for that nominee).

The choice is always stored as ``{nominee_id: "for" | "against" | "abstain"}`` so a
recount never needs to know which mode produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..bounds import shown
from ..errors import CommandError
from ..rules import Threshold
from .common import MOTION_OPTIONS, Turnout, check_entries, entries_ok, envelope, has_cjk, judge

PARAM_KEYS = ("nominees", "mode")
DEFAULT_RULE = "majority_of_all"  # standing committees: more than half of ALL members
SECRET_BY_DEFAULT = False
KEYPAD_OK = True  # true for single-nominee ballots only: ask keypad_ok(spec)
MODES = ("each", "together")
ACTIONS = ("appoint", "remove")


def expand(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Mode "each": one ballot per nominee, ``<id>-<nominee id>``, titled with name and post.

    A definition too broken to split is returned whole, so ``check_params`` reports its
    problems against the line the clerk wrote. Expansion happens once, when the agenda is
    validated (the log keeps the definition as written), so it need not be idempotent.
    """
    if raw.get("mode", "each") != "each":
        return [raw]
    nominees, ident, title = raw.get("nominees"), raw.get("id"), raw.get("title")
    if (
        not entries_ok(nominees)
        or not isinstance(ident, str)
        or not isinstance(title, str)
        or _nominee_problems(nominees)
    ):
        return [raw]
    out = []
    for nominee in nominees:
        name, post = str(nominee.get("name", "")), str(nominee.get("post", ""))
        removal = nominee.get("action", "appoint") == "remove"
        if has_cjk(title, name, post):
            label = f"{title}：免去{name}的{post}职务" if removal else f"{title}：任命{name}为{post}"
        else:
            label = f"{title}: remove {name} as {post}" if removal else f"{title}: appoint {name} as {post}"
        out.append(
            {**raw, "id": f"{ident}-{nominee['id']}", "title": label, "nominees": [dict(nominee)], "mode": "each"}
        )
    return out


def _nominee_problems(nominees: Any) -> list[str]:
    """Problems of the nominee list itself, found before a mode "each" list is split."""
    problems = check_entries(nominees, "nominees", ("name", "post"), ("action",))
    if isinstance(nominees, list):
        for i, nominee in enumerate(nominees):
            if isinstance(nominee, Mapping) and nominee.get("action", "appoint") not in ACTIONS:
                problems.append(f"nominees[{i}].action: must be one of {', '.join(ACTIONS)}")
    return problems


def check_params(params: Mapping[str, Any], rule: Threshold) -> list[str]:
    problems = _nominee_problems(params.get("nominees"))
    nominees = params.get("nominees")
    mode = params.get("mode", "each")
    if mode not in MODES:
        problems.append(f"mode: must be one of {', '.join(MODES)}, not {shown(mode)}")
    elif mode == "each" and not problems and isinstance(nominees, list) and len(nominees) > 1:
        # Only reachable through CreateBallot, which does not expand: say what to do.
        problems.append(
            'nominees: mode "each" puts one nominee on each ballot; create one '
            'ballot per nominee, or use mode "together"'
        )
    if rule.option not in MOTION_OPTIONS:
        problems.append(f"rule: counts {shown(rule.option)}, which is not one of {', '.join(MOTION_OPTIONS)}")
    return problems


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    if not entries_ok(params.get("nominees")):
        return dict(params)  # invalid: check_params has reported it, nothing will use this
    nominees = [
        {"id": n["id"], "name": n.get("name", ""), "post": n.get("post", ""), "action": n.get("action", "appoint")}
        for n in params["nominees"]
    ]
    return {"nominees": nominees, "mode": params.get("mode", "each")}


def keypad_ok(spec: Any) -> bool:
    """A keypad's three keys can answer for exactly one nominee."""
    return len(spec.params["nominees"]) == 1


def keypad_options(spec: Any) -> list[str]:
    return list(MOTION_OPTIONS) if keypad_ok(spec) else []


def normalize_choice(spec: Any, raw: Any) -> dict[str, str]:
    """``{nominee_id: option}``; a plain option string is accepted for a single nominee."""
    nominees = [n["id"] for n in spec.params["nominees"]]
    if isinstance(raw, str) and len(nominees) == 1:
        raw = {nominees[0]: raw}
    if not isinstance(raw, Mapping):
        raise CommandError("invalid_choice", "choice must map each nominee id to for, against or abstain")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if key not in nominees:
            raise CommandError("invalid_choice", f"no nominee {shown(key)} on this ballot")
        if value is None:
            continue  # left unanswered
        if value not in MOTION_OPTIONS:
            raise CommandError(
                "invalid_choice", f"the choice for {shown(key)} must be one of {', '.join(MOTION_OPTIONS)}"
            )
        out[key] = value
    if not out and len(nominees) == 1:
        raise CommandError("invalid_choice", f"choice must be one of {', '.join(MOTION_OPTIONS)}")
    return {k: out[k] for k in nominees if k in out}


def tally(spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]:
    lines = []
    for nominee in spec.params["nominees"]:
        counts = {o: 0 for o in MOTION_OPTIONS}
        for choice in choices:
            mark = choice.get(nominee["id"])
            if mark is not None:
                counts[mark] += 1
        lines.append(
            {
                "id": nominee["id"],
                "label": nominee["name"],
                "post": nominee["post"],
                "action": nominee["action"],
                "counts": counts,
                "not_voted": max(0, turnout.present - sum(counts.values())),
                **judge(spec.rule, counts, turnout),
            }
        )
    passed = [line["id"] for line in lines if line["verdict"] == "passed"]
    result = envelope("appointment", turnout, spec.rule)
    result["mode"] = spec.params["mode"]
    result["lines"] = lines
    result["passed"] = passed
    result["failed"] = [line["id"] for line in lines if line["verdict"] != "passed"]
    if len(lines) == 1:
        result["verdict"] = lines[0]["verdict"]
    else:
        result["verdict"] = "passed" if len(passed) == len(lines) else "failed" if not passed else "mixed"
    return result
