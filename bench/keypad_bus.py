"""Keypad bus throughput: measured polling rate against the wire-time limit of the same traffic.

Each simulated line runs in its own process (``python -m simulators.keypads.cli``) behind a
real pty, like an adapter on real hardware, so the master process only does the master's
work. The simulator replies at the modelled wire time (10 bits per byte at the baud rate,
turnaround of LineTiming.turnaround_bytes), so the *limit* of a line is:

    idle exchange = poll frame + idle reply + unit turnaround + master gap   (in byte times)

and the figure that matters is the ratio of the wire time the carried traffic needs (summed
per exchange from the actual frame sizes, see LineStats.wire_time) to the elapsed time.

Runs in well under 60 s:  .venv/bin/python bench/keypad_bus.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import append_section, machine
from device_drivers.bus import BusMaster, LineConfig
from device_drivers.events import BusEvent, CardEvent, KeyEvent
from device_drivers.messages import IdleReply, Key, Mode, Poll, encode
from device_drivers.timing import LineTiming

UNITS = 128
BAUD = 115200
TARGET_RATE = 800.0
TARGET_RATIO = 0.8


@dataclass
class Result:
    name: str
    polls_per_s: float
    cycle_s: float
    events_per_s: float
    ratio: float
    """Wire-time limit of the traffic this line actually carried / the time it took."""


def start_simulator(seed: int, presses: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "simulators.keypads.cli",
        "--units",
        str(UNITS),
        "--baud",
        str(BAUD),
        "--seed",
        str(seed),
    ]
    if presses:
        cmd += ["--random-presses", str(presses)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).resolve().parents[1]
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def run(lines: int, seconds: float, presses: float = 0.0) -> list[Result]:
    sims = [start_simulator(seed, presses) for seed in range(1, lines + 1)]
    master: BusMaster

    def sink(event: BusEvent) -> None:
        if isinstance(event, (KeyEvent, CardEvent)):
            master.confirm(event)  # a bridge would confirm after the server's ack

    master = BusMaster(sink)
    try:
        for i, (_, path) in enumerate(sims):
            master.add_line(f"line{i + 1}", path, range(1, UNITS + 1), LineConfig(baudrate=BAUD))
        master.start()
        if presses:
            master.set_mode(Mode.VOTE, 1, (Key.FOR, Key.AGAINST, Key.ABSTAIN))
        time.sleep(1.0)  # first contact with every unit (two exchanges each) is not steady state
        before = {
            n: (line.stats.polls, line.stats.cycles, line.stats.events, line.stats.wire_time)
            for n, line in master.lines.items()
        }
        start = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        results = []
        for name, line in master.lines.items():
            polls0, cycles0, events0, wire0 = before[name]
            s = line.stats
            cycles = s.cycles - cycles0
            results.append(
                Result(
                    name,
                    (s.polls - polls0) / elapsed,
                    elapsed / cycles if cycles else float("inf"),
                    (s.events - events0) / elapsed,
                    (s.wire_time - wire0) / elapsed,
                )
            )
        return results
    finally:
        master.stop()
        for proc, _ in sims:
            proc.terminate()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per scenario")
    parser.add_argument("--no-write", action="store_true", help="do not append the figures to docs/benchmarks.md")
    args = parser.parse_args(argv)
    machine_line = machine()

    timing = LineTiming(BAUD)
    poll_len, idle_len = len(encode(Poll(1))), len(encode(IdleReply(1, 0)))
    exchange = timing.transaction_time(poll_len, idle_len)
    limit_rate = 1 / exchange
    out = [
        f"Wire model at {BAUD} Bd: byte {timing.byte_time * 1e6:.1f} µs; idle exchange = poll {poll_len} B + reply "
        f"{idle_len} B + turnaround {timing.turnaround_bytes:g} B + gap {timing.gap_bytes:g} B = "
        f"{exchange * 1e3:.3f} ms, so the wire-time limit is **{limit_rate:.0f} units/s per line** and a full cycle "
        f"of {UNITS} units takes {UNITS * exchange * 1e3:.1f} ms. Targets: ≥ {TARGET_RATE:.0f} units/s per line, "
        f"ratio to the wire-time limit ≥ {TARGET_RATIO}. Key press → server ack is measured by "
        "`bench/keypad_e2e.py` (next section of the same kind).",
        "",
        f"| {UNITS} units per line, {args.seconds:g} s per scenario | line | units polled/s | full cycle ms "
        "| ratio to wire-time limit | key events/s | targets |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    ok = True
    for title, lines, presses in (
        ("1 line, idle units", 1, 0.0),
        ("4 lines in parallel, idle units", 4, 0.0),
        ("1 line, members voting (100 presses/s, each confirmed)", 1, 100.0),
    ):
        for r in run(lines, args.seconds, presses):
            met = r.polls_per_s >= TARGET_RATE and r.ratio >= TARGET_RATIO
            if not presses:
                ok &= met
            verdict = "met" if met else "NOT met"
            out.append(
                f"| {title} | {r.name} | {r.polls_per_s:.0f} | {r.cycle_s * 1e3:.1f} | {r.ratio:.2f} | "
                f"{r.events_per_s:.0f} | {verdict if not presses else '(information)'} |"
            )
            print(out[-1], flush=True)
    text = "\n".join(out)
    print("\n" + text)
    if not args.no_write:
        append_section(
            "Keypads: bus polling rate",
            text,
            machine_line=machine_line,
            intro=(
                "Each simulated line (128 units behind a real pty) runs in its own process and replies at modelled "
                "wire time; the master polls as `hemicycle keypads` does. Ratio = wire time the carried traffic needs "
                "(from the actual frame sizes) ÷ elapsed time."
            ),
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
