"""The line's polling policy (device_drivers/schedule.py), without any I/O.

What a member notices is how long a press waits before the master reads it: at most one
ring pass. These tests pin the rules that keep it so: acknowledgements and lamps do not
take the ring's slots while presses are being read, yet lamps are never starved, and a unit
is polled out of turn only when its reply may have left events behind.
"""

from __future__ import annotations

import pytest

from device_drivers.messages import CardInserted, Key, KeyPress, PollReply, UnitFlag
from device_drivers.schedule import PollScheduler
from device_drivers.units import Liveness, UnitTracker


def scheduler(n: int = 8, work_every: int = 4) -> PollScheduler:
    units = {a: UnitTracker(a, liveness=Liveness.ONLINE) for a in range(1, n + 1)}
    return PollScheduler(units, probe_every=16, work_every=work_every)


def slots(s: PollScheduler, steps: int, finds: bool, work_waiting: bool = True) -> str:
    """Run ``steps`` slots; 'W' for a command, 'P' for a poll (finding presses or not)."""
    out = []
    for _ in range(steps):
        if work_waiting and s.work_turn():
            s.worked()
            out.append("W")
        else:
            s.next_poll(0.0)
            s.polled(finds)
            out.append("P")
    return "".join(out)


def test_commands_alternate_with_polls_on_a_quiet_line() -> None:
    assert slots(scheduler(), 8, finds=False) == "WPWPWPWP"


def test_while_presses_are_being_read_commands_get_one_slot_in_work_every() -> None:
    s = scheduler(work_every=4)
    s.next_poll(0.0)
    s.polled(True)
    assert slots(s, 12, finds=True) == "PPWPPPPWPPPP"


def test_a_command_never_follows_a_command() -> None:
    s = scheduler()
    assert s.work_turn()
    s.worked()
    assert not s.work_turn()


def test_ring_visits_every_unit_once_per_cycle_when_nobody_is_hot() -> None:
    s = scheduler(n=5)
    seen = [s.next_poll(0.0) for _ in range(10)]
    assert seen == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
    assert s.cycles == 2


def test_a_hot_unit_shares_slots_with_the_ring_instead_of_stalling_it() -> None:
    s = scheduler(n=5)
    s.hot.add(4)
    assert [s.next_poll(0.0) for _ in range(4)] == [4, 1, 2, 3]


def test_offline_units_are_skipped_by_the_ring() -> None:
    s = scheduler(n=4)
    s._units[2].liveness = Liveness.OFFLINE
    s._units[2].next_probe = 1e9
    assert [s.next_poll(0.0) for _ in range(3)] == [1, 3, 4]


def press(seq: int) -> KeyPress:
    return KeyPress(seq, 1, Key.FOR)


@pytest.mark.parametrize(
    ("events", "more"),
    [
        ((), False),
        ((press(1),), False),
        (tuple(press(i) for i in range(1, 17)), False),  # 5 + 16 * 6 = 101 bytes: a 22-byte card fits
        (tuple(press(i) for i in range(1, 18)), True),  # 107 bytes: it would not
        ((CardInserted(1, 1, b"\x01" * 16),) * 5, True),
    ],
)
def test_a_reply_may_hold_more_only_when_it_had_no_room_left(events: tuple, more: bool) -> None:
    reply = PollReply(7, 1, 1, UnitFlag(0), events)
    assert len(reply.payload()) <= 128
    assert reply.may_hold_more() is more
