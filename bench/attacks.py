#!/usr/bin/env python3
"""Attacks: do seats still vote as fast while the server is under attack?

One run of `hemicycle serve` (the real command, so the real limits: server/edge/serving.py),
on loopback. `--seats` tablets (200) connect from 127.0.0.1, check in and vote in bursts —
every seat casts at the same instant, send -> ack timed per seat — a fresh ballot per burst,
`--rounds` bursts without an attack and then `--rounds` with it, for each attack in turn (the
machine may be shared: each attack is compared with bursts just before it):

* pdf bomb     an attacker (the clerk's token: uploads need it) keeps uploading hostile PDFs —
               nested form XObjects (opened in a limited worker: refused) and pages of
               20,000 full-page fills (accepted, then rendered until the watchdog kills the
               worker) — and fetching their pages as a reader, so a worker renders while
               seats vote;
* slowloris    `--flood` (1,000) connections from 127.0.0.2, each sending a header line
               now and then and never finishing; re-opened when dropped;
* never-read   `--laggards` (20) clients from 127.0.0.3 with valid seat tokens that send
               pings with 60 KB ids as fast as they are allowed and never read.

Each attack runs through its whole phase (started `--ramp` seconds before the first burst,
stopped after the last); every loop is bounded in count and time (`--budget`). Printed per
attack, off / on: acks and errors, ack p50/p99, the ratio of the p99s, the server process's
CPU (% of one core over the phase) and peak RSS,
/health's answer time during the attack; appended to docs/benchmarks.md unless --no-doc.

    .venv/bin/python bench/attacks.py                   # 200 seats, 3 bursts per phase
    .venv/bin/python bench/attacks.py --seats 50 --rounds 1 --no-doc
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.record import append_section, machine  # noqa: E402
from bench.vote_burst import Clerk, Conn, Gate, Round, _is, cast_text, fire, open_all, open_conn, pct  # noqa: E402

ATTACKS = ("pdf bomb", "slowloris", "never-read")
#: each attack measured right after bursts without it, so a machine whose load drifts (it is
#: shared) compares like with like
PHASES = tuple((attack, on) for attack in ATTACKS for on in (False, True))
SLOWLORIS, LAGGARDS = "127.0.0.2", "127.0.0.3"


def write_agenda(path: Path, seats: int, extra: int, ballots: int) -> None:
    lines = ["[meeting]", 'title = "Attack benchmark"', 'language = "en"', ""]
    for i in range(1, seats + extra + 1):
        lines += ["[[members]]", f'id = "m{i}"', f'name = "Member {i}"', f'seat = "S{i:04d}"', ""]
    lines += ["[[items]]", 'id = "i1"', 'title = "Bursts"', ""]
    for r in range(ballots):  # b0: the warm-up burst
        lines += ["[[items.ballots]]", f'id = "b{r}"', f'title = "Burst ballot {r}"', "certificate = false", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """The server's resident memory (the hemicycle process alone, not its workers)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """Processor time the server process has used so far (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def health_ms(port: int) -> float:
    """One GET /health from the room's address, timed (nan if refused)."""
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return (time.perf_counter() - t0) * 1e3 if b'"ok":true' in data else float("nan")
    except (OSError, TimeoutError):
        return float("nan")


# -- the attacks: each runs until `stop` is set, bounded by its own counts ----------------------


