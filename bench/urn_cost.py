#!/usr/bin/env python3
"""What secret ballots' storage costs on the vote path: this tree against a baseline tree.

The store's commit is what a vote waits for after it is decided. For a secret ballot this
tree encrypts each choice (AES-256-GCM, padded to 1 KiB, base64) before the INSERT and, at
the close, rewrites the ballot's rows in the clear in one transaction (the seal). Measured
directly on `SQLStore` (SQLite file, WAL, synchronous=FULL), in a child process per tree so
each imports its own `server` package, alternating trees round by round:

* one vote per commit (members voting one at a time): commit wall time p50/p99;
* a burst of N votes in one commit: commit wall time and the writer thread's CPU time;
* the seal of an N-vote ballot: wall time.

    .venv/bin/python bench/urn_cost.py --base /tmp/base            # a checkout of main there
    .venv/bin/python bench/urn_cost.py --base /tmp/base --votes 3000 --rounds 5 --no-doc
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(votes: int, singles: int) -> dict:
    """Run in a tree's own interpreter: time commits and the seal on a fresh SQLite store."""
    from server.core.chain import GENESIS, make_entry
    from server.store.base import Batch, Participation, UrnEntry
    from server.store.sql import SQLStore

    tmp = Path(tempfile.mkdtemp(prefix="urn-cost-"))
    store = SQLStore(str(tmp / "s.db"))
    seq, prev = 0, GENESIS

    def batch(ballot: str, members: range) -> Batch:
        nonlocal seq, prev
        out = Batch()
        for m in members:
            seq += 1
            entry = make_entry(prev, seq, "vote.cast", {"ballot": ballot, "member": f"m{m}", "choice": None})
            prev = entry.hash
            out.entries.append(entry)
            out.participations.append(Participation(ballot, 1, f"m{m}", seq))
            out.urn_puts.append(UrnEntry(os.urandom(16).hex(), ballot, 1, '"for"'))
        return out

    if hasattr(store, "prepare_urn"):
        store.prepare_urn("one", 1, 64)
    single = []
    for m in range(singles):
        b = batch("one", range(m, m + 1))
        t = time.perf_counter()
        store.commit(b)
        single.append(time.perf_counter() - t)
    b = batch("burst", range(votes))
    if hasattr(store, "prepare_urn"):
        store.prepare_urn("burst", 1, 64)  # what the sitting does when a motion opens
    t, c = time.perf_counter(), time.thread_time()
    store.commit(b)
    burst_wall, burst_cpu = time.perf_counter() - t, time.thread_time() - c
    t = time.perf_counter()
    store.seal_ballot("burst", 1)
    seal = time.perf_counter() - t
    store.close()
    q = statistics.quantiles(single, n=100)
    return {"p50": q[49], "p99": q[98], "burst_wall": burst_wall, "burst_cpu": burst_cpu, "seal": seal}


def run_tree(tree: Path, votes: int, singles: int) -> dict:
    code = f"import json, sys; sys.path.insert(0, {str(tree)!r}); sys.path.insert(1, {str(ROOT / 'bench')!r}); "
    code += f"from urn_cost import child; print(json.dumps(child({votes}, {singles})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tree, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True, help="a source tree to compare with (e.g. a checkout of main)")
    p.add_argument("--votes", type=int, default=3000)
    p.add_argument("--singles", type=int, default=200, help="one-vote commits per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.record import append_section, machine

    machine_line = machine()
    trees = {"baseline": Path(args.base).resolve(), "this tree": ROOT}
    rows: dict[str, list[dict]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            rows[name].append(run_tree(tree, args.votes, args.singles))
            print(f"round {r + 1} {name}: {rows[name][-1]}", flush=True)

    def med(name: str, key: str) -> float:
        return statistics.median(row[key] for row in rows[name]) * 1000

    lines = [
        "| tree | one vote per commit p50 / p99 | "
        f"{args.votes:,}-vote commit wall / writer CPU | seal of {args.votes:,} votes |",
        "|---|---:|---:|---:|",
    ]
    for name in trees:
        lines.append(
            f"| {name} | {med(name, 'p50'):.2f} / {med(name, 'p99'):.2f} ms | "
            f"{med(name, 'burst_wall'):.1f} / {med(name, 'burst_cpu'):.1f} ms | {med(name, 'seal'):.1f} ms |"
        )
    ratio = med("this tree", "burst_cpu") / max(med("baseline", "burst_cpu"), 1e-9)
    lines += ["", f"- writer CPU per {args.votes:,}-vote commit, this tree / baseline: **{ratio:.2f}**"]
    body = "\n".join(lines)
    print(body)
    if not args.no_doc:
        append_section(
            "Secret urn: encryption while open, seal at close",
            body,
            packages=("cryptography",),
            intro=(
                f"`SQLStore` on an SQLite file (WAL, synchronous=FULL), each tree in its own process, alternating, "
                f"{args.rounds} rounds, medians. Baseline: `{args.base}`. bench/urn_cost.py."
            ),
            machine_line=machine_line,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
