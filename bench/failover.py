#!/usr/bin/env python3
"""Failover: how long does a SIGKILL of the leading server stop the voting?

Two `hemicycle serve` processes on one PostgreSQL database (a fresh one, dropped at the
end) behind HAProxy running docs/deploy/haproxy.cfg (tests/standby_support.py). `--seats`
Python clients (terminal_client) connect through the proxy and check in. Then `--kills`
times: a ballot is opened, the leader is SIGKILLed and at that instant every seat casts its
vote (the library re-sends it on reconnection). Measured from the kill:

* first ack   the first acknowledgement, served by the new leader (target <= 2 s);
* all seats   every seat reconnected and welcomed again (target <= 5 s);
* all acks    every seat's vote acknowledged.

Before each kill the standby has folded the whole log (its /ready says the leader's seq).
Baseline, in the same run: the killed server is started again (as the next standby) and the
time until it answers at all is what the same failure costs a single server, before any
client has even reconnected. Medians over the kills; appended to docs/benchmarks.md unless
--no-doc.

    .venv/bin/python bench/failover.py                  # 200 seats, 5 kills
    .venv/bin/python bench/failover.py --seats 50 --kills 1 --no-doc
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import uvloop  # noqa: E402

from bench.record import append_section, machine  # noqa: E402
from terminal_client.client import Client  # noqa: E402
from tests.standby_support import Pair, ready, wait_for  # noqa: E402
from tests.support import agenda_data, write_agenda_toml  # noqa: E402
from tests.support_pg import ADMIN_URL, HOST, _connect, postgres_problem  # noqa: E402


def status(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))


def caught_up(pair: Pair, standby: str) -> bool:
    leader = pair.leader()
    return leader is not None and status(pair.port(standby))["seq"] >= status(pair.port(leader))["seq"]


async def drained(clients: list[Client], seq: int) -> None:
    """Wait until every seat has read the log up to ``seq`` (a named ballot's result carries
    every member's choice: 3,000 seats' worth of it must not still be decoding in this one
    process when the next kill is measured)."""
    while any(c.last_seq < seq for c in clients):
        await asyncio.sleep(0.05)
    for c in clients:  # nothing here reads the event queues (up to 10,000 each): empty them
        while not c.events.empty():
            c.events.get_nowait()


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process so far; this one's with no pid."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def kill_while_voting(pair: Pair, leader: str | None, clients: list[Client], ballot: str) -> dict[str, float]:
    """SIGKILL the leader and at once have every seat cast: the times from the kill to the
    first ack, to all seats welcomed again and to all acks, and the CPU seconds the serving
    server and this process (every seat's client) spent until then. With no leader named,
    the baseline: the leader lives, every seat's connection is cut at once instead (the
    same reconnection storm, with no takeover)."""
    serving = next(n for n in pair.servers if n != leader) if leader else pair.leader()
    assert serving is not None
    server_pid = pair.proc(serving).pid
    cpu0 = (cpu_seconds(server_pid), cpu_seconds())
    before = [c.connections for c in clients]
    first_ack: list[float] = []

    async def vote(c: Client) -> None:
        await c.cast(ballot, "for", timeout=60)
        if not first_ack:
            first_ack.append(time.monotonic())

    async def reconnected() -> float:
        while any(c.connections <= b for c, b in zip(clients, before)):
            await asyncio.sleep(0.01)
        return time.monotonic()

    t0 = time.monotonic()
    if leader is None:
        await asyncio.gather(*(c.drop() for c in clients))
    else:
        os.kill(pair.proc(leader).pid, signal.SIGKILL)
    votes = asyncio.gather(*(vote(c) for c in clients))
    all_seats = await reconnected()
    await votes
    return {
        "first_ack": first_ack[0] - t0,
        "all_seats": all_seats - t0,
        "all_acks": time.monotonic() - t0,
        "server_cpu": cpu_seconds(server_pid) - cpu0[0],
        "clients_cpu": cpu_seconds() - cpu0[1],
    }


async def run(seats: int, kills: int, lease: float) -> list[dict[str, float]]:
    problem = postgres_problem()
    if problem:
        raise SystemExit(f"PostgreSQL is needed: {problem}")
    name = f"hemicycle_bench_{secrets.token_hex(4)}"
    with _connect(ADMIN_URL) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    tmp = Path(tempfile.mkdtemp(prefix="hemicycle-failover-"))
    ballots = [{"id": f"b{i}", "title": f"Round {i}"} for i in range(1, kills + 1)]
    ballots += [{"id": f"d{i}", "title": f"Drop {i}"} for i in range(1, kills + 1)]
    agenda = write_agenda_toml(tmp / "agenda.toml", agenda_data(seats, ballots=ballots))
    pair = Pair(tmp, agenda, f"postgresql://postgres@{HOST}/{name}", lease=lease)
    rows: list[dict[str, float]] = []
    try:
        pair.serve("one")
        wait_for(lambda: ready(pair.port("one")) == 200, "the first server to lead", 60)
        pair.serve("two")
        pair.start_proxy()
        creds = pair.creds()
        clerk = Client(pair.url, creds["clerk"]["token"], backoff=(0.05, 0.5))
        await clerk.connect()
        clients = [Client(pair.url, e["token"], backoff=(0.05, 0.5)) for _, e in sorted(creds["seats"].items())]
        for start in range(0, len(clients), 200):
            await asyncio.gather(*(c.connect(timeout=60) for c in clients[start : start + 200]))
        await asyncio.gather(*(c.check_in() for c in clients))
        for k in range(kills):
            # the baseline first: the same storm of reconnections and casts, no takeover
            await clerk.command("open_ballot", ballot=f"d{k + 1}")
            drop = await kill_while_voting(pair, None, clients, f"d{k + 1}")
            await clerk.command("close_ballot", ballot=f"d{k + 1}")
            await drained(clients, clerk.last_seq)
            leader = pair.leader()
            assert leader is not None
            await clerk.connected()
            await clerk.command("open_ballot", ballot=f"b{k + 1}")
            kill = await kill_while_voting(pair, leader, clients, f"b{k + 1}")
            snapshots = sum(1 for c in clients if c.welcome is not None and not c.welcome["resumed"])
            pair.proc(leader).wait()
            restart = time.monotonic()
            pair.serve(leader, port=pair.port(leader))  # back as the standby: the baseline
            cold = time.monotonic() - restart
            await clerk.connected()
            await clerk.command("close_ballot", ballot=f"b{k + 1}")
            await drained(clients, clerk.last_seq)
            # the next kill measures a warm standby: wait until it has folded the whole log
            await asyncio.to_thread(wait_for, partial(caught_up, pair, leader), "the standby to catch up", 120)
            row = {
                **kill,
                "cold_start": cold,
                **{f"drop_{key}": value for key, value in drop.items()},
                "snapshots": snapshots,
            }
            rows.append(row)
            print(f"kill {k + 1}: " + ", ".join(f"{key} {value:.2f} s" for key, value in row.items()), flush=True)
        await asyncio.gather(clerk.close(), *(c.close() for c in clients))
        verify = pair.verify()
        if verify.returncode != 0:
            raise SystemExit(f"the record does not verify after the kills:\n{verify.stderr}")
    finally:
        pair.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        with _connect(ADMIN_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    started = machine()
    rows = uvloop.run(run(args.seats, args.kills, args.lease))  # the clients' loop: as cheap as it gets
    med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    table = [
        "| measure (from the SIGKILL) | median | each kill |",
        "|---|---|---|",
        *(
            f"| {label} | {med[key]:.2f} s | {', '.join(f'{r[key]:.2f}' for r in rows)} |"
            for key, label in (
                ("first_ack", "first ack, by the new leader"),
                ("all_seats", f"all {args.seats} seats reconnected"),
                ("all_acks", f"all {args.seats} votes acknowledged"),
                ("cold_start", "baseline: the killed server answering again after a restart"),
                ("server_cpu", "CPU seconds of the new leader until every vote was acknowledged"),
                ("clients_cpu", f"CPU seconds of the {args.seats} seats' clients (one process) until then"),
                ("drop_first_ack", "baseline, no takeover: every connection cut at once → first ack"),
                ("drop_all_seats", f"baseline, no takeover: all {args.seats} seats reconnected"),
                ("drop_server_cpu", "baseline, no takeover: CPU seconds of the leader"),
                ("drop_clients_cpu", "baseline, no takeover: CPU seconds of the seats' clients"),
            )
        ),
        f"\nSeats welcomed with a snapshot instead of a resume after each kill: "
        f"{', '.join(str(int(r['snapshots'])) for r in rows)} (of {args.seats}).",
    ]
    body = "\n".join(table)
    print(body)
    if not args.no_doc:
        append_section(
            f"Failover: SIGKILL of the leader, {args.seats} seats",
            body,
            packages=("uvicorn", "psycopg", "websockets"),
            intro=(
                "Two `hemicycle serve` on one PostgreSQL behind HAProxy (docs/deploy/haproxy.cfg); "
                "each kill lands as a ballot opens and every seat casts at that instant. "
                "Targets: first ack <= 2 s, all seats <= 5 s. The baseline is what a single server "
                "costs: its cold start alone, before any client reconnects."
            ),
            machine_line=started,
        )


if __name__ == "__main__":
    main()
