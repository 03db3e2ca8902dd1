"""Keypad key press -> server ack: simulator -> pty -> bus master -> bridge -> server.

Three processes, as in a real room: the server (``hemicycle serve``, SQLite record), the
simulated keypad line (128 units behind a real pty at 115200 Bd, replying at modelled wire
time; it presses a key the moment it reads a command on its stdin) and this process, which
runs the bridge and the bus master exactly as ``hemicycle keypads`` does.

Latency of one press = time the bridge receives the server's ``ack`` for it (the moment
it confirms the press to the bus) - time this process told the simulator to press (both
CLOCK_MONOTONIC, which Linux shares between processes; the pipe hop counts against us).

Scenarios, all in one ballot that allows changing a vote (so every press is a cast):
* spread: the 128 members press at random moments over a few seconds (one at a time);
* burst: all 128 press at the same instant (the worst case for a polled bus).
Target: key-to-ack p99 <= one full poll cycle + 50 ms: the idle cycle for spread presses; for
the burst, the wire-time floor of a pass that reads a press from every unit (it is above the
idle cycle, so no schedule could meet the idle figure; the report prints it).

    .venv/bin/python bench/keypad_e2e.py [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.record import append_section, machine  # noqa: E402

UNITS = 128
BAUD = 115200
SLACK = 0.050
INTRO = (
    "Simulated line (128 units, 115200 Bd, real pty, own process) → bus master → bridge (the bench "
    "process, set up as `hemicycle keypads` is) → `hemicycle serve` (own process, SQLite). Latency = the "
    "bridge receives the server's `ack` (and confirms the press to the bus) − the bench tells the simulator "
    "to press. One ballot allowing changes, so every press is a cast."
)
KEYS = (1, 2, 3)  # Key.FOR, AGAINST, ABSTAIN


# ------------------------------------------------------------------ simulator process


def serve_simulator(units: int, baud: int, seed: int) -> int:
    """Child process: units on a pty; 'address key' lines on stdin are presses."""
    from device_drivers.messages import Key
    from simulators.keypads import PtySimulator, SimulatedLine

    line = SimulatedLine(range(1, units + 1), baudrate=baud, seed=seed)
    with PtySimulator(line) as sim:
        print(sim.slave_path, flush=True)
        for raw in sys.stdin:
            parts = raw.split()
            if not parts:
                continue
            if parts[0] == "quit":
                break
            for pair in parts:
                address, key = pair.split(":")
                line.press(int(address), Key(int(key)))
    return 0


# ------------------------------------------------------------------ helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_agenda(path: Path, units: int) -> None:
    out = ["[meeting]", 'title = "键盘端到端基准"', 'language = "zh-CN"', 'rule = "majority_of_all"']
    for i in range(1, units + 1):
        out += ["", "[[members]]", f'id = "m{i:03d}"', f'name = "代表{i}"', f'seat = "S{i:03d}"']
    out += [
        "",
        "[[items]]",
        'id = "item1"',
        'title = "基准"',
        "",
        "[[items.ballots]]",
        'id = "b1"',
        'title = "可改票表决"',
        "allow_change = true",
    ]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def wait_until(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


# ------------------------------------------------------------------ the run


async def run(rounds: int, seed: int) -> dict:
    from device_drivers.bridge import Bridge
    from device_drivers.bridge_config import config_from_dict
    from device_drivers.bus import favour_line_threads
    from device_drivers.events import KeyEvent
    from device_drivers.messages import Mode
    from terminal_client.client import Client

    favour_line_threads()  # as `hemicycle keypads` does at start
    tmp = Path(tempfile.mkdtemp(prefix="hemicycle-keypad-bench-"))
    agenda, creds, db = tmp / "agenda.toml", tmp / "credentials.json", tmp / "sitting.db"
    write_agenda(agenda, UNITS)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hemicycle.cli",
            "serve",
            "--agenda",
            str(agenda),
            "--db",
            str(db),
            "--port",
            str(port),
            "--credentials",
            str(creds),
            "--data-dir",
            str(tmp),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),
    )
    sim = subprocess.Popen(
        [sys.executable, __file__, "--serve-sim", "--seed", str(seed)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None and sim.stdin is not None
    tty = sim.stdout.readline().strip()
    url = f"ws://127.0.0.1:{port}/ws"
    bridge = clerk = None
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.05)
        import json

        tokens = json.loads(creds.read_text())
        clerk = Client(url, tokens["clerk"]["token"])
        await clerk.connect()
        config = config_from_dict(
            {"token": tokens["device"]["token"], "lines": [{"name": "L1", "url": tty, "baud": BAUD, "units": "agenda"}]}
        )
        bridge = Bridge(config, url)
        acked: dict[int, float] = {}
        original_confirm = bridge._confirm

        def confirm(event):
            acked[event.address] = time.monotonic()
            original_confirm(event)

        bridge._confirm = confirm  # type: ignore[method-assign]
        delivered: dict[int, float] = {}
        original_sink = bridge._sink

        def sink(event):
            if isinstance(event, KeyEvent):
                delivered.setdefault(event.address, time.monotonic())
            original_sink(event)

        bridge._sink = sink  # type: ignore[method-assign]
        await bridge.start()
        line = bridge.line("L1")
        await wait_until(lambda: line.stats.online == UNITS, "every unit online")
        await wait_until(lambda: bridge.phase is not None and bridge.phase.mode is Mode.CHECK_IN, "check-in mode")
        await asyncio.sleep(0.5)
        sim.stdin.write(" ".join(f"{a}:0" for a in range(1, UNITS + 1)) + "\n")  # everyone checks in
        sim.stdin.flush()
        await wait_until(lambda: bridge.stats["check_ins"] == UNITS, "every member checked in")
        await clerk.command("open_ballot", ballot="b1")
        await wait_until(lambda: bridge.phase is not None and bridge.phase.mode is Mode.VOTE, "vote mode")
        await asyncio.sleep(1.0)  # every unit has its mode; the line is back to idle polling
        c0, t0 = line.stats.cycles, time.monotonic()
        await asyncio.sleep(2.0)
        cycle = (time.monotonic() - t0) / max(1, line.stats.cycles - c0)

        rng = random.Random(seed)
        results: dict[str, list[float]] = {"spread": [], "burst": []}
        parts: dict[str, list[tuple[float, float]]] = {"spread": [], "burst": []}

        async def press_round(kind: str) -> None:
            """Runs one round and records its longest complete poll cycle: the ring pass a
            press waited for."""
            longest = 0.0
            done = asyncio.Event()

            async def watch_cycles() -> None:
                nonlocal longest
                seen = line.stats.cycles
                while not done.is_set():
                    if line.stats.cycles != seen:
                        seen = line.stats.cycles
                        longest = max(longest, line.stats.last_cycle_time)
                    await asyncio.sleep(0.002)

            watcher = asyncio.create_task(watch_cycles())
            try:
                await _press_round(kind)
            finally:
                done.set()
                await watcher
                cycles[kind].append(longest)

        cycles: dict[str, list[float]] = {"spread": [], "burst": []}

        async def _press_round(kind: str) -> None:
            acked.clear()
            delivered.clear()
            addresses = list(range(1, UNITS + 1))
            rng.shuffle(addresses)
            sent: dict[int, float] = {}
            if kind == "burst":
                sent_at = time.monotonic()
                sim.stdin.write(" ".join(f"{a}:{rng.choice(KEYS)}" for a in addresses) + "\n")
                sim.stdin.flush()
                sent = dict.fromkeys(addresses, sent_at)
            else:
                for a in addresses:
                    await asyncio.sleep(rng.expovariate(40.0))
                    sent[a] = time.monotonic()
                    sim.stdin.write(f"{a}:{rng.choice(KEYS)}\n")
                    sim.stdin.flush()
            await wait_until(lambda: len(acked) == UNITS, f"{UNITS} acks")
            results[kind] += [acked[a] - sent[a] for a in addresses]
            parts[kind] += [(delivered[a] - sent[a], acked[a] - delivered[a]) for a in addresses]
            await asyncio.sleep(0.5)

        for _ in range(rounds):
            await press_round("spread")
            await press_round("burst")
        return {
            "cycle": cycle,
            "round_cycles": cycles,
            "results": results,
            "parts": parts,
            "bridge": dict(bridge.stats),
            "garbled": line.stats.garbled,
            "timeouts": line.stats.timeouts,
        }
    finally:
        if bridge is not None:
            await bridge.stop()
        if clerk is not None:
            await clerk.close()
        with_timeout = [sim, server]
        try:
            sim.stdin.write("quit\n")
            sim.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass
        for proc in with_timeout:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def burst_floor(units: int = UNITS, baud: int = BAUD) -> float:
    """Wire time to read one press from each of ``units`` units: a short POLL and a POLL
    reply carrying one key event per unit. No schedule can read a simultaneous burst faster."""
    from device_drivers.messages import Key, KeyPress, Poll, PollReply, UnitFlag, encode
    from device_drivers.timing import LineTiming

    poll = encode(Poll(1))
    reply = encode(PollReply(1, 1, 1, UnitFlag(0), (KeyPress(1, 1, Key.FOR),)))
    return units * LineTiming(baud).transaction_time(len(poll), len(reply))


def report(figures: dict, rounds: int, elapsed: float) -> tuple[str, bool]:
    cycle = figures["cycle"]
    floor = burst_floor()
    rows, ok = [], True
    for kind, title in (
        ("spread", "members press one at a time (~40 presses/s)"),
        ("burst", "all 128 press at the same instant"),
    ):
        v = figures["results"][kind]
        p50, p99, worst = percentile(v, 50), percentile(v, 99), max(v)
        during = max(figures["round_cycles"][kind])
        # A press waits for the ring to come round. With one press at a time the ring runs
        # at the idle cycle; with 128 at once every poll of the pass reads a press, and that
        # pass cannot be shorter than `floor` - the strictest "one cycle" there is.
        target = (cycle if kind == "spread" else floor) + SLACK
        met = p99 <= target
        ok &= met
        bus = [b for b, _ in figures["parts"][kind]]
        srv = [a for _, a in figures["parts"][kind]]
        rows.append(
            f"| {title} | {during * 1e3:.0f} | {len(v)} | {p50 * 1e3:.1f} | {p99 * 1e3:.1f} | {worst * 1e3:.1f} | "
            f"{percentile(bus, 50) * 1e3:.0f} / {percentile(bus, 99) * 1e3:.0f} | "
            f"{percentile(srv, 50) * 1e3:.0f} / {percentile(srv, 99) * 1e3:.0f} | "
            f"{target * 1e3:.0f} {'met' if met else 'NOT met'} |"
        )
    text = "\n".join(
        [
            f"Idle poll cycle of 128 units, measured: **{cycle * 1e3:.1f} ms** (wire-time limit 133 ms). "
            f"Reading one press from each of 128 units needs **{floor * 1e3:.0f} ms** of wire time (short POLL + "
            "17-byte event reply per unit), so no schedule reads a simultaneous burst within the idle cycle: its target is that floor + 50 ms.",
            "",
            "| 128 units, 115200 Bd, "
            + f"{rounds} rounds each | longest cycle in a round ms | presses | p50 ms | p99 ms | max ms "
            "| press → read by bus p50/p99 ms | read → ack p50/p99 ms | p99 target ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            f"- bridge: {figures['bridge']['casts']} casts acknowledged, {figures['bridge']['refused']} refused, "
            f"{figures['bridge']['retries']} retries; line: {figures['garbled']} garbled, {figures['timeouts']} timeouts",
            f"- run took {elapsed:.0f} s",
            "",
        ]
    )
    return text, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each scenario (128 presses each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="do not append the figures to docs/benchmarks.md")
    parser.add_argument("--serve-sim", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sim:
        return serve_simulator(UNITS, BAUD, args.seed)
    machine_line = machine()
    start = time.monotonic()
    figures = asyncio.run(run(args.rounds, args.seed))
    text, ok = report(figures, args.rounds, time.monotonic() - start)
    print(text)
    if not args.no_write:
        append_section("Keypads: key press to server ack", text, intro=INTRO, machine_line=machine_line)
    return 0 if ok else 1


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
