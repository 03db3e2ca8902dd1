"""Election (选举): fill ``seats`` from ``candidates``, with write-ins (另选他人).

Rules this module encodes (docs/ballot-kinds.md):

- per candidate the voter marks for / against / abstain, or leaves the candidate blank;
- only a voter AGAINST a candidate may write in another person; a write-in next to
  for or abstain is refused (``write_in_not_allowed``) so the voter can correct it;
- a paper with more "for" marks than seats (a write-in is a "for" the person written
  in) is a spoilt paper (废票): it is ACCEPTED and stored like any other, and the tally
  counts it as invalid. Refusing it would take away the voter's right to spoil a paper
  and would make the electronic count differ from the paper rule;
- elected: ``for`` passes the ballot rule (preset: more than half of all seated
  members); if more pass than seats, the highest counts win; equal counts straddling
  the last seat, or too few passing, leave seats for a further round (再次投票), whose
  ballot ``further_round`` writes out for the clerk to create.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from ..errors import CommandError
from ..rules import Threshold
from .common import (
    MOTION_OPTIONS,
    Turnout,
    check_seats_and_candidates,
    entries_ok,
    envelope,
    has_cjk,
    pick,
    ranks,
    whole,
)

PARAM_KEYS = ("seats", "candidates", "write_ins", "round")
DEFAULT_RULE = "majority_of_all"
SECRET_BY_DEFAULT = True
KEYPAD_OK = True  # only for one candidate without write-ins: ask keypad_ok(spec)
MAX_NAME = 40
WRITE_IN_PREFIX = "write_in:"


def normalize_name(raw: str) -> str:
    """A typed name in one canonical form: NFKC folds full/half-width, spaces collapse.

    So "Ｗａｎｇ  Wu", "Wang Wu" and " Wang　Wu " are the same person in the count.
    """
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def check_params(params: Mapping[str, Any], rule: Threshold) -> list[str]:
    problems = check_seats_and_candidates(params, rule, "an election")
    if not isinstance(params.get("write_ins", True), bool):
        problems.append("write_ins: must be true or false")
    rnd = params.get("round", 1)
    if not whole(rnd) or rnd < 1:
        problems.append("round: must be a whole number of at least 1")
    return problems


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    if not entries_ok(params.get("candidates")):
        return dict(params)
    return {
        "seats": params.get("seats"),
        "candidates": [{"id": c["id"], "name": c.get("name", "")} for c in params["candidates"]],
        "write_ins": params.get("write_ins", True),
        "round": params.get("round", 1),
    }


def keypad_ok(spec: Any) -> bool:
    """Three keys suffice only for one candidate and no write-ins."""
    return len(spec.params["candidates"]) == 1 and not spec.params["write_ins"]


def keypad_options(spec: Any) -> list[str]:
    return list(MOTION_OPTIONS) if keypad_ok(spec) else []


def _refuse(message: str) -> CommandError:
    return CommandError("invalid_choice", message)


def _write_in(spec: Any, cid: str, mark: Any, raw_name: Any, names: set[str]) -> str:
    if not isinstance(raw_name, str):
        raise _refuse(f"the write-in next to {cid!r} must be a name")
    name = normalize_name(raw_name)
    if not name:
        return ""
    if not spec.params["write_ins"]:
        raise CommandError("write_in_not_allowed", "this election takes no write-ins")
    if mark != "against":
        raise CommandError(
            "write_in_not_allowed",
            f"only a voter against {cid!r} may write in another person (另选他人), not one who votes {mark}",
        )
    if len(name) > MAX_NAME or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise _refuse(f"the write-in next to {cid!r} is not a plausible name")
    if name in {normalize_name(c["name"]) for c in spec.params["candidates"]}:
        raise _refuse(f'{name} is a candidate on this ballot: mark them "for" instead of writing them in')
    if name in names:
        raise _refuse(f"{name} is written in twice")
    names.add(name)
    return name


def normalize_choice(spec: Any, raw: Any) -> dict[str, Any]:
    """``{candidate_id: mark}`` or ``{candidate_id: {"mark": "against", "write_in": name}}``.

    Over-votes are NOT refused here (see the module docstring): they are counted invalid.
    """
    ids = [c["id"] for c in spec.params["candidates"]]
    if isinstance(raw, str) and len(ids) == 1:
        raw = {ids[0]: raw}
    if not isinstance(raw, Mapping):
        raise _refuse("choice must map candidate ids to for, against or abstain")
    out: dict[str, Any] = {}
    names: set[str] = set()
    for cid in sorted(raw, key=lambda k: ids.index(k) if k in ids else -1):
        value = raw[cid]
        if cid not in ids:
            raise _refuse(f"no candidate {cid!r} on this ballot")
        write_in: Any = ""
        if isinstance(value, Mapping):
            if set(value) - {"mark", "write_in"}:
                raise _refuse(f"the choice for {cid!r} may only hold mark and write_in")
            mark, write_in = value.get("mark"), value.get("write_in", "")
        else:
            mark = value
        if mark is None and not write_in:
            continue  # left blank
        if mark not in MOTION_OPTIONS:
            raise _refuse(f"the mark for {cid!r} must be one of {', '.join(MOTION_OPTIONS)}")
        name = _write_in(spec, cid, mark, write_in, names) if write_in is not None else ""
        out[cid] = {"mark": mark, "write_in": name} if name else mark
    return out


def for_marks(choice: Mapping[str, Any]) -> int:
    """How many people a paper votes for: "for" marks plus write-ins."""
    return sum(1 for v in choice.values() if v == "for" or isinstance(v, Mapping))


def _base(rule: Threshold, turnout: Turnout, valid: int, abstain: int) -> int:
    if rule.base == "seated":
        return turnout.seated
    if rule.base == "present":
        return turnout.present
    return valid if rule.base == "cast" else valid - abstain


def tally(spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]:
    seats = spec.params["seats"]
    candidates = spec.params["candidates"]
    valid = [c for c in choices if for_marks(c) <= seats]
    counts = {c["id"]: {o: 0 for o in MOTION_OPTIONS} for c in candidates}
    written: dict[str, int] = {}
    for paper in valid:
        for cid, value in paper.items():
            if isinstance(value, Mapping):
                counts[cid][value["mark"]] += 1
                written[value["write_in"]] = written.get(value["write_in"], 0) + 1
            else:
                counts[cid][value] += 1
    rows: list[dict[str, Any]] = [
        {
            "id": c["id"],
            "label": c["name"],
            "write_in": False,
            "counts": counts[c["id"]],
            "unmarked": len(valid) - sum(counts[c["id"]].values()),
        }
        for c in candidates
    ]
    rows += [
        {"id": WRITE_IN_PREFIX + name, "label": name, "write_in": True, "counts": {"for": n}}
        for name, n in sorted(written.items())
    ]
    rank = ranks({r["id"]: r["counts"]["for"] for r in rows})
    for r in rows:
        base = _base(spec.rule, turnout, len(valid), r["counts"].get("abstain", 0))
        r.update(
            base_value=base,
            needed=spec.rule.needed(base),
            passed=spec.rule.passes(r["counts"]["for"], base),
            rank=rank[r["id"]],
        )
    eligible = sorted((r for r in rows if r["passed"]), key=lambda r: -r["counts"]["for"])
    winners, tied, tied_seats = pick([(r["id"], r["counts"]["for"]) for r in eligible], seats)
    further: dict[str, Any] | None = None
    if tied:
        further = {
            "reason": "tie_at_last_seat",
            "seats": tied_seats,
            "candidates": [{"id": r["id"], "name": r["label"]} for r in rows if r["id"] in tied],
        }
    elif len(winners) < seats:
        # in the order of the paper, not by votes: a further round's paper lists them as the first did
        rest = [r for r in rows if not r["write_in"] and r["id"] not in winners]
        further = {
            "reason": "too_few_elected",
            "seats": seats - len(winners),
            "candidates": [{"id": r["id"], "name": r["label"]} for r in rest],
        }
    for r in rows:
        r["elected"] = r["id"] in winners
        r["tied"] = r["id"] in tied
        r["verdict"] = "elected" if r["elected"] else "tie" if r["tied"] else "not_elected"
    result = envelope("election", turnout, spec.rule, invalid=len(choices) - len(valid))
    result.update(
        {
            "valid": len(valid),
            "seats": seats,
            "round": spec.params["round"],
            "contest": "competitive" if len(candidates) > seats else "uncontested",
            "lines": rows,
            "elected": [r["id"] for r in rows if r["elected"]],
            "seats_filled": len(winners),
            "further_round": further,
            "verdict": "further_round_needed" if further else "elected",
        }
    )
    return result


def _next_candidates(listed: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The next paper's candidates in the order given; a write-in (id ``write_in:<name>``)
    becomes a candidate with a plain id ``w1``, ``w2``… so ids stay short and simple."""
    taken = {str(c["id"]) for c in listed}
    out: list[dict[str, Any]] = []
    n = 0
    for c in listed:
        ident = str(c["id"])
        if ident.startswith(WRITE_IN_PREFIX):
            n += 1
            while f"w{n}" in taken:
                n += 1
            ident = f"w{n}"
            taken.add(ident)
        out.append({"id": ident, "name": c["name"]})
    return out


