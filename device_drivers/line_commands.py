"""The consumer's side of a keypad line: commands callable from any thread.

Split from bus.py because it is the half of a line a consumer (the bridge) sees: each
command checks its arguments in the caller's thread (so a mistake raises there), then
queues a closure that the line thread applies between transactions. The line thread owns
every unit's state, so nothing here needs a lock. Applying a command only records the
*desired state* of units (mode, LEDs, text) and queues broadcasts; the line reconciles
units with it, including units that missed a broadcast, were offline or lost power.
"""

from __future__ import annotations

import logging
import queue
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial

from device_drivers.codec import BROADCAST, MAX_ADDRESS
from device_drivers.events import InputEvent
from device_drivers.messages import Display, FloorLamp, Key, Mode, Request, SetLeds
from device_drivers.schedule import OrderedSet
from device_drivers.units import ModeSpec, UnitTracker

log = logging.getLogger("device_drivers.bus")


class LineCommands:
    """Units of one line, their desired state, and the queue of commands for its thread."""

    def __init__(self, name: str, addresses: Iterable[int], broadcast_repeats: int) -> None:
        self.name = name
        self._units = {a: UnitTracker(a) for a in sorted(set(addresses))}
        if not self._units or not all(1 <= a <= MAX_ADDRESS for a in self._units):
            raise ValueError(f"addresses must be a non-empty subset of 1..{MAX_ADDRESS}")
        self._broadcast_repeats = broadcast_repeats
        self._work = OrderedSet()
        """Units owed a unicast command."""
        self._broadcasts: deque[Request] = deque()
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    # ------------------------------------------------------------ commands (any thread)

    def set_mode(
        self,
        mode: Mode,
        epoch: int,
        keys: Iterable[Key] = (),
        *,
        secret: bool = False,
        addresses: Iterable[int] | None = None,
    ) -> None:
        """Put all units (broadcast) or the given ones into ``mode``; ``epoch`` (0..65535)
        must change whenever the meaning of a key press changes (new ballot, new check-in)."""
        if not 0 <= epoch <= 0xFFFF:
            raise ValueError("epoch must fit in 16 bits")
        spec = ModeSpec(Mode(mode), epoch, frozenset(Key(k) for k in keys), secret)
        targets = None if addresses is None else self._known(addresses)
        self._inbox.put(partial(self._apply_mode, spec, targets))

    def set_leds(self, address: int, lit: Iterable[Key] = (), *, recorded: bool = False) -> None:
        """Show a recorded choice. Key LEDs are suppressed while the unit is in secret mode."""
        (address,) = self._known((address,))
        request = SetLeds(address, frozenset(Key(k) for k in lit), recorded)
        self._inbox.put(partial(self._apply_leds, request))

    def set_floor(self, address: int, lamp: FloorLamp) -> None:
        """Light a unit's floor lamp (queued / speaking / off); sent only to 1.1 units."""
        (address,) = self._known((address,))
        self._inbox.put(partial(self._apply_floor, address, FloorLamp(lamp)))

    def display(self, text: str, address: int | None = None) -> None:
        """Show ``text`` (<= 64 UTF-8 bytes) on one unit, or on all (best-effort broadcast)."""
        targets = None if address is None else self._known((address,))
        Display(0, text).payload()  # validates the length in the caller's thread
        self._inbox.put(partial(self._apply_text, text, targets))

    def request_status(self, address: int) -> None:
        """Ask a unit for STATUS; the answer arrives as a UnitStatus event."""
        (address,) = self._known((address,))
        self._inbox.put(partial(self._apply_status, address))

    def confirm(self, event: InputEvent) -> None:
        """The consumer made ``event`` durable: the unit may now forget it."""
        self._inbox.put(partial(self._apply_confirm, event.address, event.boot, event.seq))

    def _known(self, addresses: Iterable[int]) -> tuple[int, ...]:
        found = tuple(addresses)
        unknown = [a for a in found if a not in self._units]
        if unknown:
            raise ValueError(f"line {self.name} has no units {unknown}")
        return found

    # ------------------------------------------------- command application (line thread)

    def _apply_mode(self, spec: ModeSpec, targets: tuple[int, ...] | None) -> None:
        for unit in self._units.values() if targets is None else (self._units[a] for a in targets):
            unit.mode = spec
            unit.mode_verified = targets is None
            if targets is not None:
                self._work.add(unit.address)
        if targets is None:
            self._broadcasts.extend([spec.request(BROADCAST)] * self._broadcast_repeats)

    def _apply_leds(self, request: SetLeds) -> None:
        unit = self._units[request.address]
        if unit.mode is not None and unit.mode.secret and request.lit:
            log.warning("line %s unit %d: key LEDs suppressed in secret mode", self.name, unit.address)
            request = SetLeds(request.address, frozenset(), request.recorded)
        unit.leds, unit.leds_dirty = request, True
        self._work.add(unit.address)

    def _apply_text(self, text: str, targets: tuple[int, ...] | None) -> None:
        for address in self._units if targets is None else targets:
            unit = self._units[address]
            unit.text, unit.text_dirty = text, targets is not None
            if targets is not None:
                self._work.add(address)
        if targets is None:
            self._broadcasts.extend([Display(BROADCAST, text)] * self._broadcast_repeats)

    def _apply_floor(self, address: int, lamp: FloorLamp) -> None:
        unit = self._units[address]
        unit.floor, unit.floor_dirty = lamp, True
        self._work.add(address)

    def _apply_status(self, address: int) -> None:
        self._units[address].status_wanted = True
        self._work.add(address)

    def _apply_confirm(self, address: int, boot: int, seq: int) -> None:
        """The acknowledgement rides on the unit's next ring poll (see schedule.py)."""
        unit = self._units.get(address)
        if unit is not None:
            unit.confirm(boot, seq)
