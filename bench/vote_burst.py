#!/usr/bin/env python3
"""Vote burst: N seat tablets (3,000 by default) cast at the same instant.

Measures, on loopback, with the server and the load generator in separate processes:

* hemicycle: ack latency p50/p99 (send -> "ack" on each seat), votes/s
  (acks / (last ack - first send)), lost votes (casts sent - votes recorded in the
  database), then `hemicycle verify` on the record;
* echo: the same burst against a bare `websockets` echo server (compression off), in the
  same run, same client code, same connection count, a message of the same size;

and prints the ratios against the targets (votes/s >= 0.8 x echo round trips/s, ack p99
<= 1.3 x echo p99, zero lost). A section with the figures is appended to
docs/benchmarks.md unless --no-doc.

    .venv/bin/python bench/vote_burst.py                       # 3,000 seats, 3 rounds each
    .venv/bin/python bench/vote_burst.py --seats 500 --rounds 1 --no-doc
    .venv/bin/python bench/vote_burst.py --ws websockets       # uvicorn's legacy websockets impl
    .venv/bin/python bench/vote_burst.py --profile /tmp/prof   # py-spy the server during bursts

Every wait is bounded; the whole run stays under --budget seconds (default 170).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TARGET_RATE, TARGET_P99 = 0.8, 1.3
sys.path.insert(0, str(ROOT))
from bench.burst_backend import BACKENDS, Backend  # noqa: E402
from bench.record import append_section, machine  # noqa: E402

# ---------------------------------------------------------------------------------------
# child processes: the hemicycle server and the echo server
# ---------------------------------------------------------------------------------------


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    want = min(want, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def child_serve(args: argparse.Namespace) -> None:
    """The hemicycle server, configured as `hemicycle serve` does (server/cli.py), with the
    uvicorn implementation choices exposed."""
    _raise_nofile()
    sys.path.insert(0, str(ROOT))
    import logging

    import uvicorn

    from server.assemble import Assembly, ServerConfig
    from server.live.agenda_file import load_agenda

    logging.basicConfig(level=logging.WARNING)
    if args.trace:
        _trace_commits()
    if args.cprofile:
        _cprofile_on_signals(Path(args.cprofile))
    if args.gc != "default":
        _gc_policy(args.gc)
    agenda = load_agenda(args.agenda)
    config = ServerConfig(
        agenda=agenda, db_url=args.db, credentials_path=Path(args.credentials), data_dir=Path(args.data_dir)
    )
    assembly = Assembly(config)
    app = assembly.app()
    sock = _listen()
    sock.listen(4096)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    # exactly what `hemicycle serve` runs (guarded, stamping protocols; caps; timeouts), unless
    # an implementation is named to compare with
    options: dict[str, Any] = {"log_level": "warning", "loop": args.loop}
    if args.ws != "auto":
        options["ws"] = args.ws
    if args.http != "auto":
        options["http"] = args.http
    server = uvicorn.Server(assembly.uvicorn_config(app, **options))
    server.run(sockets=[sock])


def _trace_commits() -> None:
    """--trace: log every group commit (size, time in the store, gap since the last) to stderr."""
    from server.store.sql import SQLStore

    inner = SQLStore.commit
    last = [0.0]

    def commit(self: Any, batch: Any) -> None:
        t0 = time.perf_counter()
        inner(self, batch)
        t1 = time.perf_counter()
        if len(batch.entries) > 1 or t1 - last[0] < 5:
            print(
                f"commit {len(batch.entries):5d} entries {1e3 * (t1 - t0):7.1f} ms "
                f"(started {1e3 * (t0 - last[0]) if last[0] else 0:8.1f} ms after the previous ended)",
                file=sys.stderr,
                flush=True,
            )
        last[0] = t1

    SQLStore.commit = commit  # type: ignore[method-assign]

    import gc

    gc_start = [0.0]
    gc_sum = {g: [0, 0.0] for g in range(3)}  # per generation: collections, ms since the last report

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
            return
        ms = 1e3 * (time.perf_counter() - gc_start[0])
        gen = info.get("generation", 0)
        gc_sum[gen][0] += 1
        gc_sum[gen][1] += ms
        if gen >= 1 and ms > 2:
            print(f"gc gen{gen} {ms:7.1f} ms ({info.get('collected')} collected)", file=sys.stderr, flush=True)

    def gc_report() -> str:
        out = ", ".join(f"gen{g} {n}x {ms:.1f} ms" for g, (n, ms) in gc_sum.items() if n)
        for v in gc_sum.values():
            v[0], v[1] = 0, 0.0
        return out or "none"

    gc.callbacks.append(on_gc)

    def commit_with_gc(self: Any, batch: Any) -> None:
        commit(self, batch)
        if len(batch.entries) > 100:
            print(f"  collections since the last large commit: {gc_report()}", file=sys.stderr, flush=True)

    SQLStore.commit = commit_with_gc  # type: ignore[method-assign]


def _cprofile_on_signals(out: Path) -> None:
    """--cprofile: SIGUSR1 starts profiling the event-loop thread, SIGUSR2 stops and dumps."""
    import cProfile

    state: dict[str, Any] = {"n": 0}

    def start(*_: Any) -> None:
        state["prof"] = cProfile.Profile()
        state["prof"].enable()

    def stop(*_: Any) -> None:
        prof = state.pop("prof", None)
        if prof is not None:
            prof.disable()
            state["n"] += 1
            prof.dump_stats(str(out / f"round{state['n']}.pstats"))

    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def _gc_policy(mode: str) -> None:
    """--gc: try garbage-collector policies without touching the server code.

    freeze-on-open: gc.freeze() whenever a ballot opens (as Hub.publish could do), so the
    objects of the connections and of the log so far are never scanned during the burst.
    off: gc.disable() (for comparison only)."""
    import gc

    from server.core import events as e
    from server.edge.hub import Hub

    if mode == "off":
        gc.disable()
        return
    if mode != "freeze-on-open":
        raise SystemExit(f"unknown --gc {mode}")
    inner = Hub.publish

    def publish(self: Any, seq: int, event: Any, origin: Any = None) -> None:
        if isinstance(event, e.BallotOpened):
            gc.freeze()
        inner(self, seq, event, origin)

    Hub.publish = publish  # type: ignore[method-assign]


def child_asgi_echo(args: argparse.Namespace) -> None:
    """An echo endpoint in Starlette on uvicorn, run as hemicycle is: the framework's share."""
    _raise_nofile()
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    app = Starlette(routes=[WebSocketRoute("/", echo)])
    sock = _listen()
    sock.listen(4096)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            ws=args.ws,
            loop=args.loop,
            http=args.http,
            ws_max_size=1 << 20,
            ws_per_message_deflate=False,
            lifespan="off",
            backlog=4096,
        )
    ).run(sockets=[sock])