async def pdf_bomber(port: int, token: str, stop: asyncio.Event, stats: dict[str, int]) -> None:
    import httpx

    from tests.fixtures.documents import make_fill_bomb, make_xobject_bomb

    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    fetches: set[asyncio.Task] = set()

    async def fetch(http: httpx.AsyncClient, doc: str) -> None:
        page = await http.get(f"/api/documents/{doc}/pages/1", headers=headers)
        stats[f"page {page.status_code}"] = stats.get(f"page {page.status_code}", 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        for n in range(200):  # bounded: 200 uploads at most
            if stop.is_set():
                break
            if n % 2:  # a variant each time (blobs are content-addressed); %%EOF stays last
                bomb = make_xobject_bomb().replace(b"%%EOF", b"%% variant %d\n%%%%EOF" % n)
            else:
                bomb = make_fill_bomb(20_000 + n)
            res = await http.post(
                "/api/documents",
                files={"file": (f"bomb{n}.pdf", bomb, "application/pdf")},
                data={"title": f"bomb {n}", "item": "i1"},
                headers=headers,
            )
            stats["uploads"] += 1
            if res.status_code == 201 and len(fetches) < 4:  # a reader's fetch renders it now, ballot or not
                task = asyncio.get_running_loop().create_task(fetch(http, res.json()["id"]))
                fetches.add(task)
                task.add_done_callback(fetches.discard)
            elif res.status_code != 201:
                stats[f"refused {res.status_code}"] = stats.get(f"refused {res.status_code}", 0) + 1
            await asyncio.sleep(0.5)
        for task in list(fetches):
            task.cancel()
        await asyncio.gather(*fetches, return_exceptions=True)


async def slowloris(port: int, n: int, stop: asyncio.Event, stats: dict[str, int]) -> None:
    loop = asyncio.get_running_loop()

    async def one(i: int) -> None:
        for _attempt in range(100):  # bounded: each slot re-opens at most 100 times
            if stop.is_set():
                return
            sock = socket.socket()
            sock.setblocking(False)
            try:
                sock.bind((SLOWLORIS, 0))
                await loop.sock_connect(sock, ("127.0.0.1", port))
                stats["opened"] += 1
                await loop.sock_sendall(sock, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                for line in range(1000):
                    if stop.is_set():
                        return
                    await asyncio.sleep(2 + random.random())
                    await loop.sock_sendall(sock, b"X-Slow-%d: 1\r\n" % line)
            except OSError:
                stats["dropped"] += 1
                await asyncio.sleep(1)
            finally:
                sock.close()

    await asyncio.gather(*(one(i) for i in range(n)))


async def laggards(url: str, port: int, tokens: list[str], stop: asyncio.Event, stats: dict[str, int]) -> None:
    from websockets.client import ClientProtocol
    from websockets.http11 import Response
    from websockets.uri import parse_uri

    loop = asyncio.get_running_loop()
    ping = json.dumps({"type": "ping", "id": "x" * 60_000}).encode()

    async def one(token: str) -> None:
        for _attempt in range(50):  # bounded: re-connects after a 4008 at most 50 times
            if stop.is_set():
                return
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            proto = ClientProtocol(parse_uri(url), max_size=None)
            try:
                sock.bind((LAGGARDS, 0))
                await loop.sock_connect(sock, ("127.0.0.1", port))
                proto.send_request(proto.connect())
                await loop.sock_sendall(sock, b"".join(proto.data_to_send()))
                while not any(isinstance(ev, Response) for ev in proto.events_received()):  # the handshake only
                    data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 30)
                    if not data:
                        raise ConnectionResetError("closed during the handshake")
                    proto.receive_data(data)
                proto.send_text(json.dumps({"type": "hello", "v": 1, "token": token}).encode())
                await loop.sock_sendall(sock, b"".join(proto.data_to_send()))
                stats["connected"] += 1
                for _ in range(10_000):  # never reads; 20 pings a second, the allowed rate
                    if stop.is_set():
                        return
                    proto.send_text(ping)
                    await loop.sock_sendall(sock, b"".join(proto.data_to_send()))
                    stats["pings"] += 1
                    await asyncio.sleep(0.05)
            except (OSError, TimeoutError):
                stats["closed by server"] += 1
                await asyncio.sleep(0.5)
            finally:
                sock.close()

    await asyncio.gather(*(one(t) for t in tokens))


# -- the run ------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    deadline = time.monotonic() + args.budget
    ballots = len(PHASES) * args.rounds
    write_agenda(tmp / "agenda.toml", args.seats, args.laggards, ballots + 1)
    port = free_port()
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hemicycle.cli",
            "serve",
            "--agenda",
            str(tmp / "agenda.toml"),
            "--db",
            str(tmp / "sitting.db"),
            "--credentials",
            str(tmp / "credentials.json"),
            "--data-dir",
            str(tmp),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--render-workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    results: dict[str, Any] = {"phases": {}, "port": port}
    try:
        while time.monotonic() < deadline and not (tmp / "credentials.json").exists():
            await asyncio.sleep(0.1)
        for _ in range(300):  # bounded: 30 s for the lifespan to open the sitting
            if not math.isnan(await health_ms(port)):
                break
            await asyncio.sleep(0.1)
        creds = json.loads((tmp / "credentials.json").read_text())
        url = f"ws://127.0.0.1:{port}/ws"
        seats = list(creds["seats"].values())
        voters, spare = seats[: args.seats], seats[args.seats :]
        opened = [Gate(args.seats) for _ in range(ballots + 1)]

        async def setup(i: int) -> Conn:
            conn = await open_conn(url, port, opened)
            await conn.request(
                json.dumps({"type": "hello", "token": voters[i]["token"]}).encode(), lambda m: _is(m, b"welcome"), 60
            )
            ok = await conn.request(b'{"type":"check_in","id":"c"}', lambda m: b'"re":"c"' in m, 60)
            if not _is(ok, b"ok"):
                raise RuntimeError(f"check-in refused: {ok[:200]!r}")
            return conn

        conns, failures = await open_all(args.seats, setup)
        if failures:
            raise SystemExit(f"{len(failures)} seats could not connect: {failures[:3]}")
        for g in opened:
            g.n = len(conns)
        clerk = Clerk(url, port, creds["clerk"]["token"])
        want = lambda m: (_is(m, b"ack") or _is(m, b"error")) and b'"re":"x"' in m  # noqa: E731
        await asyncio.sleep(1.5)  # the attendance summary (once a second) goes out before the first burst
        await clerk.command("open_ballot", ballot="b0")  # a warm-up burst, not counted
        await opened[0].wait(60)
        await fire(conns, -1, lambda i, r: cast_text(i, r), want, args.timeout)
        await clerk.command("close_ballot", ballot="b0")
        ballot = 1
        for name, on in PHASES:
            phase = f"{name} {'on' if on else 'off'}"
            stop, stats = asyncio.Event(), {"uploads": 0, "opened": 0, "dropped": 0, "connected": 0, "pings": 0}
            stats["closed by server"] = 0
            attack: Awaitable[None] | None = None
            if on and name == "pdf bomb":
                attack = pdf_bomber(port, creds["clerk"]["token"], stop, stats)
            elif on and name == "slowloris":
                attack = slowloris(port, args.flood, stop, stats)
            elif on:
                attack = laggards(url, port, [s["token"] for s in spare], stop, stats)
            task = asyncio.ensure_future(attack) if attack else None
            peak = [rss_mib(server.pid)]

            async def sample(peak: list[float] = peak) -> None:
                while True:
                    peak[0] = max(peak[0], rss_mib(server.pid))
                    await asyncio.sleep(0.25)

            sampler = asyncio.get_running_loop().create_task(sample())
            cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
            await asyncio.sleep(args.ramp)  # let the attack take hold (and as long without one: like for like)
            rounds, healths = [], []
            for _ in range(args.rounds):
                if time.monotonic() > deadline:
                    raise SystemExit("out of --budget")
                await clerk.command("open_ballot", ballot=f"b{ballot}")
                await opened[ballot].wait(60)
                healths.append(await health_ms(port))
                res: Round = await fire(conns, ballot - 1, lambda i, r: cast_text(i, r), want, args.timeout)
                await clerk.command("close_ballot", ballot=f"b{ballot}")
                rounds.append(res)
                ballot += 1
                print(
                    f"  {phase:15s} burst {len(rounds)}: {res.replies}/{res.sent} acks, "
                    f"p50 {pct(res.latencies, 0.5) * 1e3:.1f} ms, p99 {pct(res.latencies, 0.99) * 1e3:.1f} ms, "
                    f"errors {len(res.errors)}",
                    flush=True,
                )
            cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - wall0)
            stop.set()
            sampler.cancel()
            if task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(task, 30)
            latencies = [x for r in rounds for x in r.latencies]
            results["phases"][phase] = {
                "acks": sum(r.replies for r in rounds),
                "sent": sum(r.sent for r in rounds),
                "errors": sum(len(r.errors) for r in rounds),
                "p50": pct(latencies, 0.5) * 1e3,
                "p99": pct(latencies, 0.99) * 1e3,
                "max": max(latencies, default=float("nan")) * 1e3,
                "rss": peak[0],
                "cpu": 100 * cpu,
                "health": max(healths) if healths else float("nan"),
                "stats": {k: v for k, v in stats.items() if v},
            }
        for c in conns:
            c.close()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(5)
        log.close()
    return results


