"""Whether a keypad line and each of its units are heard, and the news that makes.

Pure (no I/O, no clock): the line thread (bus.py) says what happened to an exchange and
emits the events returned here, so the rules read, and are tested, on their own.

A line is *up* once a unit answers. It goes *down* when

* the port fails or cannot be opened (``port_failed``: adapter unplugged, serial server
  unreachable or restarted), refuses a setting while opening (``setting_refused``: pyserial
  raises ValueError, e.g. an RFC 2217 server's "remote rejected value for option
  'baudrate'"), or any other exception escapes the line (``fault``);
* the port works but ``offline_after`` exchanges in a row heard nothing at all, and among
  them every unit expected to answer (``no_answer``: RS-485 cable, power, or a network
  stall).

Either way the consumer gets **one** :class:`LineDown` for the line, not a UnitOffline per
unit for a cause they share, and the log one line; a new notice is due only when the
reason changes. While down, a closed port is reopened with exponential backoff and an open
one is probed unit after unit until one answers. Then :class:`LineUp`, and every unit is
polled on the ring at once (units offline before get one chance there), so the keypads of
a line are back within a cycle or two instead of one probe per 16 polls each.

A unit is offline after ``offline_after`` exchanges with no byte at all (garbled replies
mean something answered), provided something else on the line was heard since it fell
silent - otherwise the silence is the line's, and a unit owed a lamp, retried at every
turn, would be reported before its line. Its notice waits for the next reply of another
unit: a unit that missed replies under load just before its whole line stalled is then
covered by the line's notice instead of making its own. It is reported online at its first
reply.
``UnitTracker.reported`` keeps the news to real changes, so a unit that stayed online
through an outage of its line makes none.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Collection, Mapping
from pathlib import Path

import serial

from device_drivers.events import BusEvent, LineDown, LineUp, UnitOffline, UnitOnline
from device_drivers.transport import LineStats
from device_drivers.units import Liveness, UnitTracker

log = logging.getLogger(__name__)

PORT_FAILED = "port_failed"
SETTING_REFUSED = "setting_refused"
NO_ANSWER = "no_answer"
FAULT = "fault"
REASONS = {
    PORT_FAILED: "the port failed or cannot be opened",
    SETTING_REFUSED: "the port refused a setting",
    NO_ANSWER: "no keypad answers",
    FAULT: "unexpected error in the line",
}
"""Reason codes (sent to the server, translated by the console) and their text for logs."""


def classify(exc: BaseException, *, opening: bool) -> tuple[str, str]:
    """(reason code, detail) for an exception that escaped the line.

    A port's or a setting's error says what failed and nothing else. Any other exception is
    a bug, and its message might quote an event (a key press names its key): it is named by
    type and place only, as the bridge names its errors, since the detail goes to the
    server's record and the log (the whole traceback is logged at DEBUG)."""
    if isinstance(exc, (serial.SerialException, OSError)):
        return PORT_FAILED, str(exc) or type(exc).__name__
    if opening and isinstance(exc, ValueError):
        return SETTING_REFUSED, str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return FAULT, f"{type(exc).__name__}{where}"


class Backoff:
    """Delays between attempts to reopen a port: doubling from ``first`` up to ``limit``."""

    def __init__(self, first: float, limit: float) -> None:
        if not 0 < first <= limit:
            raise ValueError("backoff needs 0 < first <= limit")
        self.first = first
        self.limit = limit
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self.limit, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first


