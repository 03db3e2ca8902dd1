"""``hemicycle``: serve and check a sitting (server/), run the keypad bridge (device_drivers/),
drive virtual tablets or keypads (simulators/)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from server import cli as server_cli


def _keypads(argv: list[str]) -> int:
    from device_drivers.bridge_cli import main

    return main(argv)


def _simulate(argv: list[str]) -> int:
    what, rest = (argv[0], argv[1:]) if argv else ("", [])
    if what == "tablets":
        from simulators.tablets import main as tablets

        return tablets(rest)
    if what == "keypads":
        from simulators.keypads.cli import main as keypads

        return keypads(rest)
    print("usage: hemicycle simulate {tablets,keypads} [options]  (add --help after either)", file=sys.stderr)
    return 2


def _version() -> str:
    try:
        return version("hemicycle")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hemicycle", description="Electronic voting and paperless sittings.")
    parser.add_argument("--version", action="version", version=f"hemicycle {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    server_cli.add_commands(sub)
    sub.add_parser("keypads", help="run the keypad bridge (--config F --server URL; see --help)", add_help=False)
    sub.add_parser("simulate", help="virtual tablets or keypads (simulate tablets|keypads --help)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "keypads":
        return _keypads(argv[1:])
    if argv and argv[0] == "simulate":
        return _simulate(argv[1:])
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
