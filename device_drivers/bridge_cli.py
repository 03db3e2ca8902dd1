"""``hemicycle keypads --config F --server URL``: run the keypad bridge until interrupted.

See docs/keypads.md for the configuration file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tomllib
from pathlib import Path

import tomlproblems
from device_drivers.bridge import Bridge, quiet_wire_loggers
from device_drivers.bridge_config import ConfigError, load_config
from device_drivers.bus import favour_line_threads
from terminal_client.client import ConnectionLost, ServerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hemicycle keypads", description="Bridge RS-485 voting keypads to a Hemicycle server."
    )
    parser.add_argument("--config", required=True, help="bridge configuration (TOML, see docs/keypads.md)")
    parser.add_argument(
        "--server",
        action="append",
        help="WebSocket URL of the server, e.g. ws://127.0.0.1:8000/ws (default: `server` in the configuration);"
        " repeat it (or separate URLs by commas) for a leader and its standbys, tried in turn",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


async def _run(bridge: Bridge) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    await bridge.start()
    try:
        await stop.wait()
    finally:
        await bridge.stop()


def explain_config(path: str, exc: ConfigError) -> str:
    """The refusal as the installer reads it: line numbers, lines of keypads counted from 1, in
    the file's own `language` or else the machine's (LANG)."""
    try:
        text: str | None = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    language = os.environ.get("LANG", "en")
    try:
        chosen = tomllib.loads(text or "").get("language")
        language = chosen if isinstance(chosen, str) else language
    except tomllib.TOMLDecodeError:
        pass
    lines = [f"  {line}" for line in tomlproblems.explain(exc.problems, text, language)]
    return "\n".join([path, tomlproblems.heading(language, "keypads"), *lines])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    level = getattr(logging, args.log_level.upper())
    for name in ("hemicycle.keypads", "device_drivers", "hemicycle.client"):
        logging.getLogger(name).setLevel(level)
    root.setLevel(min(root.level or logging.INFO, level))
    quiet_wire_loggers()
    favour_line_threads()
    try:
        config = load_config(args.config)
        bridge = Bridge(config, args.server)
    except ConfigError as exc:
        print(explain_config(args.config, exc), file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"cannot start the keypad bridge: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(bridge))
    except ConfigError as exc:
        print("The keypad configuration does not fit the sitting:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except (OSError, ValueError, ServerError, ConnectionLost) as exc:  # server unreachable, bad token
        print(f"keypad bridge stopped: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
