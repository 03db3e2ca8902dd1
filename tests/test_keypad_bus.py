"""Bus master against simulated keypads on a real pseudo-terminal.

The consumer here plays the bridge: it records every event and confirms key/card events
(as the bridge will after the server acknowledged them). The question every test asks is
the one a clerk would: did each press arrive exactly once, and do the keypads show what
the system told them to?
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from device_drivers.bus import BusMaster, Line, LineConfig
from device_drivers.events import (
    BusEvent,
    CardEvent,
    KeyEvent,
    LineDown,
    LineUp,
    UnitOffline,
    UnitOnline,
    UnitRebooted,
)
from device_drivers.messages import Key, Mode
from device_drivers.transport import Transport
from simulators.keypads import Faults, PtySimulator, SimulatedLine

VOTE = (Key.FOR, Key.AGAINST, Key.ABSTAIN)
WAIT = 15.0
"""Upper bound for a condition to become true: a hang guard, never a performance check."""


class Consumer:
    """Thread-safe event recorder that confirms input events (optionally holding some back)."""

    def __init__(self, auto_confirm: bool = True) -> None:
        self._cond = threading.Condition()
        self.events: list[BusEvent] = []
        self.auto_confirm = auto_confirm
        self.target: Line | BusMaster | None = None

    def __call__(self, event: BusEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()
        if self.auto_confirm and isinstance(event, (KeyEvent, CardEvent)) and self.target is not None:
            self.target.confirm(event)

    def keys(self) -> list[KeyEvent]:
        with self._cond:
            return [e for e in self.events if isinstance(e, KeyEvent)]

    def of(self, kind: type) -> list[BusEvent]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"gave up waiting for {what}: {self.events}")
                self._cond.wait(min(left, 0.05))


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def bus(request: pytest.FixtureRequest) -> Iterator[Callable[..., tuple[SimulatedLine, Line, Consumer]]]:
    """Factory: (units, baud, faults, seed, config) -> running simulator, line and consumer."""
    stack: list[Callable[[], None]] = []

    def make(
        units: int,
        *,
        baud: int = 115200,
        faults: Faults | None = None,
        seed: int = 1,
        config: LineConfig | None = None,
        auto_confirm: bool = True,
    ) -> tuple[SimulatedLine, Line, Consumer]:
        sim = SimulatedLine(range(1, units + 1), baudrate=baud, seed=seed, faults=faults)
        pty = PtySimulator(sim)
        pty.start()
        stack.append(pty.stop)
        consumer = Consumer(auto_confirm=auto_confirm)
        line = Line("L1", pty.slave_path, range(1, units + 1), consumer, config or LineConfig(baudrate=baud))
        consumer.target = line
        line.start()
        stack.append(line.stop)
        return sim, line, consumer

    yield make
    for stop in reversed(stack):
        stop()


def enter_mode(
    sim: SimulatedLine, line: Line, mode: Mode, epoch: int, keys: tuple[Key, ...], secret: bool = False
) -> None:
    line.set_mode(mode, epoch, keys, secret=secret)
    wait_until(lambda: all(sim.state(a).epoch == epoch for a in sim.addresses), f"all units in epoch {epoch}")


def run_session(
    sim: SimulatedLine, line: Line, consumer: Consumer, seed: int, ballots: int = 1
) -> Counter[tuple[int, int, Key]]:
    """Check-in then ballots, every unit taking part; returns the presses the units accepted."""
    rng = random.Random(seed)
    pressed: Counter[tuple[int, int, Key]] = Counter()
    enter_mode(sim, line, Mode.CHECK_IN, 1, (Key.CHECK_IN,))
    for address in rng.sample(sim.addresses, len(sim.addresses)):
        assert sim.press(address, Key.CHECK_IN)
        pressed[(address, 1, Key.CHECK_IN)] += 1
    for epoch in range(2, 2 + ballots):
        enter_mode(sim, line, Mode.VOTE, epoch, VOTE)
        for address in rng.sample(sim.addresses, len(sim.addresses)):
            for key in rng.sample(VOTE, rng.choice((1, 1, 2))):  # some members change their mind
                assert sim.press(address, key)
                pressed[(address, epoch, key)] += 1
    total = sum(pressed.values())
    consumer.wait_for(lambda: len(consumer.keys()) >= total, f"{total} key events")
    wait_until(lambda: all(sim.state(a).queued == 0 for a in sim.addresses), "every unit to drop confirmed events")
    return pressed


def assert_exactly_once(consumer: Consumer, pressed: Counter[tuple[int, int, Key]]) -> None:
    keys = consumer.keys()
    assert Counter((e.address, e.epoch, e.key) for e in keys) == pressed
    assert len({e.ident for e in keys}) == len(keys)


def test_scripted_check_in_and_vote_reported_exactly_once(bus) -> None:
    sim, line, consumer = bus(40)
    pressed = run_session(sim, line, consumer, seed=7)
    assert_exactly_once(consumer, pressed)
    assert {e.address for e in consumer.of(UnitOnline)} == set(sim.addresses)
    assert not consumer.of(UnitOffline)


def test_noisy_line_loses_and_doubles_nothing(bus) -> None:
    faults = Faults(garble=0.05, lose_reply=0.02)
    sim, line, consumer = bus(128, baud=460800, faults=faults, seed=3)
    sim.set_latency(17, 0.002)  # a slow unit, still within the reply timeout
    pressed = run_session(sim, line, consumer, seed=11, ballots=4)
    assert_exactly_once(consumer, pressed)
    assert sim.stats.lost_replies > 0 and sim.stats.garbled_replies > 0 and sim.stats.garbled_requests > 0


def test_unconfirmed_press_stays_on_the_unit_and_is_not_repeated(bus) -> None:
    sim, line, consumer = bus(4, auto_confirm=False)
    enter_mode(sim, line, Mode.VOTE, 9, VOTE)
    assert sim.press(2, Key.AGAINST)
    consumer.wait_for(lambda: len(consumer.keys()) == 1, "the press")
    cycles = line.stats.cycles
    wait_until(lambda: line.stats.cycles >= cycles + 20, "twenty more poll cycles")
    assert len(consumer.keys()) == 1 and sim.state(2).queued == 1
    line.confirm(consumer.keys()[0])
    wait_until(lambda: sim.state(2).queued == 0, "the unit to drop the confirmed press")
    assert len(consumer.keys()) == 1


def test_silent_unit_goes_offline_and_comes_back_with_its_presses(bus) -> None:
    sim, line, consumer = bus(10, config=LineConfig(offline_probe_interval=0.05))
    enter_mode(sim, line, Mode.VOTE, 4, VOTE)
    consumer.wait_for(lambda: len(consumer.of(UnitOnline)) == 10, "all units online")
    sim.set_silent(6)
    consumer.wait_for(lambda: any(e.address == 6 for e in consumer.of(UnitOffline)), "unit 6 offline")
    assert sim.press(6, Key.ABSTAIN)  # the member votes while the cable is loose
    line.set_mode(Mode.VOTE, 5, VOTE)  # a new ballot opens meanwhile: unit 6 misses it
    wait_until(lambda: sim.state(1).epoch == 5, "the broadcast")
    sim.set_silent(6, False)
    consumer.wait_for(lambda: [e.address for e in consumer.of(UnitOnline)].count(6) == 2, "unit 6 online again")
    consumer.wait_for(
        lambda: [(e.address, e.epoch, e.key) for e in consumer.keys()] == [(6, 4, Key.ABSTAIN)],
        "the press made while offline",
    )
    wait_until(lambda: sim.state(6).epoch == 5, "unit 6 brought up to the current ballot")
    offline = [e for e in consumer.of(UnitOffline) if e.address == 6]
    assert len(offline) == 1


def test_power_cycled_unit_never_replays_old_presses(bus) -> None:
    sim, line, consumer = bus(8, auto_confirm=False)
    enter_mode(sim, line, Mode.VOTE, 3, VOTE, secret=True)
    old_boot = sim.state(5).boot
    assert sim.press(5, Key.FOR)
    consumer.wait_for(lambda: len(consumer.keys()) == 1, "the first press")
    sim.power_cycle(5)  # the unconfirmed press dies with the unit's RAM
    consumer.wait_for(lambda: bool(consumer.of(UnitRebooted)), "the reboot report")
    (reboot,) = consumer.of(UnitRebooted)
    assert (reboot.address, reboot.old_boot, reboot.new_boot) == (5, old_boot, sim.state(5).boot)
    wait_until(lambda: sim.state(5).epoch == 3 and sim.state(5).secret, "the mode to be restored")
    line.confirm(consumer.keys()[0])  # a late confirmation for the old boot must not ack anything new
    assert sim.press(5, Key.AGAINST) and sim.press(5, Key.ABSTAIN)
    consumer.wait_for(lambda: len(consumer.keys()) == 3, "the two new presses")
    cycles = line.stats.cycles
    wait_until(lambda: line.stats.cycles >= cycles + 10, "ten more poll cycles")
    keys = consumer.keys()
    assert [(e.boot, e.seq, e.key) for e in keys[1:]] == [
        (reboot.new_boot, 1, Key.AGAINST),
        (reboot.new_boot, 2, Key.ABSTAIN),
    ]
    assert sim.state(5).queued == 2  # still held: nothing confirmed for the new boot yet
    for event in keys[1:]:
        line.confirm(event)
    wait_until(lambda: sim.state(5).queued == 0, "the new presses to be acknowledged")
    assert len(consumer.keys()) == 3


def test_leds_and_display_reach_the_unit_and_secret_mode_hides_the_choice(bus) -> None:
    sim, line, _consumer = bus(3)
    enter_mode(sim, line, Mode.VOTE, 6, VOTE)
    line.set_leds(1, [Key.FOR], recorded=True)
    line.display("赞成 已记录", address=1)
    wait_until(lambda: sim.state(1).lit == {Key.FOR} and sim.state(1).recorded, "named-vote LEDs")
    wait_until(lambda: sim.state(1).text == "赞成 已记录", "the text")
    enter_mode(sim, line, Mode.VOTE, 7, VOTE, secret=True)
    line.set_leds(2, [Key.AGAINST], recorded=True)
    wait_until(lambda: sim.state(2).recorded, "the recorded lamp")
    assert sim.state(2).lit == frozenset()
    line.display("第二项表决")
    wait_until(lambda: all(sim.state(a).text == "第二项表决" for a in sim.addresses), "broadcast text")


def test_two_lines_in_parallel_route_events_and_confirmations(bus) -> None:
    sims = [SimulatedLine(range(1, 17), seed=s) for s in (1, 2)]
    ptys = [PtySimulator(s) for s in sims]
    consumer = Consumer()
    master = BusMaster(consumer)
    consumer.target = master
    try:
        for name, pty in zip(("east", "west"), ptys):
            pty.start()
            master.add_line(name, pty.slave_path, range(1, 17))
        master.start()
        master.set_mode(Mode.VOTE, 1, VOTE)
        wait_until(lambda: all(s.state(a).epoch == 1 for s in sims for a in s.addresses), "mode on both lines")
        for sim in sims:
            for address in sim.addresses:
                assert sim.press(address, Key.FOR)
        consumer.wait_for(lambda: len(consumer.keys()) == 32, "32 presses")
        wait_until(lambda: all(s.state(a).queued == 0 for s in sims for a in s.addresses), "all acknowledged")
        assert Counter(e.line for e in consumer.keys()) == {"east": 16, "west": 16}
    finally:
        master.stop()
        for pty in ptys:
            pty.stop()


def test_badge_card_insert_and_remove_are_reported_in_any_mode(bus) -> None:
    sim, _line, consumer = bus(3)
    assert sim.insert_card(2, bytes.fromhex("04a1b2c3"))
    consumer.wait_for(lambda: len(consumer.of(CardEvent)) == 1, "the card insertion")
    assert sim.remove_card(2)
    consumer.wait_for(lambda: len(consumer.of(CardEvent)) == 2, "the card removal")
    inserted, removed = consumer.of(CardEvent)
    assert (inserted.address, inserted.inserted, inserted.card_id) == (2, True, bytes.fromhex("04a1b2c3"))
    assert (removed.address, removed.inserted, removed.seq) == (2, False, inserted.seq + 1)
    wait_until(lambda: sim.state(2).queued == 0, "the card events to be acknowledged")


def test_any_error_in_a_line_is_reported_once_and_the_line_comes_back(
    bus, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Not only port errors: whatever escapes the line thread (here a bug in the transport,
    three times in a row) is one LineDown with its cause, one logged traceback, and retries."""
    caplog.set_level(logging.DEBUG, logger="device_drivers")
    sim, line, consumer = bus(4)
    consumer.wait_for(lambda: len(consumer.of(UnitOnline)) == 4, "all units online")
    enter_mode(sim, line, Mode.VOTE, 2, VOTE)
    original, failures = Transport.transact, [3]

    def buggy(self: Transport, request: object) -> object:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("decoder bug")
        return original(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(Transport, "transact", buggy)
    consumer.wait_for(lambda: len(consumer.of(LineUp)) == 2, "the line back")
    (down,) = consumer.of(LineDown)
    assert down.reason == "fault" and down.detail.startswith("RuntimeError at test_keypad_bus.py:")
    assert not consumer.of(UnitOffline)  # the line's fault: no unit reported offline for it
    assert sim.press(3, Key.FOR)
    consumer.wait_for(lambda: [(e.address, e.key) for e in consumer.keys()] == [(3, Key.FOR)], "the press")
    faults = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in faults] == [f"line L1 down: unexpected error in the line: {down.detail} (retrying)"]
    traces = [r for r in caplog.records if r.exc_info is not None]
    assert len(traces) == 1 and traces[0].levelno == logging.DEBUG  # the traceback once, for whoever debugs