def child_echo(args: argparse.Namespace) -> None:
    """A bare websockets echo server: no application work at all."""
    _raise_nofile()
    from websockets.asyncio.server import serve

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        sock = _listen()
        async with serve(echo, sock=sock, compression=None, ping_interval=None, max_size=1 << 20, backlog=4096) as srv:
            print(f"PORT {sock.getsockname()[1]}", flush=True)
            await srv.serve_forever()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


# ---------------------------------------------------------------------------------------
# the orchestrator
# ---------------------------------------------------------------------------------------


def write_agenda(path: Path, seats: int, rounds: int, secret: bool = False) -> None:
    lines = ["[meeting]", 'title = "Vote burst benchmark"', 'language = "en"', ""]
    for i in range(1, seats + 1):
        lines += ["[[members]]", f'id = "m{i}"', f'name = "Member {i}"', f'seat = "S{i:04d}"', ""]
    lines += ["[[items]]", 'id = "i1"', 'title = "Burst"', ""]
    for r in range(1, rounds + 1):
        lines += ["[[items.ballots]]", f'id = "b{r}"', f'title = "Burst ballot {r}"']
        lines += ["secret = true", "live_counts = false", ""] if secret else [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def start_child(argv: list[str], log: Path, deadline: float, root: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """A child process of this script, from ``root``'s copy of it (--server-root: another tree's server)."""
    proc = subprocess.Popen(
        [PY, str(root / "bench" / "vote_burst.py"), *argv],
        stdout=subprocess.PIPE,
        stderr=open(log, "w"),
        text=True,
        cwd=root,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = ""
    while time.monotonic() < deadline:  # bounded: the child prints PORT first
        line = proc.stdout.readline()
        if line.startswith("PORT ") or not line:
            break
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"child {argv[0]} did not start; see {log}:\n{log.read_text()[-2000:]}")
    return proc, int(line.split()[1])


def wait_http(port: int, deadline: float) -> None:
    """Wait for /health (the lifespan has run: the sitting is open)."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                if b'"ok":true' in s.recv(4096):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("the server did not become healthy in time")


def stop_child(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn: graceful shutdown, the writer drains
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


@dataclass
class Round:
    sent: int = 0
    first_send: float = float("inf")
    last_send: float = 0.0
    last_reply: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    recorded: int | None = None  # hemicycle: votes in the result / database

    @property
    def replies(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        span = self.last_reply - self.first_send
        return self.replies / span if span > 0 else float("nan")

    def row(self) -> dict[str, Any]:
        return {
            "n": self.sent,
            "replies": self.replies,
            "rate": self.rate,
            "p50_ms": pct(self.latencies, 0.5) * 1e3,
            "p99_ms": pct(self.latencies, 0.99) * 1e3,
            "max_ms": max(self.latencies, default=float("nan")) * 1e3,
            "send_spread_ms": (self.last_send - self.first_send) * 1e3,
            "errors": len(self.errors),
            "recorded": self.recorded,
        }


class Gate:
    """Counts parties arriving; releases when all are there (or the wait times out)."""

    def __init__(self, n: int) -> None:
        self.n, self.count, self.event = n, 0, asyncio.Event()

    def arrive(self) -> None:
        self.count += 1
        if self.count >= self.n:
            self.event.set()

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
            return True
        except TimeoutError:
            return False


def _is(msg: bytes, kind: bytes) -> bool:
    # the server encodes "type" first (server/edge/protocol.py encode): a prefix test on the raw
    # bytes avoids decoding a 300 kB welcome snapshot 3,000 times in the load generator
    return msg.startswith(b'{"type":"' + kind + b'"')


class Conn(asyncio.Protocol):
    """One seat: the `websockets` sans-I/O client protocol driven by callbacks.

    No task, no queue and no wake-up per message: frames are handled in data_received, so
    the load generator costs as little as the library allows and the same for both
    targets. During a burst the reply is recognised by `want` and timed against `t0`."""

    def __init__(self, url: str, opened: list[Gate] | None) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.proto = ClientProtocol(parse_uri(url), max_size=None)  # no extensions: no deflate
        self.transport: Any = None
        self.handshake: asyncio.Future = asyncio.get_running_loop().create_future()
        self.waiter: tuple[Any, asyncio.Future] | None = None
        self.opened, self.n_opened = opened, 0
        self.parts: list[bytes] = []
        self.want: Any = None
        self.t0 = 0.0
        self.res: Round | None = None
        self.gate: Gate | None = None
        self.close_code: int | None = None
        self.messages = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        self._flush()

    def _flush(self) -> None:
        data = self.proto.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(data))

    def send(self, text: bytes) -> None:
        self.proto.send_text(text)
        self._flush()

    def data_received(self, data: bytes) -> None:
        from websockets.frames import Opcode
        from websockets.http11 import Response

        self.proto.receive_data(data)
        for ev in self.proto.events_received():
            if isinstance(ev, Response):
                if not self.handshake.done():
                    if self.proto.handshake_exc is not None:
                        self.handshake.set_exception(self.proto.handshake_exc)
                    else:
                        self.handshake.set_result(None)
                continue
            if ev.opcode is Opcode.CLOSE:
                self.close_code = int.from_bytes(ev.data[:2], "big") if len(ev.data) >= 2 else 1005
                continue
            if ev.opcode not in (Opcode.TEXT, Opcode.CONT):
                continue
            if not ev.fin:
                self.parts.append(ev.data)
                continue
            if self.parts:
                self.parts.append(ev.data)
                msg, self.parts = b"".join(self.parts), []
            else:
                msg = ev.data
            self.on_message(msg)
        self._flush()
        if self.proto.close_expected() and self.transport is not None:
            self.transport.close()

    def on_message(self, msg: bytes) -> None:
        self.messages += 1
        if self.want is not None and self.want(msg):
            t1 = time.perf_counter()
            reply = json.loads(msg)  # both targets pay one parse per reply
            res = self.res
            assert res is not None
            if reply.get("type") == "error":
                res.errors.append(reply.get("code", "?"))
            else:
                res.latencies.append(t1 - self.t0)
                if t1 > res.last_reply:
                    res.last_reply = t1
            self.want = None
            assert self.gate is not None
            self.gate.arrive()
            return
        if self.opened is not None and b'"name":"ballot.opened"' in msg:
            self.n_opened += 1
            if self.n_opened <= len(self.opened):
                self.opened[self.n_opened - 1].arrive()
            return
        if self.waiter is not None and self.waiter[0](msg):
            fut = self.waiter[1]
            self.waiter = None
            if not fut.done():
                fut.set_result(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        self.proto.receive_eof()
        self.transport = None
        for fut in (self.handshake, self.waiter[1] if self.waiter else None):
            if fut is not None and not fut.done():
                fut.set_exception(ConnectionError(f"connection lost (close code {self.close_code})"))
        if self.want is not None and self.gate is not None and self.res is not None:
            self.res.errors.append(f"closed {self.close_code}")
            self.want = None
            self.gate.arrive()

    async def request(self, text: bytes | None, pred: Any, timeout: float) -> bytes:
        fut = asyncio.get_running_loop().create_future()
        self.waiter = (pred, fut)
        if text is not None:
            self.send(text)
        return await asyncio.wait_for(fut, timeout)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            try:
                self.proto.send_close(1000)
                self._flush()
            except Exception:
                pass
            self.transport.close()


async def open_conn(url: str, port: int, opened: list[Gate] | None) -> Conn:
    loop = asyncio.get_running_loop()
    _, conn = await asyncio.wait_for(loop.create_connection(lambda: Conn(url, opened), "127.0.0.1", port), 30)
    await asyncio.wait_for(conn.handshake, 30)
    return conn


def cast_text(i: int, r: int, size: int = 0) -> bytes:
    text = f'{{"type":"cast","id":"x","ballot":"b{r + 1}","choice":"for","key":"k{r + 1}-{i}"}}'
    return (text + " " * max(0, size - len(text))).encode()


async def open_all(n: int, setup: Any) -> tuple[list[Conn], list[str]]:
    """Open n connections, at most 100 handshakes at a time; bounded."""
    sem = asyncio.Semaphore(100)
    failures: list[str] = []

    async def one(i: int) -> Conn | None:
        async with sem:
            try:
                return await setup(i)
            except Exception as exc:
                failures.append(f"seat {i}: {type(exc).__name__}: {exc}")
                return None

    t = time.monotonic()
    conns = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), 150)
    ready = [c for c in conns if c is not None]
    print(
        f"    {len(ready)}/{n} connections ready in {time.monotonic() - t:.1f} s"
        + (f" ({len(failures)} failed, e.g. {failures[:2]})" if failures else ""),
        flush=True,
    )
    return ready, failures


async def fire(conns: list[Conn], r: int, payload: Any, want: Any, timeout: float) -> Round:
    """Every seat sends at once: one tight loop over the sockets (no per-seat wake-up),
    each send timed on its own; then wait for every reply."""
    res = Round()
    gate = Gate(len(conns))
    for _i, c in enumerate(conns):
        c.res, c.gate, c.want = res, gate, want
    texts = [payload(i, r) for i in range(len(conns))]
    perf = time.perf_counter
    res.first_send = perf()
    for c, text in zip(conns, texts):
        c.t0 = perf()
        if c.transport is None:
            c.want = None
            res.errors.append("closed before send")
            gate.arrive()
            continue
        c.send(text)
        res.sent += 1
    res.last_send = perf()
    if not await gate.wait(timeout):
        for c in conns:
            if c.want is not None:
                c.want = None
                res.errors.append("timeout")
    return res


def report_round(r: int, res: Round) -> None:
    row = res.row()
    print(
        f"    round {r + 1}: {row['replies']}/{row['n']} replies, {row['rate']:,.0f}/s, "
        f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms, "
        f"sends took {row['send_spread_ms']:.1f} ms, errors {row['errors']}",
        flush=True,
    )


async def run_echo(port: int, n: int, rounds: int, timeout: float, size: int) -> list[Round]:
    url = f"ws://127.0.0.1:{port}/"
    conns, failures = await open_all(n, lambda i: open_conn(url, port, None))
    results = []
    try:
        for r in range(rounds):
            await asyncio.sleep(0.3)  # quiet loop before the burst
            sent: dict[int, bytes] = {}

            def payload(i: int, r: int, sent: dict[int, bytes] = sent) -> bytes:
                sent[i] = cast_text(i, r, size)
                return sent[i]

            res = await fire(conns, r, payload, lambda m: m.startswith(b'{"type":"cast"'), timeout)
            res.errors += ["connect"] * len(failures)
            report_round(r, res)
            results.append(res)
    finally:
        for c in conns:
            c.close()
        await asyncio.sleep(0.2)
    return results


class Clerk:
    """Clerk commands on a short-lived connection each (the console below stays connected)."""

    def __init__(self, url: str, port: int, token: str) -> None:
        self.url, self.port, self.token = url, port, token

    async def command(self, name: str, **args: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        conn = await open_conn(self.url, self.port, None)
        closed: list[dict[str, Any]] = []
        try:
            welcome = await conn.request(
                json.dumps({"type": "hello", "token": self.token}).encode(), lambda m: _is(m, b"welcome"), 30
            )

            def pred(m: bytes) -> bool:
                if b'"name":"ballot.closed"' in m:  # published before the ok
                    closed.append(json.loads(m)["event"])
                return b'"re":"cmd"' in m

            reply = json.loads(
                await conn.request(
                    json.dumps({"type": "command", "id": "cmd", "name": name, "args": args}).encode(), pred, 60
                )
            )
            if name == "close_ballot" and b'"certificate":true' in welcome:
                # the tally certificate is rendered on a thread after the close: let it finish
                # so it does not share the CPU with the next burst
                t = time.monotonic()
                tag = b'"ballot":"%s"' % args["ballot"].encode()
                try:
                    await conn.request(None, lambda m: b'"name":"certificate.issued"' in m and tag in m, 60)
                    print(f"    (certificate for {args['ballot']} issued {time.monotonic() - t:.1f} s after the close)")
                except TimeoutError:
                    print(f"    (no certificate.issued for {args['ballot']} within 60 s; going on)")
        finally:
            conn.close()
        if reply.get("type") != "ok":
            raise SystemExit(f"clerk {name} {args}: {reply}")
        return reply, (closed[-1] if closed else None)


async def run_hemicycle(
    port: int, creds: dict[str, Any], n: int, rounds: int, timeout: float, prof: Any
) -> tuple[list[Round], list[str], dict[str, Any]]:
    url = f"ws://127.0.0.1:{port}/ws"
    clerk = Clerk(url, port, creds["clerk"]["token"])
    opened = [Gate(n) for _ in range(rounds)]
    # the clerk console stays connected through the bursts (it receives every vote.cast)
    console = await open_conn(url, port, None)
    await console.request(
        json.dumps({"type": "hello", "token": creds["clerk"]["token"]}).encode(), lambda m: _is(m, b"welcome"), 30
    )
    seats = list(creds["seats"].values())[:n]

    async def setup(i: int) -> Conn:
        conn = await open_conn(url, port, opened)
        try:
            await conn.request(
                json.dumps({"type": "hello", "token": seats[i]["token"]}).encode(),
                lambda m: _is(m, b"welcome") or _is(m, b"error"),
                60,
            )
            ok = await conn.request(b'{"type":"check_in","id":"c"}', lambda m: b'"re":"c"' in m, 60)
            if not _is(ok, b"ok"):
                raise RuntimeError(f"check-in refused: {ok[:200]!r}")
        except BaseException:
            conn.close()
            raise
        return conn

    conns, failures = await open_all(n, setup)
    for g in opened:
        g.n = len(conns)
    results: list[Round] = []
    want = lambda m: (_is(m, b"ack") or _is(m, b"error")) and b'"re":"x"' in m  # noqa: E731
    try:
        await asyncio.sleep(1.5)  # the coalesced attendance summary (once a second) goes out first
        for r in range(rounds):
            await clerk.command("open_ballot", ballot=f"b{r + 1}")
            if not await opened[r].wait(60):
                raise SystemExit(f"round {r + 1}: only {opened[r].count}/{len(conns)} seats saw the ballot open")
            await asyncio.sleep(0.3)  # quiet loop before the burst
            if prof is not None:
                prof[0](r)
            res = await fire(conns, r, cast_text, want, timeout)
            if prof is not None:
                prof[1](r)
            res.errors += ["connect"] * len(failures)
            report_round(r, res)
            _, closed = await clerk.command("close_ballot", ballot=f"b{r + 1}")
            res.recorded = closed["result"].get("voted") if closed else None
            results.append(res)
    finally:
        info = {
            "console_close_code": console.close_code,
            "console_messages": console.messages,
            "seat_drops": sum(1 for c in conns if c.close_code is not None),
        }
        for c in conns:
            c.close()
        console.close()
        await asyncio.sleep(0.2)
    return results, failures, info


def med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="child")
    s = sub.add_parser("_serve")
    for a in ("--agenda", "--db", "--credentials", "--data-dir", "--ws", "--loop", "--http"):
        s.add_argument(a, required=True)
    s.add_argument("--trace", action="store_true")
    s.add_argument("--cprofile")
    s.add_argument("--gc", default="default")
    a = sub.add_parser("_asgi_echo")
    for opt in ("--ws", "--loop", "--http"):
        a.add_argument(opt, required=True)
    e = sub.add_parser("_echo")
    e.add_argument("--loop", default="asyncio")
    p.add_argument("--seats", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3, help="bursts per target (a fresh ballot each); medians reported")
    p.add_argument(
        "--ws",
        default="auto",
        help="uvicorn --ws: auto (= the served protocol, server/edge/frames.py), websockets, websockets-sansio, wsproto",
    )
    p.add_argument("--loop", default="auto", help="uvicorn --loop: auto (= uvloop), uvloop, asyncio")
    p.add_argument("--http", default="auto", help="uvicorn --http: auto (= httptools), httptools, h11")
    p.add_argument(
        "--echo-loop",
        default="uvloop",
        choices=["asyncio", "uvloop"],
        help="event loop of the bare echo server (default uvloop, the loop the server under test runs)",
    )
    p.add_argument("--client-loop", default="uvloop", choices=["asyncio", "uvloop"])
    p.add_argument("--timeout", type=float, default=20.0, help="per-seat wait for its reply")
    p.add_argument("--skip-echo", action="store_true")
    p.add_argument(
        "--asgi-echo",
        action="store_true",
        help="also measure an echo endpoint in Starlette on uvicorn (same ws/loop/http options)",
    )
    p.add_argument("--profile", metavar="DIR", help="py-spy record the server during each hemicycle burst")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument(
        "--gc",
        default="default",
        choices=["default", "freeze-on-open", "off"],
        help="server GC policy to try (bench-side patch; default: the server as it is)",
    )
    p.add_argument("--cprofile", metavar="DIR", help="cProfile the server's event loop during each hemicycle burst")
    p.add_argument("--trace", action="store_true", help="log each group commit of the server (tmp/server.log)")
    p.add_argument("--no-doc", action="store_true", help="do not append to docs/benchmarks.md")
    p.add_argument("--secret", action="store_true", help="secret ballots (the urn path) instead of named ones")
    p.add_argument(
        "--server-root",
        metavar="DIR",
        help="run the server from another source tree (e.g. `git worktree add /tmp/base main`): a baseline",
    )
    p.add_argument("--budget", type=float, default=170.0, help="seconds for the whole run")
    p.add_argument(
        "--backends",
        default="sqlite",
        help="stores to measure in turn, comma-separated: sqlite, postgres (a standby following), postgres-alone (bench/burst_backend.py)",
    )
    args = p.parse_args(argv)
    if args.child == "_serve":
        child_serve(args)
        return 0
    if args.child == "_asgi_echo":
        child_asgi_echo(args)
        return 0
    if args.child == "_echo":
        child_echo(args)
        return 0

    t_start = time.monotonic()
    deadline = t_start + args.budget
    nofile = _raise_nofile()
    if nofile < args.seats + 200:
        print(f"open-file limit {nofile} is too low for {args.seats} connections", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(SystemExit("time budget exceeded")))
    signal.alarm(int(args.budget) + 1)

    tmp = Path(tempfile.mkdtemp(prefix="hemicycle-bench-"))
    agenda = tmp / "agenda.toml"
    write_agenda(agenda, args.seats, args.rounds, args.secret)
    procs: list[subprocess.Popen] = []
    echo_rows: list[dict[str, Any]] = []
    asgi_rows: list[dict[str, Any]] = []
    measured: list[Measured] = []
    try:
        machine_line = machine()
        print(f"vote burst: {args.seats} seats x {args.rounds} rounds; {machine_line}", flush=True)
        print(
            f"  uvicorn ws={args.ws} loop={args.loop} http={args.http}; echo loop={args.echo_loop}; "
            f"client loop={args.client_loop}; stores {args.backends}; tmp {tmp}",
            flush=True,
        )
        runner = asyncio.run
        if args.client_loop == "uvloop":
            import uvloop

            runner = uvloop.run

        if not args.skip_echo:
            echo, eport = start_child(["_echo", "--loop", args.echo_loop], tmp / "echo.log", deadline)
            procs.append(echo)
            print("  echo (bare websockets, compression off):", flush=True)
            eb = runner(run_echo(eport, args.seats, args.rounds, args.timeout, len(cast_text(args.seats, 0))))
            echo_rows = [r.row() for r in eb]
            stop_child(echo)

        if args.asgi_echo:
            aproc, aport = start_child(
                ["_asgi_echo", "--ws", args.ws, "--loop", args.loop, "--http", args.http],
                tmp / "asgi-echo.log",
                deadline,
            )
            procs.append(aproc)
            print(f"  echo in Starlette on uvicorn (ws={args.ws}, loop={args.loop}):", flush=True)
            ab = runner(run_echo(aport, args.seats, args.rounds, args.timeout, len(cast_text(args.seats, 0))))
            asgi_rows = [r.row() for r in ab]
            stop_child(aproc)

        for name in args.backends.split(","):
            backend = BACKENDS[name](tmp)
            try:
                measured.append(measure(backend, agenda, args, deadline, runner))
            finally:
                for proc in backend.procs:
                    stop_child(proc)
                backend.drop()
    finally:
        signal.alarm(0)
        for proc in procs:
            stop_child(proc)
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)

    lost_total = sum(m.lost for m in measured)
    hemi_rows = [row for m in measured for row in m.rows]
    report = render(args, echo_rows, measured, time.monotonic() - t_start, asgi_rows)
    print()
    print(report)
    if not args.no_doc:
        append_section(
            "Vote burst",
            report,
            machine_line=machine_line,
            packages=("uvicorn", "websockets", "uvloop", "httptools", "starlette"),
        )
    ok = hemi_rows and lost_total == 0 and all(r["errors"] == 0 for r in hemi_rows)
    return 0 if ok else 1


@dataclass
class Measured:
    """One store's bursts: the rows (one per round), votes lost, what `verify` said, notes."""

    label: str
    rows: list[dict[str, Any]]
    lost: int
    verify: str
    notes: list[str]


def measure(backend: Backend, agenda: Path, args: argparse.Namespace, deadline: float, runner: Any) -> Measured:
    """Start the server on ``backend``, run the bursts, count the database and verify it."""
    extra = ["--ws", args.ws, "--loop", args.loop, "--http", args.http, "--gc", args.gc]
    extra += ["--trace"] if args.trace else []
    extra += ["--cprofile", str(Path(args.cprofile).resolve())] if args.cprofile else []
    root = Path(args.server_root).resolve() if args.server_root else ROOT
    port = backend.start(
        lambda argv, log: start_child(argv, log, deadline, root), agenda, extra, min(deadline, time.monotonic() + 60)
    )
    creds = json.loads(backend.creds_path.read_text())
    leader = backend.procs[0]
    prof = None
    if args.profile:
        prof = profiler(Path(args.profile), leader.pid)
    elif args.cprofile:
        prof = (
            lambda r: (os.kill(leader.pid, signal.SIGUSR1), time.sleep(0.2)),
            lambda r: (time.sleep(0.3), os.kill(leader.pid, signal.SIGUSR2)),
        )
    print(f"  hemicycle on {backend.label} (hello, check in, open ballot, all cast at once):", flush=True)
    hres, hfail, info = runner(run_hemicycle(port, creds, args.seats, args.rounds, args.timeout, prof))
    notes = [n for n in (backend.note(),) if n]
    for proc in backend.procs:
        stop_child(proc)
    counts = backend.counts(args.rounds)
    rows, lost = [], 0
    for r, res in enumerate(hres):
        row = res.row()
        row["db"] = counts[f"b{r + 1}"]
        row["lost"] = res.sent - row["db"]
        lost += max(0, row["lost"])
        if row["recorded"] != row["db"]:
            print(f"  ! round {r + 1}: result says {row['recorded']} voted, the database holds {row['db']}")
        rows.append(row)
    v = subprocess.run(
        [str(Path(PY).parent / "hemicycle"), "verify", "--db", backend.db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=max(5, deadline - time.monotonic()),
    )
    said = (v.stdout + v.stderr).strip()
    verified = said.splitlines()[-1] if said else f"rc {v.returncode}"
    if v.returncode != 0:
        lost = max(lost, 1)
        print(f"  ! verify failed: {v.stdout}{v.stderr}")
    if hfail:
        notes.append(f"{len(hfail)} seats failed to connect, e.g. {hfail[:3]}")
    if info["console_close_code"] is not None or info["seat_drops"]:
        notes.append(
            f"the clerk console was disconnected during the bursts (close code "
            f"{info['console_close_code']}); seats disconnected: {info['seat_drops']}"
        )
    for note in notes:
        print(f"  - {note}")
    return Measured(backend.label, rows, lost, verified, notes)


def render(
    args: argparse.Namespace,
    echo_rows: list[dict[str, Any]],
    measured: list[Measured],
    elapsed: float,
    asgi_rows: list[dict[str, Any]] | None = None,
) -> str:
    def fmt(rows: list[dict[str, Any]]) -> tuple[str, str, str, str]:
        if not rows:
            return ("—",) * 4
        return (
            f"{med(rows, 'rate'):,.0f}",
            f"{med(rows, 'p50_ms'):.1f}",
            f"{med(rows, 'p99_ms'):.1f}",
            f"{med(rows, 'max_ms'):.1f}",
        )

    e = fmt(echo_rows)
    server = f"uvicorn ws={args.ws}, loop={args.loop}{'' if args.gc == 'default' else ', gc ' + args.gc}"
    lines = [
        f"| {args.seats:,} seats at once, median of {args.rounds} | replies/s | p50 ms | p99 ms | max ms | lost |",
        "|---|---:|---:|---:|---:|---:|",
        f"| bare `websockets` echo (compression off, {args.echo_loop}) | {e[0]} | {e[1]} | {e[2]} | {e[3]} | "
        f"{sum(r['n'] - r['replies'] for r in echo_rows) if echo_rows else '—'} |",
    ]
    if asgi_rows:
        a = fmt(asgi_rows)
        lines.append(
            f"| echo in Starlette on uvicorn (ws={args.ws}, loop={args.loop}) | {a[0]} | {a[1]} | "
            f"{a[2]} | {a[3]} | {sum(r['n'] - r['replies'] for r in asgi_rows)} |"
        )
    for m in measured:
        h = fmt(m.rows)
        store = "" if len(measured) == 1 else f", {m.label}"
        lines.append(f"| hemicycle cast → ack ({server}{store}) | {h[0]} | {h[1]} | {h[2]} | {h[3]} | {m.lost} |")
    lines.append("")
    for m in measured:
        of = "" if len(measured) == 1 else f" ({m.label})"
        if echo_rows and m.rows:
            rate = med(m.rows, "rate") / med(echo_rows, "rate")
            p99 = med(m.rows, "p99_ms") / med(echo_rows, "p99_ms")
            lines += [
                f"- votes/s ÷ echo round trips/s{of} = **{rate:.2f}** (target ≥ {TARGET_RATE}) "
                f"{'met' if rate >= TARGET_RATE else 'NOT met'}",
                f"- ack p99 ÷ echo p99{of} = **{p99:.2f}** (target ≤ {TARGET_P99}) "
                f"{'met' if p99 <= TARGET_P99 else 'NOT met'}",
            ]
        lines.append(
            f"- lost votes{of}: **{m.lost}** (casts sent − votes in the database, all rounds; target 0); "
            f"`hemicycle verify`: {m.verify}"
        )
        per = ", ".join(f"{r['rate']:,.0f}/s p99 {r['p99_ms']:.0f} ms" for r in m.rows)
        lines.append(f"- hemicycle rounds{of}: {per}")
        lines += [f"- note{of}: {note}" for note in m.notes]
    if len(measured) == 2 and all(m.rows for m in measured):
        first, second = measured
        lines.append(
            f"- {second.label} ÷ {first.label}: votes/s **{med(second.rows, 'rate') / med(first.rows, 'rate'):.2f}**, "
            f"ack p99 **{med(second.rows, 'p99_ms') / med(first.rows, 'p99_ms'):.2f}**"
        )
    if echo_rows:
        lines.append("- echo rounds: " + ", ".join(f"{r['rate']:,.0f}/s p99 {r['p99_ms']:.0f} ms" for r in echo_rows))
    lines.append(f"- run took {elapsed:.0f} s")
    return "\n".join(lines)


def profiler(out: Path, pid: int) -> tuple[Any, Any]:
    """py-spy the server during each burst (raw collapsed stacks + an SVG flame graph)."""
    out.mkdir(parents=True, exist_ok=True)
    spy = str(Path(PY).parent / "py-spy")
    running: dict[int, list[subprocess.Popen]] = {}

    def start(r: int) -> None:
        procs = []
        for fmt, name in (("raw", f"round{r + 1}.txt"), ("flamegraph", f"round{r + 1}.svg")):
            if fmt == "flamegraph" and r > 0:
                continue
            procs.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        "500",
                        "--gil",
                        "--format",
                        fmt,
                        "-o",
                        str(out / name),
                        "--duration",
                        "30",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        running[r] = procs
        time.sleep(0.3)  # attach before the burst starts (blocks the client loop only here)

    def stop(r: int) -> None:
        for proc in running.pop(r, []):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    return start, stop


if __name__ == "__main__":
    sys.exit(main())
