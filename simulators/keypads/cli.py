"""``hemicycle simulate keypads``: virtual keypad units behind a pseudo-terminal.

Prints the tty path on the first line of stdout (so scripts can read it), then serves
until interrupted. Point a bus master at the printed path as if it were /dev/ttyUSB0, or
put a network serial server in front of it (``python -m simulators.keypads.serial_server``).

Members press at random (``--random-presses``) or as a script says (``--script FILE``, or
``--script -`` for standard input read as it arrives; format in presser.py), so a whole
keypad sitting can be replayed. On exit it prints what the units served and how long
presses waited for their acknowledgement; ``--report FILE`` writes the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import threading
from pathlib import Path
from typing import Any

from device_drivers.codec import MAX_ADDRESS
from simulators.keypads.line import Faults, SimulatedLine
from simulators.keypads.presser import RandomPresser, ScriptPresser, read_script, stream_script
from simulators.keypads.pty import PtySimulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hemicycle simulate keypads", description="Simulated RS-485 keypad units on a pty."
    )
    parser.add_argument("--units", type=int, default=128, help="number of units (default 128)")
    parser.add_argument("--first-address", type=int, default=1, help="address of the first unit")
    parser.add_argument("--baud", type=int, default=115200, help="modelled baud rate")
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible runs)")
    parser.add_argument(
        "--random-presses",
        type=float,
        default=0.0,
        metavar="PER_SECOND",
        help="members press allowed keys at random, this many times per second in total",
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help='members press as this file says, one "time unit key" per line (e.g. "2.5 17 for"); '
        "- reads standard input as it arrives",
    )
    parser.add_argument("--garble", type=float, default=0.0, help="probability a frame is corrupted")
    parser.add_argument("--lose", type=float, default=0.0, help="probability a reply is lost")
    parser.add_argument("--report", metavar="FILE", help="write the figures printed on exit as JSON")
    return parser


def report(line: SimulatedLine, script: ScriptPresser | None) -> dict[str, Any]:
    """What the units served, and press -> acknowledged latencies in milliseconds."""
    stats = line.stats
    acked = sorted(stats.ack_latencies)
    out: dict[str, Any] = {
        "requests": stats.requests,
        "replies": stats.replies,
        "garbled": stats.garbled_requests + stats.garbled_replies,
        "lost": stats.lost_replies,
        "acknowledged": len(acked),
    }
    if acked:
        out["ack_ms"] = {
            "median": round(statistics.median(acked) * 1e3, 2),
            "p99": round(acked[min(len(acked) - 1, int(0.99 * len(acked)))] * 1e3, 2),
            "max": round(acked[-1] * 1e3, 2),
        }
    if script is not None:
        out["script"] = {"taken": script.taken, "ignored": script.ignored}
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    last = args.first_address + args.units - 1
    if args.units < 1 or args.first_address < 1 or last > MAX_ADDRESS:
        print(f"units must fit in addresses 1..{MAX_ADDRESS}", file=sys.stderr)
        return 2
    addresses = range(args.first_address, last + 1)
    script: ScriptPresser | None = None
    line = SimulatedLine(addresses, baudrate=args.baud, seed=args.seed, faults=Faults(args.garble, args.lose))
    if args.script == "-":
        presses = stream_script(sys.stdin, addresses, lambda e: print(f"script: {e} (skipped)", file=sys.stderr))
        script = ScriptPresser(line, presses)
    elif args.script:
        try:
            text = Path(args.script).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"cannot read the script: {exc}", file=sys.stderr)
            return 2
        entries, errors = read_script(text.splitlines(), addresses)
        if errors:
            print(f"The script {args.script} cannot be played:", *(f"  {e}" for e in errors), sep="\n", file=sys.stderr)
            return 2
        script = ScriptPresser(line, entries)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    presser = RandomPresser(line, args.random_presses, seed=args.seed) if args.random_presses > 0 else None
    with PtySimulator(line) as sim:
        print(sim.slave_path, flush=True)
        print(
            f"{args.units} units at addresses {args.first_address}..{last}, {args.baud} Bd; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        for member in (presser, script):
            if member is not None:
                member.start()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for member in (presser, script):
                if member is not None:
                    member.stop()
    figures = report(line, script)
    text = (
        f"served {figures['requests']} requests, {figures['replies']} replies "
        f"({figures['garbled']} garbled, {figures['lost']} lost)"
    )
    if "ack_ms" in figures:
        ack = figures["ack_ms"]
        text += f"; press -> acknowledged: median {ack['median']} ms, p99 {ack['p99']} ms ({figures['acknowledged']})"
    if script is not None:
        text += f"; script: {script.taken} presses taken, {script.ignored} ignored by the units"
    print(text, file=sys.stderr)
    if args.report:
        Path(args.report).write_text(json.dumps(figures), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
