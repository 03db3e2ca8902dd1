"""Valid choices for each ballot kind, drawn from the ballot as clients see it.

Simulators vote like members: they read the public ballot (docs/protocol.md) and pick a
choice the ballot accepts. ``pattern`` steers motions: "random", an option name for
everyone, or weights such as "for=3,against=1,abstain=1".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

Generator = Callable[[dict[str, Any], random.Random, str], Any]


def _weighted(options: list[str], rng: random.Random, pattern: str) -> str:
    if pattern in options:
        return pattern
    weights = {o: 1.0 for o in options}
    if "=" in pattern:
        weights = {o: 0.0 for o in options}
        for part in pattern.split(","):
            name, _, w = part.partition("=")
            if name.strip() in weights:
                weights[name.strip()] = float(w)
    return rng.choices(options, [weights[o] for o in options])[0]


def motion(ballot: dict[str, Any], rng: random.Random, pattern: str) -> Any:
    return _weighted(list(ballot.get("options", ["for", "against", "abstain"])), rng, pattern)


MARKS = ["for", "against", "abstain"]
GRADES = ["satisfied", "basically_satisfied", "dissatisfied"]
WRITE_IN_NAMES = ["赵立新", "钱文华", "Alex Morgan", "孙　海燕"]  # one with a full-width space


def appointment(ballot: dict[str, Any], rng: random.Random, pattern: str) -> Any:
    nominees = [n["id"] for n in ballot["nominees"]]
    if len(nominees) == 1:
        return _weighted(MARKS, rng, pattern)
    paper = {n: _weighted(MARKS, rng, pattern) for n in nominees}
    if rng.random() < 0.1:  # now and then a nominee is left unanswered on a joint paper
        paper.pop(rng.choice(nominees))
    return paper


def election(ballot: dict[str, Any], rng: random.Random, pattern: str) -> Any:
    seats = ballot["seats"]
    paper: dict[str, Any] = {}
    fors = 0
    for cand in ballot["candidates"]:
        mark = _weighted(MARKS, rng, pattern)
        if mark == "for" and fors >= seats and rng.random() > 0.05:
            mark = "against"  # most voters respect the seat count; a few spoil their paper
        fors += mark == "for"
        if mark == "against" and ballot.get("write_ins", True) and rng.random() < 0.15:
            paper[cand["id"]] = {"mark": "against", "write_in": rng.choice(WRITE_IN_NAMES)}
            continue
        paper[cand["id"]] = mark
    names = [w["write_in"] for w in paper.values() if isinstance(w, dict)]
    if len(set(n.replace("　", " ") for n in names)) != len(names):  # one person once per paper
        for cid, mark in paper.items():
            if isinstance(mark, dict):
                paper[cid] = "against"
    return paper


def selection(ballot: dict[str, Any], rng: random.Random, pattern: str) -> Any:
    ids = [c["id"] for c in ballot["candidates"]]
    k = ballot["seats"]
    size = k if ballot.get("exact") else rng.randint(0, k)
    return sorted(rng.sample(ids, size), key=ids.index)


def evaluation(ballot: dict[str, Any], rng: random.Random, pattern: str) -> Any:
    subjects = [s["id"] for s in ballot["subjects"]]
    if len(subjects) == 1 and rng.random() < 0.5:
        return _weighted(GRADES, rng, pattern)
    paper: dict[str, Any] = {s: _weighted(GRADES, rng, pattern) for s in subjects}
    if rng.random() < 0.05:  # a forgotten item is invalid for that item only
        paper.pop(rng.choice(subjects))
    return paper


def score(ballot: dict[str, Any], rng: random.Random, pattern: str) -> Any:
    paper: dict[str, Any] = {}
    for sub in ballot["subjects"]:
        step = sub.get("step", 1)
        steps = round((sub["max"] - sub["min"]) / step)
        value = sub["min"] + rng.randint(0, steps) * step
        paper[sub["id"]] = int(value) if float(value).is_integer() else round(value, 6)
    return paper


GENERATORS: dict[str, Generator] = {
    "motion": motion,
    "appointment": appointment,
    "election": election,
    "selection": selection,
    "evaluation": evaluation,
    "score": score,
}


def random_choice(ballot: dict[str, Any], rng: random.Random, pattern: str = "random") -> Any:
    try:
        gen = GENERATORS[ballot["kind"]]
    except KeyError:
        raise ValueError(f"the simulator cannot vote in a {ballot['kind']!r} ballot") from None
    return gen(ballot, rng, pattern)
