"""Nightly-size fuzz run: ≥ 100,000 hostile and ordinary messages from every role against
`hemicycle serve`, counted by the code of their answers.

Usage:
    .venv/bin/python bench/fuzz.py                      # 100,000 messages, recorded in docs/benchmarks.md
    .venv/bin/python bench/fuzz.py --messages 5000 --no-doc   # a quick look

What it does (the server and the clients are separate processes, on loopback):

1. Writes the fuzz sitting's agenda (tests/fuzzing.py: one ballot of every kind) with
   ``--seats`` members to a temporary folder and starts ``hemicycle serve`` on it, exactly as
   served (its default limits: 20 messages/s a connection, 2,000/s for the keypad bridge),
   its log going to a file. Uploads one document.
2. Draws pools of frames for each role from the hypothesis strategies of tests/fuzzing.py
   (every message type of every role, every clerk command, ballot specs with numeric
   extremes, hostile ids, wrong types, deep nesting, frames that are not JSON, not text or
   not UTF-8), for at most ``--pool-seconds``: hypothesis draws a few hundred frames a
   second, so the run sends frames picked at random from the pools; their placeholders
   (the open ballot, a choice valid for it, a fresh idempotency key, a seat, the document)
   are filled in at the moment of sending from what the sitting holds then, so no two
   sends of a pooled frame do the same thing.
3. Sends until ``--messages`` have been answered or ``--budget`` seconds have passed: one
   connection per seat (each paced under its 20/s), four clerk consoles, a keypad bridge
   (1,500/s), two displays, and a stream of new connections whose first frame is a hello,
   a forged or malformed one, or junk. A further clerk connection only listens, to know
   what the placeholders stand for. Every frame must get exactly one answer within 30 s.
4. Stops the server and reads its log; runs ``hemicycle verify`` on the record.
5. Prints the answers by role and code, messages per second, ``internal`` answers,
   tracebacks and ERROR lines in the server log (all three must be 0), and appends the
   figures to docs/benchmarks.md (bench/record.py) unless ``--no-doc``.

Bounds: the message count, the wall-clock budget, and a 30 s timeout on every answer.
Exit status 1 if anything was not a documented code, ``internal``, a traceback or a
missing answer.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/fuzzing.py, bench/record.py

import httpx  # noqa: E402
import websockets  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import HypothesisWarning  # noqa: E402

from bench.record import append_section, machine  # noqa: E402
from tests import fuzzing as f  # noqa: E402
from tests.fixtures.documents import make_pdf  # noqa: E402
from tests.support import member_list, write_agenda_toml  # noqa: E402

BIN = ROOT / ".venv" / "bin"
ANSWERS = ("error", "ok", "ack", "pong")
RATES = {"seat": 18.0, "clerk": 18.0, "display": 18.0, "device": 1500.0}  # under the server's 20/s and 2,000/s
WINDOW = {"device": 64}  # frames awaiting their answers on one connection (a bridge pipelines; screens wait)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: Path, seats: int) -> tuple[subprocess.Popen[bytes], int, Path]:
    data = f.fuzz_agenda_data()
    data["members"] = member_list(seats)
    agenda = write_agenda_toml(tmp / "fuzz.toml", data)
    port, log = free_port(), tmp / "server.log"
    proc = subprocess.Popen(
        [str(BIN / "hemicycle"), "serve", "--agenda", str(agenda), "--db", str(tmp / "sitting.db"),
         "--credentials", str(tmp / "credentials.json"), "--data-dir", str(tmp), "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=open(log, "wb"), cwd=tmp, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, port, log
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start; see {log}:\n{log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def draw_pools(seconds: float, run_seed: int) -> dict[str, list[f.Frame]]:
    """Distinct frames per role, as many as hypothesis draws in ``seconds`` (split evenly)."""
    sources = {
        "clerk": f.frames_for("clerk"),
        "seat": f.frames_for("seat"),
        "device": f.frames_for("device"),
        "display": f.frames_for("display"),
        "hello": f.hello_frames(),
    }
    pools: dict[str, list[f.Frame]] = {}
    for i, (role, strategy) in enumerate(sources.items()):
        pools[role] = _draw(strategy, time.monotonic() + seconds / len(sources), run_seed + i)
        if not pools[role]:
            raise SystemExit(f"hypothesis drew no {role} frames")
    return pools


class _Enough(Exception):
    """Raised from inside the drawing to stop it: the time for this pool is up."""


def _draw(strategy: st.SearchStrategy[f.Frame], until: float, run_seed: int) -> list[f.Frame]:
    pool: list[f.Frame] = []

    @seed(run_seed)
    @settings(
        max_examples=1_000_000,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(strategy, min_size=10, max_size=10))
    def collect(batch: list[f.Frame]) -> None:
        pool.extend(batch)
        if time.monotonic() > until:
            raise _Enough

    try:
        collect()
    except _Enough:
        pass
    return pool


class Tally:
    """Answers by role and code; every problem kept for the report."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = codes
        self.by_role: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.problems: list[str] = []
        self.answered = 0

    def record(self, role: str, msg: dict[str, Any], frame: Any) -> None:
        self.answered += 1
        self.by_role[role][msg.get("code") or msg["type"]] += 1
        problem = f.answer_problem(msg, self.codes)
        if problem and len(self.problems) < 50:
            self.problems.append(f"{role}: {problem}: {json.dumps(frame, ensure_ascii=False, default=repr)[:300]}")

    def fail(self, role: str, what: str) -> None:
        self.by_role[role][what] += 1
        if len(self.problems) < 50:
            self.problems.append(f"{role}: {what}")


