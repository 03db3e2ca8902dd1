"""Selection (评选): choose at most ``seats`` of the candidates; ranked by votes.

Unlike an election, a paper choosing too many is REFUSED at cast time
(``invalid_choice``): the screen enforces the limit, a selection has no legal notion of
a spoilt paper, and refusing tells the voter at once instead of silently wasting the
paper. With ``exact = true`` a paper must choose exactly ``seats``.

Selected: among the top ``seats`` by votes, with at least ``minimum`` votes and passing
the ballot rule (default: no threshold). Equal votes straddling the last place select
nobody in the tied group: the result reports the tie for people to resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..bounds import MAX_COUNT, shown
from ..errors import CommandError
from ..rules import Threshold
from .common import Turnout, base_value, check_seats_and_candidates, entries_ok, envelope, pick, ranks, whole

PARAM_KEYS = ("seats", "exact", "minimum", "candidates")
# "for >= 0": no threshold unless the agenda gives a rule (e.g. majority_of_all).
DEFAULT_RULE = {"option": "for", "cmp": ">=", "fraction": "0", "base": "seated", "constant": 0}
SECRET_BY_DEFAULT = True
KEYPAD_OK = False


def check_params(params: Mapping[str, Any], rule: Threshold) -> list[str]:
    problems = check_seats_and_candidates(params, rule, "a selection")
    if not isinstance(params.get("exact", False), bool):
        problems.append("exact: must be true or false")
    minimum = params.get("minimum", 0)
    if not whole(minimum) or not 0 <= minimum <= MAX_COUNT:
        problems.append(f"minimum: must be a whole number from 0 to {MAX_COUNT}")
    return problems


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    if not entries_ok(params.get("candidates")):
        return dict(params)
    return {
        "seats": params.get("seats"),
        "exact": params.get("exact", False),
        "minimum": params.get("minimum", 0),
        "candidates": [{"id": c["id"], "name": c.get("name", "")} for c in params["candidates"]],
    }


def keypad_ok(spec: Any) -> bool:
    return False


def keypad_options(spec: Any) -> list[str]:
    return []


def normalize_choice(spec: Any, raw: Any) -> list[str]:
    """The chosen candidate ids, in the order of the candidate list (an empty list is a blank paper)."""
    ids = [c["id"] for c in spec.params["candidates"]]
    seats = spec.params["seats"]
    if not isinstance(raw, list):
        raise CommandError("invalid_choice", "choice must be a list of candidate ids")
    chosen: set[str] = set()
    for cid in raw:
        if not isinstance(cid, str) or cid not in ids:
            raise CommandError("invalid_choice", f"no candidate {shown(cid)} on this ballot")
        if cid in chosen:
            raise CommandError("invalid_choice", f"{shown(cid)} is chosen twice")
        chosen.add(cid)
    if len(chosen) > seats:
        raise CommandError("invalid_choice", f"choose at most {seats}, not {len(chosen)}")
    if spec.params["exact"] and len(chosen) != seats:
        raise CommandError("invalid_choice", f"choose exactly {seats}, not {len(chosen)}")
    return [cid for cid in ids if cid in chosen]


def tally(spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]:
    seats, minimum = spec.params["seats"], spec.params["minimum"]
    votes = {c["id"]: 0 for c in spec.params["candidates"]}
    for choice in choices:
        for cid in choice:
            votes[cid] += 1
    rank = ranks(votes)
    rows: list[dict[str, Any]] = []
    for c in spec.params["candidates"]:
        counts = {"for": votes[c["id"]]}
        base = base_value(spec.rule, turnout, {"for": len(choices)})
        needed = max(minimum, spec.rule.needed(base))
        eligible = votes[c["id"]] >= minimum and spec.rule.passes(votes[c["id"]], base)
        rows.append(
            {
                "id": c["id"],
                "label": c["name"],
                "counts": counts,
                "rank": rank[c["id"]],
                "base_value": base,
                "needed": needed,
                "eligible": eligible,
            }
        )
    ranked = sorted(((r["id"], r["counts"]["for"]) for r in rows if r["eligible"]), key=lambda p: -p[1])
    winners, tied, tied_seats = pick(ranked, seats)
    for r in rows:
        r["selected"] = r["id"] in winners
        r["tied"] = r["id"] in tied
        r["verdict"] = "selected" if r["selected"] else "tie" if r["tied"] else "not_selected"
    rows.sort(key=lambda r: r["rank"])  # stable: equal ranks keep the candidate order
    result = envelope("selection", turnout, spec.rule)
    result.update(
        {
            "seats": seats,
            "minimum": minimum,
            "lines": rows,
            "selected": [r["id"] for r in rows if r["selected"]],
            "tie": {"seats": tied_seats, "candidates": [r["id"] for r in rows if r["tied"]]} if tied else None,
            "verdict": "tie" if tied else "decided",
        }
    )
    return result
