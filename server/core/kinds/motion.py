"""Motion vote (表决): for / against / abstain, one verdict under the ballot's rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..bounds import shown
from ..errors import CommandError
from ..rules import Threshold
from .common import MOTION_OPTIONS, Turnout, envelope, judge

PARAM_KEYS = ("options",)
DEFAULT_RULE = None  # the meeting's default rule
SECRET_BY_DEFAULT = False
KEYPAD_OK = True  # some ballot of this kind can be voted on a keypad; see keypad_ok(spec)


def keypad_ok(spec: Any) -> bool:
    """Every motion can be voted with the three keys of a wired keypad."""
    return True


def keypad_options(spec: Any) -> list[str]:
    """The plain choices a keypad's keys send, in key order."""
    return list(spec.params["options"])


def check_params(params: Mapping[str, Any], rule: Threshold) -> list[str]:
    problems = []
    options = params.get("options", list(MOTION_OPTIONS))
    if (
        not isinstance(options, list)
        or not options
        or any(o not in MOTION_OPTIONS for o in options)
        or len(set(options)) != len(options)
    ):
        problems.append(f"options: must be a list drawn from {', '.join(MOTION_OPTIONS)} without repeats")
    elif rule.option not in options:
        problems.append(f"options: the rule counts {shown(rule.option)}, which is not an option")
    return problems


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Called only once ``check_params`` found nothing wrong: ``options`` is a list."""
    return {"options": list(params.get("options", MOTION_OPTIONS))}


def normalize_choice(spec: Any, raw: Any) -> str:
    if not isinstance(raw, str) or raw not in spec.params["options"]:
        raise CommandError("invalid_choice", f"choice must be one of {', '.join(spec.params['options'])}")
    return raw


def tally(spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]:
    counts = {o: 0 for o in spec.params["options"]}
    for choice in choices:
        counts[choice] += 1
    line = {"id": spec.id, "label": spec.title, "counts": counts, **judge(spec.rule, counts, turnout)}
    result = envelope("motion", turnout, spec.rule)
    result["lines"] = [line]
    result["verdict"] = line["verdict"]
    return result