class Run:
    def __init__(self, url: str, creds: dict[str, Any], pools: dict[str, list[f.Frame]], args: argparse.Namespace):
        self.url, self.creds, self.pools, self.args = url, creds, pools, args
        self.world = f.World(seats=[m["seat"] for m in member_list(args.seats)])
        self.tally = Tally(f.documented_codes())
        self.rng = random.Random(args.seed)
        self.stop_at = time.monotonic() + args.budget
        self.started = time.monotonic()

    def done(self) -> bool:
        return self.tally.answered >= self.args.messages or time.monotonic() > self.stop_at

    async def connect(self) -> Any:
        return await websockets.connect(self.url, max_size=None, compression=None, ping_interval=None, open_timeout=30)

    async def observe(self) -> None:
        """The listening clerk: what the placeholders stand for (ballots, the open one, documents)."""
        world = self.world
        async with await self.connect() as ws:
            await ws.send(json.dumps({"type": "hello", "token": self.creds["clerk"]["token"]}))
            while not self.done():
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                except TimeoutError:
                    await ws.send('{"type":"ping"}')
                    continue
                if msg["type"] == "welcome":
                    snap = msg["snapshot"]
                    world.ballots = {v["id"]: v for v in snap["ballots"]}
                    world.open = next((v["id"] for v in snap["ballots"] if v["status"] in ("open", "held")), None)
                    world.documents = [d["id"] for d in snap["documents"]]
                elif msg["type"] == "event":
                    ev = msg["event"]
                    name, ballot = ev["name"], ev.get("ballot")
                    if name == "ballot.created":
                        world.ballots[ballot["id"]] = ballot
                    elif name == "ballot.opened":
                        world.open = ballot
                    elif name in ("ballot.closed", "ballot.voided") and world.open == ballot:
                        world.open = None
                    elif name == "document.added":
                        world.documents.append(ev["document"]["id"])

    async def speak(self, role: str, token: str) -> None:
        """One connection of ``role``, paced under its rate, with at most ``WINDOW[role]`` frames
        awaiting their answers (one for people's screens; the keypad bridge pipelines)."""
        pool, interval, window = self.pools[role], 1.0 / RATES[role], WINDOW.get(role, 1)
        loop = asyncio.get_running_loop()
        while not self.done():
            try:
                async with await self.connect() as ws:
                    await ws.send(json.dumps({"type": "hello", "token": token}))
                    await self._answer(ws, ("welcome",))
                    free = asyncio.Semaphore(window)
                    sent: collections.deque[f.Frame] = collections.deque(maxlen=window)
                    reader = asyncio.create_task(self._read_answers(ws, role, free, sent))
                    try:
                        due = loop.time()
                        while not self.done():
                            await asyncio.wait_for(free.acquire(), 30)
                            frame = self.world.resolve(self.rng.choice(pool))
                            payload, text = f.encode_frame(frame)
                            sent.append(frame)
                            await ws.send(payload, text=text)
                            # paced, without catching up after a slow answer: a burst over the
                            # server's allowance would only measure its rate limit
                            due = max(due + interval, loop.time())
                            await asyncio.sleep(max(0.0, due - loop.time()))
                        for _ in range(window):  # the last answers
                            await asyncio.wait_for(free.acquire(), 30)
                    finally:
                        reader.cancel()
            except TimeoutError:
                self.tally.fail(role, "no answer within 30 s")
            except websockets.ConnectionClosed as exc:
                self.tally.fail(role, f"closed {exc.rcvd.code if exc.rcvd else '?'}")

    async def _read_answers(
        self, ws: Any, role: str, free: asyncio.Semaphore, sent: collections.deque[f.Frame]
    ) -> None:
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] in ANSWERS:
                self.tally.record(role, msg, sent[0] if len(sent) == 1 else ("one of the last frames", len(sent)))
                free.release()

    async def greet(self) -> None:
        """New connections whose first frame is anything: a hello (good or not) or junk."""
        tokens = {"clerk": self.creds["clerk"]["token"], "display": self.creds["display"]["token"]}
        tokens |= {"device": self.creds["device"]["token"], "seat": next(iter(self.creds["seats"].values()))["token"]}
        world = f.World(tokens=tokens)
        while not self.done():
            frame = world.resolve(self.rng.choice(self.pools["hello"]))
            payload, text = f.encode_frame(frame)
            try:
                async with await self.connect() as ws:
                    await ws.send(payload, text=text)
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if msg["type"] == "welcome":
                        self.tally.answered += 1
                        self.tally.by_role["hello"]["welcome"] += 1
                    else:
                        self.tally.record("hello", msg, frame)
                        await asyncio.wait_for(ws.recv(), 30)  # the server closes (4001)
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                expected = {4001} | ({1007} if frame[0] == "badutf8" else set())
                if code in expected:
                    self.tally.answered += code == 1007
                    self.tally.by_role["hello"][f"closed {code}"] += 1
                else:
                    self.tally.fail("hello", f"closed {code} after {frame[0]}")
            except TimeoutError:
                self.tally.fail("hello", "no answer within 30 s")
            await asyncio.sleep(0.05)

    async def _answer(self, ws: Any, types: tuple[str, ...]) -> dict[str, Any]:
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if msg["type"] in types:
                return msg

    async def main(self) -> None:
        seats = list(self.creds["seats"].values())[: self.args.seats]
        observer = asyncio.create_task(self.observe())
        await asyncio.sleep(1.0)  # the observer's welcome first: the placeholders need the ballots
        tasks = [self.speak("seat", s["token"]) for s in seats]
        tasks += [self.speak("clerk", self.creds["clerk"]["token"]) for _ in range(4)]
        tasks += [self.speak("display", self.creds["display"]["token"]) for _ in range(2)]
        tasks += [self.speak("device", self.creds["device"]["token"]), self.greet()]
        await asyncio.gather(*tasks)
        await observer


