"""Summarise mutmut's results (`make mutation-report`): per module, how many mutants were
killed, survived, or not yet checked, and the names of the survivors (`mutmut show NAME`
prints one). docs/benchmarks.md, "Mutation testing", explains each accepted survivor.

``--survivors [PATTERN...]`` prints only the survivors' names (those matching a shell-style
PATTERN, e.g. ``server.core.meeting*``), for `make mutation-confirm`; ``--unsettled`` adds
the mutants not yet run or run without tests (to finish a run interrupted by its time bound
without re-running what is settled: mutmut re-runs every mutant a pattern names)."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 37}  # a test failed (or pytest broke, or the type checker caught it)
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {-24, 24, 36, 152, 255}  # ran out of CPU time: counted as killed by mutmut, listed here


def survivor_names(patterns: list[str], codes: set[int | None] | None = None) -> list[str]:
    wanted: set[int | None] = set(SURVIVED) if codes is None else codes
    names = []
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items():
            if code in wanted and (not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)):
                names.append(name)
    return names


def main() -> int:
    if sys.argv[1:2] == ["--survivors"]:
        print("\n".join(survivor_names(sys.argv[2:])))
        return 0
    if sys.argv[1:2] == ["--unsettled"]:  # survivors, and what has not run (or had no tests) yet
        print("\n".join(survivor_names(sys.argv[2:], {*SURVIVED, *NO_TESTS, None})))
        return 0
    metas = sorted(Path("mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutation results yet: run `make mutation`", file=sys.stderr)
        return 1
    survivors: list[str] = []
    print(
        f"{'module':44} {'mutants':>8} {'killed':>7} {'timeout':>8} {'survived':>9} {'no tests':>9} {'unchecked':>10}"
    )
    for meta in metas:
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        if not codes:
            continue
        tally: Counter[str] = Counter()
        for name, code in codes.items():
            kind = (
                "killed"
                if code in KILLED
                else "survived"
                if code in SURVIVED
                else "no tests"
                if code in NO_TESTS
                else "timeout"
                if code in TIMEOUT
                else "unchecked"
                if code is None
                else "other"
            )
            tally[kind] += 1
            if kind == "survived":
                survivors.append(name)
        module = str(meta.relative_to("mutants"))[: -len(".meta")]
        print(
            f"{module:44} {len(codes):>8} {tally['killed']:>7} {tally['timeout']:>8} {tally['survived']:>9} "
            f"{tally['no tests']:>9} {tally['unchecked']:>10}"
        )
    if survivors:
        print("\nsurvivors (`mutmut show NAME`):")
        for name in survivors:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
