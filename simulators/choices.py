"""Valid choices for each ballot kind, drawn from the ballot as clients see it.

Simulators vote like members: they read the public ballot (docs/protocol.md) and pick a
choice the ballot accepts. ``pattern`` steers motions: "random", an option name for
everyone, or weights such as "for=3,against=1,abstain=1".
"""
from __future__ import annotations

import random
from typing import Any, Callable

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


GENERATORS: dict[str, Generator] = {"motion": motion}


def random_choice(ballot: dict[str, Any], rng: random.Random, pattern: str = "random") -> Any:
    try:
        gen = GENERATORS[ballot["kind"]]
    except KeyError:
        raise ValueError(f"the simulator cannot vote in a {ballot['kind']!r} ballot") from None
    return gen(ballot, rng, pattern)