def further_round(spec: Any, result: Mapping[str, Any]) -> dict[str, Any]:
    """The next round's ballot as an agenda-style definition, for ``CreateBallot``.

    Same rule, secrecy and write-in setting; the tied (or not yet elected) candidates;
    the seats still empty; ``round + 1``; id ``<first round id>-r<round>``. The clerk may
    edit the list (e.g. to apply a 差额 ratio) before creating it.
    """
    need = result.get("further_round")
    if not need:
        raise ValueError("this election result needs no further round")
    rnd = spec.params["round"] + 1
    base_id = re.sub(r"-r\d+$", "", spec.id)
    base_title = re.sub(r"(（第\d+轮）| — round \d+)$", "", spec.title)
    title = f"{base_title}（第{rnd}轮）" if has_cjk(base_title) else f"{base_title} — round {rnd}"
    out: dict[str, Any] = {
        "id": f"{base_id}-r{rnd}",
        "title": title,
        "kind": "election",
        "seats": need["seats"],
        "candidates": _next_candidates(need["candidates"]),
        "write_ins": spec.params["write_ins"],
        "round": rnd,
        "rule": spec.rule.to_dict(),
        "secret": spec.secret,
        "live_counts": spec.live_counts,
        "allow_change": spec.allow_change,
        "reveal": spec.reveal,
    }
    if spec.countdown is not None:
        out["countdown"] = spec.countdown
    return out
