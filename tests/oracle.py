"""An independent recount of the marks on the papers, for sample sittings.

It shares no code with server/core/kinds: it counts what each acknowledged paper says, per
line, from the public ballot definition alone (docs/ballot-kinds.md). The result lines the
server published must carry exactly these counts; a tally that drops, doubles or misfiles a
mark fails the comparison even when the simulator (which recounts with the server's own code)
agrees with the server.
"""

from __future__ import annotations

import unicodedata
from fractions import Fraction
from typing import Any

MARKS = ("for", "against", "abstain")
GRADES = ("satisfied", "basically_satisfied", "dissatisfied")


def _person(typed: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", typed).split())


def _appointment(ballot: dict[str, Any], papers: list[Any]) -> dict[str, Any]:
    ids = [n["id"] for n in ballot["nominees"]]
    papers = [{ids[0]: p} if isinstance(p, str) else p for p in papers]
    return {x: {m: sum(1 for p in papers if p.get(x) == m) for m in MARKS} for x in ids}


def _election(ballot: dict[str, Any], papers: list[Any]) -> dict[str, Any]:
    ids = [c["id"] for c in ballot["candidates"]]
    out: dict[str, Any] = {x: dict.fromkeys(MARKS, 0) for x in ids}
    written: dict[str, int] = {}
    for paper in papers:
        if sum(1 for v in paper.values() if v == "for" or isinstance(v, dict)) > ballot["seats"]:
            continue  # more names than seats: the whole paper is invalid
        for cid, value in paper.items():
            if isinstance(value, dict):
                out[cid][value["mark"]] += 1
                name = _person(value["write_in"])
                written[name] = written.get(name, 0) + 1
            else:
                out[cid][value] += 1
    for name, n in written.items():
        out["write_in:" + name] = {"for": n}
    return out


def _selection(ballot: dict[str, Any], papers: list[Any]) -> dict[str, Any]:
    return {c["id"]: {"for": sum(1 for p in papers if c["id"] in p)} for c in ballot["candidates"]}


def _evaluation(ballot: dict[str, Any], papers: list[Any]) -> dict[str, Any]:
    ids = [s["id"] for s in ballot["subjects"]]
    papers = [{ids[0]: p} if isinstance(p, str) else p for p in papers]
    return {s: {g: sum(1 for p in papers if p.get(s) == g) for g in GRADES} for s in ids}


def _score(ballot: dict[str, Any], papers: list[Any]) -> dict[str, Any]:
    out = {}
    for s in ballot["subjects"]:
        marks = [Fraction(str(p[s["id"]])) for p in papers if s["id"] in p]
        out[s["id"]] = {"count": len(marks), "sum": sum(marks, Fraction(0))}
    return out


RECOUNT = {
    "motion": lambda ballot, papers: {ballot["id"]: {m: sum(1 for p in papers if p == m) for m in MARKS}},
    "appointment": _appointment,
    "election": _election,
    "selection": _selection,
    "evaluation": _evaluation,
    "score": _score,
}


def recount(ballot: dict[str, Any], papers: list[Any]) -> dict[str, Any]:
    """line id -> what the papers say on that line."""
    return RECOUNT[ballot.get("kind", "motion")](ballot, papers)


def published(result: dict[str, Any]) -> dict[str, Any]:
    """The same projection of the server's result."""
    if result["kind"] == "score":
        return {line["id"]: {"count": line["count"], "sum": Fraction(str(line["sum"]))} for line in result["lines"]}
    return {line["id"]: line["counts"] for line in result["lines"]}
