"""pytest fixtures; the helpers themselves live in tests/support.py.

Mutation runs (`make mutation`, docs/testing.md) set ``HEMICYCLE_MUTATION_EXAMPLES=N``: every
property test then tries at most N examples, derandomized (the same N every run, so a
mutant's verdict does not depend on luck), and runs after the example-based tests, so a
mutant that a plain test catches is killed in milliseconds instead of after the property
tests' seconds (fastest first, by the durations of mutmut's own clean run); a failing
example is not shrunk; systematic sweeps take every third value (``tests.fuzzing.spread``).
`make test` never sets it; `make mutation-confirm` runs the survivors of this quick pass
again with the full examples.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import Phase, settings

from tests.support import live  # noqa: F401

MUTATION_EXAMPLES = os.environ.get("HEMICYCLE_MUTATION_EXAMPLES")

if MUTATION_EXAMPLES:
    # no shrinking: a mutant is killed by any failing example, and shrinking one costs seconds
    settings.register_profile(
        "mutation",
        max_examples=int(MUTATION_EXAMPLES),
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )
    settings.load_profile("mutation")


def _durations() -> dict[str, float]:
    """How long each test took in mutmut's own clean run (mutants/mutmut-stats.json), if any."""
    stats = Path("mutmut-stats.json")
    if not (MUTATION_EXAMPLES and stats.exists()):
        return {}
    try:
        return dict(json.loads(stats.read_text()).get("duration_by_test", {}))
    except ValueError:
        return {}


DURATIONS = _durations()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    if MUTATION_EXAMPLES:  # example-based tests first, fastest first: most mutants die on one of them
        items.sort(
            key=lambda item: (
                bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False)),
                DURATIONS.get(item.nodeid, 0.0),
            )
        )