def table(args: argparse.Namespace, results: dict[str, Any]) -> str:
    rows = [
        "| attack | acks (errors) off / on | ack p50 off / on | ack p99 off / on | p99 on / off | max on |"
        " /health during | server CPU off / on | server RSS peak off / on | the attack did |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    phases = results["phases"]
    for name in ATTACKS:
        off, on = phases[f"{name} off"], phases[f"{name} on"]
        did = ", ".join(f"{k} {v}" for k, v in on["stats"].items()) or "—"
        rows.append(
            f"| {name} | {off['acks']}/{off['sent']} ({off['errors']}) / {on['acks']}/{on['sent']} ({on['errors']}) "
            f"| {off['p50']:.1f} / {on['p50']:.1f} ms | {off['p99']:.1f} / **{on['p99']:.1f}** ms "
            f"| {on['p99'] / off['p99']:.2f} | {on['max']:.1f} ms | {on['health']:.1f} ms "
            f"| {off['cpu']:.0f} / {on['cpu']:.0f} % | {off['rss']:.0f} / {on['rss']:.0f} MiB | {did} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seats", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3, help="bursts per phase")
    p.add_argument("--flood", type=int, default=1000, help="slowloris connections")
    p.add_argument("--laggards", type=int, default=20, help="clients that never read")
    p.add_argument("--ramp", type=float, default=5.0, help="seconds an attack runs before the first burst")
    p.add_argument("--timeout", type=float, default=20.0, help="per-seat wait for its ack")
    p.add_argument("--budget", type=float, default=400.0, help="seconds for the whole run")
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args(argv)
    started = machine()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    with tempfile.TemporaryDirectory(prefix="hemicycle-attacks-") as d:
        results = asyncio.run(run(args, Path(d)))
    text = table(args, results)
    print("\n" + text)
    bad = [phase for phase, r in results["phases"].items() if r["acks"] != r["sent"] or r["errors"]]
    if bad:
        print(f"\nvotes lost or refused under: {', '.join(bad)}")
    if not args.no_doc:
        append_section(
            "Attacks: seats' vote-ack latency with and without each attack",
            text,
            packages=("uvicorn", "websockets", "pypdfium2"),
            intro=(
                f"{args.seats} seats vote in bursts ({args.rounds} per phase, every seat at once) on `hemicycle serve` "
                f"while each attack runs in turn: PDF bombs uploaded and fetched; {args.flood} slowloris connections "
                f"from another address; {args.laggards} clients with valid tokens sending 60 KB pings and never reading. "
                "bench/attacks.py."
            ),
            machine_line=started,
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
