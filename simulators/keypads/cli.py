"""``hemicycle simulate keypads``: virtual keypad units behind a pseudo-terminal.

Prints the tty path on the first line of stdout (so scripts can read it), then serves
until interrupted. Point a bus master at the printed path as if it were /dev/ttyUSB0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from device_drivers.codec import MAX_ADDRESS
from simulators.keypads.line import Faults, SimulatedLine
from simulators.keypads.presser import RandomPresser
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
    parser.add_argument("--garble", type=float, default=0.0, help="probability a frame is corrupted")
    parser.add_argument("--lose", type=float, default=0.0, help="probability a reply is lost")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    last = args.first_address + args.units - 1
    if args.units < 1 or args.first_address < 1 or last > MAX_ADDRESS:
        print(f"units must fit in addresses 1..{MAX_ADDRESS}", file=sys.stderr)
        return 2
    line = SimulatedLine(
        range(args.first_address, last + 1),
        baudrate=args.baud,
        seed=args.seed,
        faults=Faults(garble=args.garble, lose_reply=args.lose),
    )
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
        if presser is not None:
            presser.start()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if presser is not None:
                presser.stop()
    stats = line.stats
    print(
        f"served {stats.requests} requests, {stats.replies} replies "
        f"({stats.garbled_requests + stats.garbled_replies} garbled, {stats.lost_replies} lost)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
