"""The rules that decide what a keypad line reports about itself and its units, without
any I/O (device_drivers/line_state.py): one notice for a dead line instead of a marker per
keypad, one for a dead unit, nothing for a unit that merely shared its line's outage, and
a port retried with backoff whose failures are news only when their reason changes."""

from __future__ import annotations

import logging

import pytest
import serial

from device_drivers.events import LineDown, LineUp, UnitOffline, UnitOnline
from device_drivers.line_state import Backoff, LineState, classify
from device_drivers.transport import LineStats
from device_drivers.units import UnitTracker


def make(units: int = 4) -> tuple[LineState, dict[int, UnitTracker]]:
    trackers = {a: UnitTracker(a) for a in range(1, units + 1)}
    state = LineState("east", trackers, LineStats(), offline_after=5, backoff=Backoff(0.25, 2.0))
    return state, trackers


def answer_all(state: LineState, units: dict[int, UnitTracker]) -> list[object]:
    return [news for unit in units.values() for news in state.answered(unit)]


def test_first_contact_is_one_line_up_then_each_unit_online() -> None:
    state, units = make()
    assert answer_all(state, units) == [LineUp("east"), *(UnitOnline("east", a) for a in units)]
    assert state.up and state.stats.online == 4 and state.stats.returned_in == 0
    assert answer_all(state, units) == []  # no news without a change


def test_a_dead_unit_is_reported_once_and_comes_back() -> None:
    state, units = make()
    answer_all(state, units)
    news = []
    for _ in range(6):  # unit 2 silent through six rounds while the others answer
        for address, unit in units.items():
            news += state.timed_out(unit) if address == 2 else state.answered(unit)
    assert news == [UnitOffline("east", 2)] and state.up and state.stats.online == 3
    assert state.answered(units[2]) == [UnitOnline("east", 2)]


def test_a_silent_line_is_one_notice_and_its_units_return_without_news() -> None:
    state, units = make()
    answer_all(state, units)
    dead = []
    for _ in range(6):  # unit 4 dies on its own first (told once another unit answers after)
        for address, unit in units.items():
            dead += state.timed_out(unit) if address == 4 else state.answered(unit)
    assert dead == [UnitOffline("east", 4)]
    news = [n for _ in range(3) for unit in units.values() for n in state.timed_out(unit)]
    assert news == [LineDown("east", "no_answer", "")]  # not three more UnitOffline
    assert not state.up and state.stats.online == 0 and state.stats.downs == 1
    assert [n for unit in units.values() for n in state.timed_out(unit)] == []  # still down: no news
    assert state.answered(units[3]) == [LineUp("east")]  # the line is back ...
    assert state.answered(units[1]) == []  # ... and its units with it, without news
    assert state.timed_out(units[4]) == []  # one chance for the unit that was dead before: still dead
    assert state.answered(units[2]) == []
    assert state.stats.online == 3 and state.stats.returned_in is None  # unit 4 is not back


def test_a_unit_retried_alone_is_not_reported_before_its_silent_line() -> None:
    """A unit owed a lamp is retried at every command turn: its failures pile up faster than
    the ring reaches the others, but nothing was heard since, so the silence is the line's."""
    state, units = make()
    answer_all(state, units)
    news = [n for _ in range(12) for n in state.timed_out(units[1])]
    assert news == []
    news = [n for address in (2, 3, 4) for n in state.timed_out(units[address])]
    assert news == [LineDown("east", "no_answer", "")]


def test_port_failures_are_news_once_per_reason_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="device_drivers.line_state")
    state, units = make()
    answer_all(state, units)
    refused = serial.SerialException("[Errno 111] Connection refused")
    assert state.failed(refused, opening=False) == [LineDown("east", "port_failed", str(refused))]
    assert state.failed(refused, opening=True) == []  # the same again: no news, no new log line
    rejected = ValueError("remote rejected value for option 'baudrate'")
    assert state.failed(rejected, opening=True) == [LineDown("east", "setting_refused", str(rejected))]
    assert [state.backoff.next() for _ in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert state.answered(units[1])[0] == LineUp("east") and state.backoff.next() == 0.25
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert loud == [
        "line east up: units answering",
        "line east down: the port failed or cannot be opened: [Errno 111] Connection refused (retrying)",
        "line east still down, now: the port refused a setting: remote rejected value for option 'baudrate'",
        "line east back",
    ]


def test_classify_any_exception() -> None:
    assert classify(OSError(5, "Input/output error"), opening=False) == ("port_failed", "[Errno 5] Input/output error")
    assert classify(ValueError("bad"), opening=True) == ("setting_refused", "bad")
    try:
        raise RuntimeError("KeyEvent(line='east', address=7, key=<Key.FOR: 1>)")  # a bug quoting a press
    except RuntimeError as exc:
        code, detail = classify(exc, opening=False)
    assert code == "fault" and detail.startswith("RuntimeError at test_keypad_line_state.py:")
    assert "FOR" not in detail  # named by type and place only: the record never quotes a press
    assert classify(ValueError("bad"), opening=False) == ("fault", "ValueError")


def test_a_unit_failing_as_its_line_dies_is_not_reported_besides_the_line() -> None:
    """Under load a unit can miss a few replies in a row while the others answer (its
    failures counted, the line heard meanwhile); if the whole line then stalls, that unit
    reaches its limit before the line's silence is certain. The clerk must still get one
    notice, the line's (tests/test_keypad_network.py's stall failed on this under load)."""
    state, units = make()
    answer_all(state, units)
    for _ in range(4):  # unit 1 misses four replies in a row; the others answer meanwhile
        state.timed_out(units[1])
        for address in (2, 3, 4):
            state.answered(units[address])
    news = [n for _ in range(3) for unit in units.values() for n in state.timed_out(unit)]
    assert news == [LineDown("east", "no_answer", "")]
    assert state.answered(units[2]) == [LineUp("east")]
    assert state.answered(units[1]) == []  # it was never reported offline: no news when heard
    assert state.stats.online == 2


def test_a_dead_units_notice_comes_with_the_next_unit_heard() -> None:
    state, units = make()
    answer_all(state, units)
    for _ in range(4):
        state.timed_out(units[1])
        for address in (2, 3, 4):
            state.answered(units[address])
    assert state.timed_out(units[1]) == []  # its fifth silence: offline, told once the line is heard
    assert state.answered(units[2]) == [UnitOffline("east", 1)]
    assert state.answered(units[3]) == []
    assert state.answered(units[1]) == [UnitOnline("east", 1)]
