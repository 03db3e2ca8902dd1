"""Keypad bus throughput on a pty, over RFC 2217 and over raw TCP, measured in the same run.

Each simulated line (``python -m simulators.keypads.cli``) runs in its own process behind a
real pty, like an adapter on real hardware; for the network scenarios a serial device
server (``python -m simulators.keypads.serial_server``: pyserial's own RFC 2217
``PortManager``, or a raw TCP bridge) runs in a process of its own in front of that pty, as
an NPort-style box does in a rack, and the master opens ``rfc2217://`` or ``socket://``.
The master process is set up as ``hemicycle keypads`` is. The simulator replies at the
modelled wire time (10 bits per byte at the baud rate, turnaround of
LineTiming.turnaround_bytes), so the *limit* of a line is:

    idle exchange = poll frame + idle reply + unit turnaround + master gap   (in byte times)

Figures: units polled per second, and its ratio to the pty line measured in the same run
(target over RFC 2217 >= 0.8); the ratio of the wire time the carried traffic needs to the
elapsed time; press -> acknowledged on the unit (measured by the simulator itself) while
members vote; and, for the network lines, a 3 s outage of the serial server (its process
killed, then started again on the same TCP port): how long until the master reconnected,
and in how many poll cycles after that all 128 units answered again (target <= 2).

Runs in about a minute:  .venv/bin/python bench/keypad_bus.py [--seconds 5] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.record import append_section, machine  # noqa: E402
from device_drivers.bus import BusMaster, Line, LineConfig, favour_line_threads  # noqa: E402
from device_drivers.events import BusEvent, CardEvent, KeyEvent  # noqa: E402
from device_drivers.messages import IdleReply, Key, Mode, Poll, encode  # noqa: E402
from device_drivers.timing import LineTiming  # noqa: E402

UNITS = 128
BAUD = 115200
TARGET_RATE = 800.0
TARGET_WIRE = 0.8
TARGET_VS_PTY = 0.8
TARGET_RETURN_CYCLES = 2
OUTAGE = 3.0
WAIT = 30.0
"""Hang guard for a condition (a line to come up, units to answer), never a figure."""
TRANSPORTS = ("pty", "rfc2217", "socket")


@dataclass
class Result:
    title: str
    transport: str
    line: str
    polls_per_s: float
    cycle_s: float
    events_per_s: float
    wire_ratio: float
    """Wire-time limit of the traffic this line actually carried / the time it took."""
    ack_ms: dict[str, float] | None = None


@dataclass
class Outage:
    transport: str
    cycle_ms: float
    reconnect_ms: float
    """Serial server listening again -> the master's line up (includes its reopen backoff)."""
    all_back_ms: float
    """The line up -> every unit answered again."""
    cycles: int
    """Poll cycles from the line's return until every unit answered (LineStats.returned_in)."""


