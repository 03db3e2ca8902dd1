"""Which unit to talk to next, and when a command may take a poll's slot: the line's
policy, without any I/O.

The figure that matters is key press -> read by the master, and it is bounded by how long
the ring takes to come back to a unit. So the ring is protected:

* every online unit is polled once per cycle (an idle answer is 3 bytes), and an
  acknowledgement rides on the unit's next ring poll (a long POLL) instead of costing an
  exchange of its own;
* a unit is "hot" - polled again in every other slot until it is quiet - only when its
  reply was full, i.e. more events may be waiting behind it;
* unicast commands (lamps, modes, texts) alternate with polls while polls find nothing, but
  while polls are finding presses they get at most one slot per ``work_every`` polls: the
  lamps follow a burst of presses instead of stretching the cycle that reads them, and are
  never starved;
* offline units cost a whole timeout each, so they are probed at most once per
  ``probe_every`` polls and at most once per ``probe_interval`` seconds each.
"""

from __future__ import annotations

from device_drivers.units import Liveness, UnitTracker


class OrderedSet:
    """Insertion-ordered set of addresses with FIFO pop (no duplicates queued twice)."""

    def __init__(self) -> None:
        self._items: dict[int, None] = {}

    def add(self, address: int) -> None:
        self._items.setdefault(address, None)

    def pop(self) -> int | None:
        if not self._items:
            return None
        address = next(iter(self._items))
        del self._items[address]
        return address

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class PollScheduler:
    """Round-robin ring plus a hot queue plus rate-limited probes of offline units, and the
    share of the line left to unicast commands."""

    def __init__(self, units: dict[int, UnitTracker], probe_every: int, work_every: int = 8) -> None:
        if work_every < 2:
            raise ValueError("work_every must be at least 2 (a command never follows a command)")
        self._units = units
        self._ring = list(units)
        self._cursor = 0
        self._probe_every = probe_every
        self._since_probe = 0
        self._hot_turn = False
        self._work_every = work_every
        self._polls_since_work = 1
        self._last_poll_found = False
        self.hot = OrderedSet()
        self.cycles = 0
        self.cycle_started = 0.0
        self.last_cycle_time = 0.0

    # ------------------------------------------------------------- polls versus commands

    def work_turn(self) -> bool:
        """Whether the next slot may go to a unicast command (if one is waiting)."""
        if self._polls_since_work == 0:
            return False
        return not self._last_poll_found or self._polls_since_work >= self._work_every

    def worked(self) -> None:
        """A command took the slot."""
        self._polls_since_work = 0

    def polled(self, found_events: bool) -> None:
        """A poll took the slot; ``found_events`` if its reply carried new events."""
        self._polls_since_work += 1
        self._last_poll_found = found_events

    # ------------------------------------------------------------------------ polling

    def next_poll(self, now: float) -> int | None:
        """Address to poll now, or None if every unit is offline and none is due."""
        self._hot_turn = not self._hot_turn
        if self._hot_turn:
            while (address := self.hot.pop()) is not None:
                if self._units[address].liveness is not Liveness.OFFLINE:
                    return address
        self._since_probe += 1
        if self._since_probe >= self._probe_every and (probe := self.due_probe(now)) is not None:
            self._since_probe = 0
            return probe
        for _ in range(len(self._ring)):
            address = self._ring[self._cursor]
            self._cursor += 1
            if self._cursor == len(self._ring):
                self._cursor = 0
                self.cycles += 1
                self.last_cycle_time = now - self.cycle_started
                self.cycle_started = now
            if self._units[address].liveness is not Liveness.OFFLINE:
                return address
        return self.due_probe(now)

    def due_probe(self, now: float) -> int | None:
        """The offline unit waiting longest for its probe, if any is due."""
        best: UnitTracker | None = None
        for unit in self._units.values():
            due = unit.liveness is Liveness.OFFLINE and unit.next_probe <= now
            if due and (best is None or unit.next_probe < best.next_probe):
                best = unit
        return None if best is None else best.address
