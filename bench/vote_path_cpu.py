#!/usr/bin/env python3
"""CPU per vote on the event loop, without the network: decide, ledger, apply, queue, commit.

Why: the vote burst (bench/vote_burst.py) measures what a seat sees, which on a shared
2-core machine swings with whatever else runs. This measures only the server's own work
for a vote — ``Sitting.request`` for 3,000 casts in a row on an in-memory store, then the
commit and the 3,000 replies — so a change to the vote path can be compared with the code
before it: ``--against DIR`` runs the same measurement in another checkout (with its own
``.venv``), in the same run, alternating, and prints both.

    .venv/bin/python bench/vote_path_cpu.py --no-doc
    .venv/bin/python bench/vote_path_cpu.py --against /work/baseline      # e.g. a git worktree of main

Bounded: --rounds ballots (default 10) of --seats casts (default 3,000), each round timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the checkout being measured, so it adapts to the two layouts of the sitting.
CHILD = r"""
import asyncio, gc, json, statistics, sys, time
sys.path.insert(0, ".")
from server.core import commands as c
from server.store.memory import MemoryStore
from tests.support import make_agenda
try:
    from server.live.sitting import Sitting
    async def started(agenda):
        s = Sitting(MemoryStore(), agenda)
        await s.start()
        return s
except ImportError:  # before the restructure
    from server.sitting import Sitting
    async def started(agenda):
        return await Sitting.start(MemoryStore(), agenda)

SEATS, ROUNDS = int(sys.argv[1]), int(sys.argv[2])

async def main():
    agenda = make_agenda(SEATS, ballots=[{"id": f"b{i}", "title": "x"} for i in range(ROUNDS)])
    s = await started(agenda)
    for m in agenda.members:
        await s.execute(c.SetAttendance(m.id, "present"))
    decide, total = [], []
    for r in range(ROUNDS):
        await s.execute(c.OpenBallot(f"b{r}"))
        gc.collect()
        gc.disable()
        done = [0]
        def reply(outcome, exc):
            done[0] += 1
        t0 = time.perf_counter()
        for m in agenda.members:
            s.request(c.Cast(m.id, f"b{r}", "for", f"k{r}-{m.id}"), None, reply)
        t1 = time.perf_counter()
        while done[0] < SEATS:
            await asyncio.sleep(0)
        t2 = time.perf_counter()
        gc.enable()
        decide.append((t1 - t0) * 1e6 / SEATS)
        total.append((t2 - t0) * 1e6 / SEATS)
        await s.execute(c.CloseBallot(f"b{r}"))
    await s.stop()
    print(json.dumps({"decide": statistics.median(decide), "total": statistics.median(total)}))

asyncio.run(main())
"""


def measure(checkout: Path, seats: int, rounds: int) -> dict[str, float]:
    python = checkout / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", CHILD, str(seats), str(rounds)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seats", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3, help="runs per checkout, alternating (median reported)")
    p.add_argument("--against", type=Path, help="another checkout (with its own .venv) to measure in the same run")
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.record import append_section, machine

    started = machine()
    checkouts = [("this tree", ROOT)] + ([(f"`{args.against}`", args.against)] if args.against else [])
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in checkouts}
    for _ in range(args.repeat):
        for name, path in checkouts:
            runs[name].append(measure(path, args.seats, args.rounds))
    rows = ["| code | decide + ledger + apply + queue, µs/vote | with commit and replies, µs/vote |", "|---|---:|---:|"]
    for name, results in runs.items():
        d = statistics.median(r["decide"] for r in results)
        t = statistics.median(r["total"] for r in results)
        rows.append(f"| {name} | {d:.2f} | {t:.2f} |")
    body = "\n".join(rows) + "\n"
    print(body)
    if not args.no_doc:
        append_section(
            "Vote path CPU (no network)",
            body,
            intro=f"{args.seats} casts per ballot, {args.rounds} ballots, median of {args.repeat} runs each, "
            "MemoryStore, garbage collection off while casting (as during a ballot).",
            machine_line=started,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
