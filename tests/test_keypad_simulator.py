"""Simulated keypad units: firmware rules, the hemisim:// port, and the CLI."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import serial

from device_drivers.bus import Line
from device_drivers.codec import FrameDecoder
from device_drivers.events import KeyEvent, LineUp, UnitOnline
from device_drivers.messages import (
    Ack,
    AckReply,
    IdleReply,
    Key,
    KeyPress,
    Mode,
    Poll,
    PollReply,
    SetLeds,
    SetMode,
    UnitFlag,
    decode,
    encode,
    idle_tag,
)
from simulators.keypads import SimulatedLine, register_url_handler, url_for
from simulators.keypads.presser import read_script
from simulators.keypads.unit import QUEUE_LIMIT, VirtualUnit

VOTE = frozenset({Key.FOR, Key.AGAINST, Key.ABSTAIN})


def fresh_unit() -> VirtualUnit:
    unit = VirtualUnit(7, boot=100)
    unit.handle(Poll(7, boot=100))  # the master has seen the power-up
    return unit


def test_power_up_is_announced_until_the_master_echoes_the_boot_id() -> None:
    unit = VirtualUnit(7, boot=100)
    assert unit.handle(Poll(7)) == PollReply(7, 100, 0, UnitFlag.REBOOTED)
    assert unit.handle(Poll(7)) == PollReply(7, 100, 0, UnitFlag.REBOOTED)
    assert unit.handle(Poll(7, boot=100)) == IdleReply(7, idle_tag(7, 0))


def test_idle_unit_ignores_keys_and_answers_in_three_bytes() -> None:
    unit = fresh_unit()
    assert not unit.press(Key.FOR)
    reply = unit.handle(Poll(7))
    assert isinstance(reply, IdleReply) and len(encode(reply)) == 3


def test_press_is_kept_until_acknowledged_and_reread_after_a_lost_reply() -> None:
    unit = fresh_unit()
    unit.handle(SetMode(0, Mode.VOTE, 5, VOTE))
    assert unit.press(Key.AGAINST)
    first = unit.handle(Poll(7))
    assert first == PollReply(7, 100, 5, UnitFlag(0), (KeyPress(1, 5, Key.AGAINST),))
    assert unit.handle(Poll(7)) == first  # reply lost: the same question gets the same answer
    assert unit.handle(Poll(7, boot=100, ack=0, seen=1)) == IdleReply(7, idle_tag(7, 5))
    assert unit.handle(Poll(7, boot=100, ack=1, seen=1)) == IdleReply(7, idle_tag(7, 5))
    assert not unit.queue


def test_ack_for_another_boot_drops_nothing() -> None:
    unit = fresh_unit()
    unit.handle(SetMode(0, Mode.VOTE, 5, VOTE))
    unit.press(Key.FOR)
    assert unit.handle(Ack(7, boot=99, ack=1)) == AckReply(7, 100, 1)
    reply = unit.handle(Poll(7, boot=99, ack=1, seen=1))
    assert isinstance(reply, PollReply) and reply.boot == 100 and len(reply.events) == 1


def test_power_cycle_forgets_presses_and_restarts_numbering() -> None:
    unit = fresh_unit()
    unit.handle(SetMode(0, Mode.VOTE, 5, VOTE))
    unit.press(Key.FOR)
    unit.power_cycle()
    assert unit.boot == 101 and unit.mode is Mode.IDLE and not unit.queue
    unit.handle(SetMode(7, Mode.VOTE, 5, VOTE))
    unit.press(Key.ABSTAIN)
    reply = unit.handle(Poll(7))
    assert isinstance(reply, PollReply) and reply.flags & UnitFlag.REBOOTED
    assert reply.events == (KeyPress(1, 5, Key.ABSTAIN),)


def test_full_queue_refuses_presses_and_says_so() -> None:
    unit = fresh_unit()
    unit.handle(SetMode(0, Mode.VOTE, 5, VOTE))
    assert all(unit.press(Key.FOR) for _ in range(QUEUE_LIMIT))
    assert not unit.press(Key.FOR)
    reply = unit.handle(Poll(7))
    assert isinstance(reply, PollReply) and reply.flags & UnitFlag.OVERFLOW
    assert len(encode(reply)) <= 134 and reply.events[0].seq == 1


def test_secret_mode_shows_only_recorded() -> None:
    unit = fresh_unit()
    unit.handle(SetMode(0, Mode.VOTE, 5, VOTE, secret=True))
    unit.handle(SetLeds(7, frozenset({Key.FOR}), recorded=True))
    assert unit.recorded and unit.lit == frozenset()


def test_same_epoch_again_keeps_the_recorded_lamp() -> None:
    unit = fresh_unit()
    unit.handle(SetMode(0, Mode.VOTE, 5, VOTE))
    unit.handle(SetLeds(7, frozenset({Key.FOR}), recorded=True))
    unit.handle(SetMode(7, Mode.VOTE, 5, VOTE))  # a repeated (re-sent) mode
    assert unit.recorded
    unit.handle(SetMode(0, Mode.VOTE, 6, VOTE))  # the next ballot
    assert not unit.recorded


def test_hemisim_url_serves_units_in_process() -> None:
    register_url_handler()
    sim = SimulatedLine(range(1, 5), seed=5)
    port = serial.serial_for_url(url_for(sim), baudrate=115200, timeout=0.1)
    port.write(encode(Poll(3)))
    decoder = FrameDecoder()
    decoder.expect_short_reply(3)
    frames = decoder.feed(port.read(6))
    frames += decoder.feed(port.read(decoder.needed()))
    assert [type(decode(f)) for f in frames] == [PollReply]  # power-up announcement
    port.close()


def test_bus_master_over_hemisim_reports_every_press_once() -> None:
    register_url_handler()
    sim = SimulatedLine(range(1, 21), seed=9)
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    line = Line("sim", url_for(sim), range(1, 21), events.put)
    with line:
        line.set_mode(Mode.VOTE, 1, VOTE)
        deadline = time.monotonic() + 15
        while not all(sim.state(a).epoch == 1 for a in sim.addresses) and time.monotonic() < deadline:
            time.sleep(0.01)
        for address in sim.addresses:
            assert sim.press(address, Key.FOR)
        keys = []
        while len(keys) < 20:
            event = events.get(timeout=15)
            if isinstance(event, KeyEvent):
                keys.append(event)
                line.confirm(event)
    assert sorted(e.address for e in keys) == list(sim.addresses)


def test_cli_prints_a_usable_tty_path_and_stops_on_interrupt() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.keypads.cli", "--units", "3", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert path.startswith("/dev/")
        events: queue.SimpleQueue[object] = queue.SimpleQueue()
        with Line("cli", path, [1, 2, 3], events.put):
            news = [events.get(timeout=15) for _ in range(4)]
        assert news[0] == LineUp("cli")  # the line works: then each unit is online
        assert set(news[1:]) == {UnitOnline("cli", a) for a in (1, 2, 3)}
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_press_script_reads_time_unit_key_and_names_every_bad_line() -> None:
    text = ["# a sitting", "2.5 3 for", "0 1 check_in  # first", "", "1 2 7", "x 1 for", "1 9 for", "1 1 fro", "1 1"]
    presses, errors = read_script(text, range(1, 4))
    assert presses == [(0.0, 1, Key.CHECK_IN), (1.0, 2, Key.numbered(7)), (2.5, 3, Key.FOR)]
    assert [e.split(":")[0] for e in errors] == ["line 6", "line 7", "line 8", "line 9"]
    assert "no unit '9'" in errors[1] and "unknown key 'fro'" in errors[2]


def test_cli_replays_presses_from_standard_input_and_reports_their_acknowledgement(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.keypads.cli", "--units", "3", "--script", "-", "--report", str(report)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        path = proc.stdout.readline().strip()
        events: queue.SimpleQueue[object] = queue.SimpleQueue()
        line = Line("cli", path, [1, 2, 3], lambda e: events.put(e) if isinstance(e, KeyEvent) else None)
        with line:
            line.set_mode(Mode.VOTE, 5, VOTE)  # broadcast as soon as the line is up
            deadline = time.monotonic() + 15
            while line.stats.cycles < 3 and time.monotonic() < deadline:  # hang guard only
                time.sleep(0.01)
            # times already past are pressed at once; a stream may go on for the whole sitting
            proc.stdin.write("0 1 for\n0 2 against\nnonsense\n0.1 3 abstain\n")
            proc.stdin.flush()
            keys = [events.get(timeout=15) for _ in range(3)]
            for event in keys:
                line.confirm(event)  # type: ignore[arg-type]
            assert sorted((e.address, e.key) for e in keys) == [(1, Key.FOR), (2, Key.AGAINST), (3, Key.ABSTAIN)]  # type: ignore[attr-defined]
            while time.monotonic() < deadline and line.stats.cycles < 10:  # the acks ride on the next polls
                time.sleep(0.01)
        proc.stdin.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert "line 3: expected" in stderr and "3 presses taken" in stderr
    figures = json.loads(report.read_text())
    assert figures["script"] == {"taken": 3, "ignored": 0} and figures["acknowledged"] == 3
    assert 0 < figures["ack_ms"]["median"] <= figures["ack_ms"]["p99"]


def test_cli_refuses_a_script_with_bad_lines_before_serving(tmp_path: Path) -> None:
    script = tmp_path / "sitting.txt"
    script.write_text("0.5 1 check_in\n1 4 for\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "simulators.keypads.cli", "--units", "3", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "line 2: no unit '4' on this line (units 1..3)" in done.stderr
