"""`hemicycle step-down` and `hemicycle leader`: planned switch-over and who leads (PostgreSQL).

See docs/operations.md, "Hot standby"."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _step_down(args: argparse.Namespace) -> int:
    import httpx

    token = json.loads(Path(args.token_file).read_text())["clerk"]["token"]
    try:
        response = httpx.post(
            f"{args.server.rstrip('/')}/api/step-down", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
    except httpx.HTTPError as exc:
        print(f"cannot reach {args.server}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 202:
        print(f"refused ({response.status_code}): {response.text}", file=sys.stderr)
        return 1
    print("the leader is stepping down; a standby takes over")
    return 0


def _leader(args: argparse.Namespace) -> int:
    from .store.leadership import Leadership

    epoch, name, held = Leadership.current(args.db)
    if not held:
        print(f"no server leads now (last leader: {name or 'none'}, epoch {epoch})")
        return 1
    print(f"{name} leads (epoch {epoch})")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    down = sub.add_parser("step-down", help="planned switch-over: the leading server hands the sitting to a standby")
    down.add_argument("--server", default="http://127.0.0.1:8000", help="the leading server (or the proxy)")
    down.add_argument("--token-file", default="var/credentials.json")
    down.set_defaults(run=_step_down)
    who = sub.add_parser("leader", help="which server leads the sitting (PostgreSQL)")
    who.add_argument("--db", required=True, help="the sitting's database (postgresql://...)")
    who.set_defaults(run=_leader)


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--lease",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="PostgreSQL: a leader silent this long loses leadership to a standby (default 5)",
    )
    serve.add_argument(
        "--ready-port",
        type=int,
        metavar="PORT",
        help="also answer GET /ready on this port (plain HTTP, off the event loop): the proxy's check, "
        "answered in time however busy the server is (docs/deploy/haproxy.cfg)",
    )


def exit_on_step_down(why: str) -> None:
    """A leader that stepped down or was fenced ends at once with status 75: it holds no state
    a standby needs (everything is in PostgreSQL and the shared data folder), and the
    supervisor (systemd Restart=always) starts it again as a standby."""
    import logging
    import os

    from .live import oplog
    from .store.leadership import STEPPED_DOWN

    logging.getLogger("hemicycle.leadership").warning("stepping down: %s", why)
    oplog.note("server.stepped_down", reason=why)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(STEPPED_DOWN)