class Processes:
    """The simulator and serial-server processes of a scenario, stopped in reverse order."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        return proc, proc.stdout.readline().strip()

    def simulator(self, seed: int, presses: float, report: Path | None = None) -> str:
        args = ["simulators.keypads.cli", "--units", str(UNITS), "--baud", str(BAUD), "--seed", str(seed)]
        if presses:
            args += ["--random-presses", str(presses)]
        if report is not None:
            args += ["--report", str(report)]
        return self.start(*args)[1]

    def box(self, pty: str, transport: str, tcp_port: int = 0) -> tuple[subprocess.Popen[str], str]:
        protocol = "rfc2217" if transport == "rfc2217" else "raw"
        return self.start("simulators.keypads.serial_server", pty, "--protocol", protocol, "--tcp-port", str(tcp_port))

    def stop(self, proc: subprocess.Popen[str]) -> None:
        proc.terminate()
        proc.wait(10)
        self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def wait_until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.002)


def confirming_master() -> BusMaster:
    master: BusMaster

    def sink(event: BusEvent) -> None:
        if isinstance(event, (KeyEvent, CardEvent)):
            master.confirm(event)  # a bridge would confirm after the server's ack

    master = BusMaster(sink)
    return master


def run(title: str, transport: str, lines: int, seconds: float, presses: float = 0.0) -> list[Result]:
    procs = Processes()
    master = confirming_master()
    with tempfile.TemporaryDirectory() as tmp:
        reports = [Path(tmp) / f"sim{i}.json" for i in range(lines)]
        try:
            for i in range(lines):
                url = procs.simulator(i + 1, presses, reports[i] if presses else None)
                if transport != "pty":
                    url = procs.box(url, transport)[1]
                master.add_line(f"line{i + 1}", url, range(1, UNITS + 1), LineConfig(baudrate=BAUD))
            master.start()
            for line in master.lines.values():
                wait_until(lambda line=line: line.stats.returned_in is not None, f"{line.name}: every unit online")
            if presses:
                master.set_mode(Mode.VOTE, 1, (Key.FOR, Key.AGAINST, Key.ABSTAIN))
            time.sleep(1.0)  # the mode broadcast and the first presses are not steady state
            results = measure(title, transport, master, seconds)
        finally:
            master.stop()
            procs.stop_all()
        if presses:
            for result, report in zip(results, reports):
                result.ack_ms = json.loads(report.read_text())["ack_ms"]
    return results


def measure(title: str, transport: str, master: BusMaster, seconds: float) -> list[Result]:
    before = {
        n: (line.stats.polls, line.stats.cycles, line.stats.events, line.stats.wire_time)
        for n, line in master.lines.items()
    }
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    results = []
    for name, line in master.lines.items():
        polls0, cycles0, events0, wire0 = before[name]
        s = line.stats
        cycles = s.cycles - cycles0
        results.append(
            Result(
                title,
                transport,
                name,
                (s.polls - polls0) / elapsed,
                elapsed / cycles if cycles else float("inf"),
                (s.events - events0) / elapsed,
                (s.wire_time - wire0) / elapsed,
            )
        )
    return results


def outage(transport: str) -> Outage:
    """Kill the serial server for OUTAGE seconds, start it again on the same TCP port."""
    procs = Processes()
    master = confirming_master()
    try:
        pty = procs.simulator(1, 0.0)
        box, url = procs.box(pty, transport)
        line: Line = master.add_line("line1", url, range(1, UNITS + 1), LineConfig(baudrate=BAUD))
        master.start()
        wait_until(lambda: line.stats.returned_in is not None, "every unit online")
        cycles0, t0 = line.stats.cycles, time.monotonic()
        time.sleep(2.0)
        cycle = (time.monotonic() - t0) / max(1, line.stats.cycles - cycles0)
        procs.stop(box)
        wait_until(lambda: not line.up, "the line down")
        time.sleep(OUTAGE)
        procs.box(pty, transport, tcp_port=int(url.rsplit(":", 1)[1]))
        restarted = time.monotonic()
        wait_until(lambda: line.up, "the line back")
        up = time.monotonic()
        wait_until(lambda: line.stats.returned_in is not None, "every unit back")
        back = time.monotonic()
        assert line.stats.returned_in is not None
        return Outage(transport, cycle * 1e3, (up - restarted) * 1e3, (back - up) * 1e3, line.stats.returned_in)
    finally:
        master.stop()
        procs.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per scenario")
    parser.add_argument("--no-write", action="store_true", help="do not append the figures to docs/benchmarks.md")
    args = parser.parse_args(argv)
    machine_line = machine()
    favour_line_threads()  # as `hemicycle keypads` does at start

    timing = LineTiming(BAUD)
    poll_len, idle_len = len(encode(Poll(1))), len(encode(IdleReply(1, 0)))
    exchange = timing.transaction_time(poll_len, idle_len)
    out = [
        f"Wire model at {BAUD} Bd: byte {timing.byte_time * 1e6:.1f} µs; idle exchange = poll {poll_len} B + reply "
        f"{idle_len} B + turnaround {timing.turnaround_bytes:g} B + gap {timing.gap_bytes:g} B = "
        f"{exchange * 1e3:.3f} ms, so the wire-time limit is **{1 / exchange:.0f} units/s per line** and a full "
        f"cycle of {UNITS} units takes {UNITS * exchange * 1e3:.1f} ms. Targets: on the pty ≥ {TARGET_RATE:.0f} "
        f"units/s and ≥ {TARGET_WIRE} of the wire-time limit; over RFC 2217 ≥ {TARGET_VS_PTY} of the pty rate "
        f"of the same run; after a {OUTAGE:g} s outage of the serial server every unit answers within "
        f"{TARGET_RETURN_CYCLES} poll cycles of the line's return. Press → acknowledged is measured by the "
        "simulator (press → the unit drops the event, i.e. the master's ack reached it; the consumer confirms at "
        "once); press → server ack through the bridge is `bench/keypad_e2e.py`.",
        "",
        f"| {UNITS} units per line, {args.seconds:g} s per scenario | transport | line | units polled/s "
        "| ÷ pty | full cycle ms | ratio to wire-time limit | key events/s | press → ack p50 / p99 ms | targets |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    ok = True
    pty_rate: dict[bool, float] = {}
    scenarios = [
        *((f"1 line, idle units ({t})", t, 1, 0.0) for t in TRANSPORTS),
        ("4 lines in parallel, idle units (pty)", "pty", 4, 0.0),
        *((f"1 line, members voting, 100 presses/s ({t})", t, 1, 100.0) for t in TRANSPORTS),
    ]
    for title, transport, lines, presses in scenarios:
        for r in run(title, transport, lines, args.seconds, presses):
            voting = bool(presses)
            if transport == "pty" and lines == 1:
                pty_rate[voting] = r.polls_per_s
            vs_pty = r.polls_per_s / pty_rate[voting]
            if transport == "pty":
                met = r.polls_per_s >= TARGET_RATE and r.wire_ratio >= TARGET_WIRE
            else:
                met = vs_pty >= TARGET_VS_PTY
            verdict = ("met" if met else "NOT met") if (transport == "rfc2217" or not voting) else "(information)"
            if transport == "rfc2217" or (transport == "pty" and not voting):
                ok &= met
            ack = f"{r.ack_ms['median']:.0f} / {r.ack_ms['p99']:.0f}" if r.ack_ms else "—"
            out.append(
                f"| {title} | {transport} | {r.line} | {r.polls_per_s:.0f} | {vs_pty:.2f} | {r.cycle_s * 1e3:.1f} | "
                f"{r.wire_ratio:.2f} | {r.events_per_s:.0f} | {ack} | {verdict} |"
            )
            print(out[-1], flush=True)
    out += [
        "",
        f"| serial server killed for {OUTAGE:g} s, then started again | transport | poll cycle ms | reconnected ms "
        "after the restart | all units answering ms after that | in poll cycles | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for transport in TRANSPORTS[1:]:
        o = outage(transport)
        met = o.cycles <= TARGET_RETURN_CYCLES
        ok &= met
        out.append(
            f"| {UNITS} units | {transport} | {o.cycle_ms:.1f} | {o.reconnect_ms:.0f} | {o.all_back_ms:.0f} | "
            f"{o.cycles} | {'met' if met else 'NOT met'} |"
        )
        print(out[-1], flush=True)
    text = "\n".join(out)
    print("\n" + text)
    if not args.no_write:
        append_section(
            "Keypads: bus polling rate",
            text,
            machine_line=machine_line,
            intro=(
                "Each simulated line (128 units behind a real pty) runs in its own process and replies at modelled "
                "wire time; a network line adds a serial server process in front of the pty (pyserial's RFC 2217 "
                "`PortManager`, or raw TCP for `socket://`), on loopback; the master polls as `hemicycle keypads` "
                "does. Ratio = wire time the carried traffic needs (from the actual frame sizes) ÷ elapsed time."
            ),
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