class LineState:
    """Liveness of one line and of its units; every method returns the events to emit."""

    def __init__(
        self,
        name: str,
        units: Mapping[int, UnitTracker],
        stats: LineStats,
        *,
        offline_after: int,
        backoff: Backoff,
    ) -> None:
        self.name = name
        self.units = units
        self.stats = stats
        self.offline_after = offline_after
        self.backoff = backoff
        self.up = False
        self.reason: tuple[str, str] | None = None
        """(code, detail) while down for a known reason; None while up or before first contact."""
        self._silent: set[int] = set()
        """Units that stayed silent since anything was last heard."""
        self._quiet = 0
        """Exchanges in a row that heard nothing at all."""
        self._heard = 0
        """Exchanges that heard something (a count, to tell "since when")."""
        self._silent_from: dict[int, int] = {}
        """Unit -> ``_heard`` when its current run of failures began (-1: long established)."""
        self._back_at = 0
        """``stats.cycles`` when the line last came up."""
        self._unreported: set[int] = set()
        """Units found offline whose notice waits for another unit to answer."""

    # ------------------------------------------------------------ what the exchanges say

    def answered(self, unit: UnitTracker) -> list[BusEvent]:
        """A valid reply from ``unit``."""
        news: list[BusEvent] = [] if self.up else self._back()
        self._unreported.discard(unit.address)
        news += self._report_offline()
        self.heard()
        self._silent_from.pop(unit.address, None)
        unit.failures = 0
        if unit.liveness is not Liveness.ONLINE:
            unit.liveness = Liveness.ONLINE
            self.stats.online += 1
            if self.stats.online == len(self.units) and self.stats.returned_in is None:
                self.stats.returned_in = self.stats.cycles - self._back_at
        if unit.reported is not True:
            unit.reported = True
            news.append(UnitOnline(self.name, unit.address))
        return news

    def _report_offline(self) -> list[BusEvent]:
        """The notices of units found offline: another unit just answered, so the line is
        alive and their silence was their own."""
        news: list[BusEvent] = []
        for address in sorted(self._unreported):
            unit = self.units[address]
            if unit.liveness is Liveness.OFFLINE and unit.reported is not False:
                unit.reported = False
                news.append(UnitOffline(self.name, address))
        self._unreported.clear()
        return news

    def heard(self) -> None:
        """Something arrived (a reply, or bytes that made none): the line is alive."""
        self._silent.clear()
        self._quiet = 0
        self._heard += 1

    def timed_out(self, unit: UnitTracker) -> list[BusEvent]:
        """Not a byte from ``unit``. While up: one failure of the unit, unless the whole line
        fell silent; while down: one more silent probe (a whole pass: no unit answers)."""
        self._silent.add(unit.address)
        self._quiet += 1
        if not self.up:
            if self._silent.issuperset(self.units):
                return self.down(NO_ANSWER, "")
            return []
        if self._quiet >= self.offline_after and self._silent.issuperset(self._expected()):
            return self.down(NO_ANSWER, "")  # the line's fault, not the units'
        since = self._silent_from.setdefault(unit.address, self._heard)
        unit.failures += 1
        if unit.failures < self.offline_after or unit.liveness is Liveness.OFFLINE:
            return []
        if since == self._heard:
            return []  # nothing heard anywhere since it fell silent: wait for the line's verdict
        if unit.liveness is Liveness.ONLINE:
            self.stats.online -= 1
        unit.liveness = Liveness.OFFLINE
        if unit.reported is not False:
            self._unreported.add(unit.address)  # told once another unit is heard
        return []

    def failed(self, exc: Exception, *, opening: bool) -> list[BusEvent]:
        """``exc`` escaped the line (the port is being closed)."""
        code, detail = classify(exc, opening=opening)
        return self.down(code, detail, exc)

    # ------------------------------------------------------------ the line

    def down(self, code: str, detail: str, exc: Exception | None = None) -> list[BusEvent]:
        """The line is down for ``code``: one notice and one log line per change of reason."""
        previous = self.reason
        if self.up:
            self.up = False
            self.stats.up = False
            self.stats.downs += 1
            self._suspend_units()
        self._silent.clear()
        self._quiet = 0
        self._unreported.clear()  # their silence was the line's: the line's notice covers them
        text = f"{REASONS[code]}: {detail}" if detail else REASONS[code]
        if previous == (code, detail):
            log.debug("line %s still down: %s", self.name, text)
            return []
        self.reason = (code, detail)
        if previous is None:
            log.error("line %s down: %s (retrying)", self.name, text)
        else:
            log.warning("line %s still down, now: %s", self.name, text)
        if code == FAULT:
            log.debug("line %s: the error's traceback", self.name, exc_info=exc)
        return [LineDown(self.name, code, detail)]

    def _back(self) -> list[BusEvent]:
        was_down = self.reason is not None
        self.up, self.reason = True, None
        self.stats.up = True
        self.stats.returned_in = None
        self._back_at = self.stats.cycles
        self.backoff.reset()
        self._silent_from.clear()
        for unit in self.units.values():
            unit.failures = 0
            if unit.liveness is Liveness.OFFLINE:
                # one chance on the first ring pass; silence sends it back without news
                unit.liveness = Liveness.UNKNOWN
                unit.failures = self.offline_after - 1
                self._silent_from[unit.address] = -1
        log.info("line %s %s", self.name, "back" if was_down else "up: units answering")
        return [LineUp(self.name)]

    def _suspend_units(self) -> None:
        """Units of a dead line are not heard, and not reported offline for it."""
        for unit in self.units.values():
            if unit.liveness is Liveness.ONLINE:
                unit.liveness = Liveness.UNKNOWN
            unit.failures = 0
        self._silent_from.clear()
        self.stats.online = 0

    def _expected(self) -> Collection[int]:
        """Units whose silence means the line is dead: those not offline on their own
        (all of them, if every one is)."""
        live = [a for a, u in self.units.items() if u.liveness is not Liveness.OFFLINE]
        return live or list(self.units)