def server_faults(log: Path) -> tuple[int, int, list[str]]:
    """Tracebacks and ERROR lines in the server's log, with the first few lines of each."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    errors = [line for line in lines if line.startswith("ERROR") or " ERROR " in line]
    return tracebacks, len(errors), errors[:5]


def report(
    run: Run, pools: dict[str, list[f.Frame]], elapsed: float, faults: tuple[int, int, list[str]], verify: str
) -> str:
    tally = run.tally
    codes = sorted({code for counter in tally.by_role.values() for code in counter})
    roles = ["clerk", "seat", "device", "display", "hello"]
    sent = {role: sum(tally.by_role[role].values()) for role in roles}
    out = ["| answer | " + " | ".join(roles) + " | all |", "|---|" + "---:|" * (len(roles) + 1)]
    for code in codes:
        counts = [tally.by_role[role][code] for role in roles]
        out.append(f"| `{code}` | " + " | ".join(f"{n:,}" for n in counts) + f" | {sum(counts):,} |")
    out.append("| **all** | " + " | ".join(f"{sent[r]:,}" for r in roles) + f" | {sum(sent.values()):,} |")
    internal = sum(counter["internal"] for counter in tally.by_role.values())
    tracebacks, errors, first = faults
    out += [
        "",
        f"- messages answered: **{tally.answered:,}** in {elapsed:.0f} s = **{tally.answered / elapsed:,.0f} messages/s** "
        f"({run.args.seats} seat connections, 4 clerk consoles, a keypad bridge, 2 displays, new connections)",
        f"- `internal` answers: **{internal}**; tracebacks in the server log: **{tracebacks}**; ERROR lines: **{errors}**",
        f"- frames drawn by hypothesis (seed {run.args.seed}): "
        + ", ".join(f"{role} {len(pool):,}" for role, pool in pools.items()),
        f"- problems (undocumented codes, missing answers, unexpected closes): **{len(tally.problems)}**",
        f"- `hemicycle verify`: {verify}",
    ]
    out += [f"  - {p}" for p in tally.problems[:10]]
    out += [f"  - server log: {line[:200]}" for line in first]
    return "\n".join(out)


def main() -> int:
    warnings.filterwarnings("ignore", category=HypothesisWarning)  # large reprs of 70 kB frames
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--budget", type=float, default=600.0, help="seconds for the sending, at most")
    p.add_argument("--pool-seconds", type=float, default=60.0, help="seconds hypothesis may spend drawing frames")
    p.add_argument("--seats", type=int, default=120, help="seat connections (members of the sitting)")
    p.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "big"))
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args()
    machine_line = machine()
    with tempfile.TemporaryDirectory(prefix="hemicycle-fuzz-") as name:
        tmp = Path(name)
        print(f"drawing frames for {args.pool_seconds:.0f} s (seed {args.seed}) …", flush=True)
        pools = draw_pools(args.pool_seconds, args.seed)
        proc, port, log = start_server(tmp, args.seats)
        try:
            creds = json.loads((tmp / "credentials.json").read_text())
            http = f"http://127.0.0.1:{port}"
            up = httpx.post(
                f"{http}/api/documents",
                files={"file": ("a.pdf", make_pdf(2), "application/pdf")},
                data={"title": "草案", "item": "item1"},
                headers={"Authorization": f"Bearer {creds['clerk']['token']}"},
                timeout=30,
            )
            up.raise_for_status()
            run = Run(f"ws://127.0.0.1:{port}/ws", creds, pools, args)
            print(f"sending up to {args.messages:,} messages for at most {args.budget:.0f} s …", flush=True)
            asyncio.run(run.main())
            elapsed = time.monotonic() - run.started
        finally:
            stop_server(proc)
        verified = subprocess.run(
            [str(BIN / "hemicycle"), "verify", "--db", str(tmp / "sitting.db")], capture_output=True, text=True
        )
        verify = (
            (verified.stdout or verified.stderr).strip().splitlines()[0]
            if (verified.stdout or verified.stderr)
            else "?"
        )
        faults = server_faults(log)
        body = report(run, pools, elapsed, faults, verify)
    print(body)
    internal = sum(counter["internal"] for counter in run.tally.by_role.values())
    ok = internal == 0 and faults[0] == 0 and faults[1] == 0 and not run.tally.problems and verified.returncode == 0
    ok = ok and run.tally.answered >= args.messages
    if not args.no_doc:
        append_section(
            "Fuzz: hostile messages from every role",
            body,
            packages=("hypothesis", "uvicorn", "websockets", "starlette", "orjson"),
            intro="Every answer must be `ok`, `ack`, `pong` or a documented error code; never `internal`, "
            "never a traceback in the server's log (bench/fuzz.py).",
            machine_line=machine_line,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
