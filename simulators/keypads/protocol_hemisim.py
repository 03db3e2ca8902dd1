"""pyserial URL handler ``hemisim://<name>``: an in-process port onto a SimulatedLine.

pyserial finds this module as ``<package>.protocol_hemisim`` once
:func:`simulators.keypads.register_url_handler` has added this package to
``serial.protocol_handler_packages``. A URL is only a string, so lines are looked up by
name in :data:`_LINES`; that table is the one deliberate piece of module state here, and
it holds weak references only, so it owns nothing and a finished test leaves nothing behind.

No thread is needed: :meth:`Serial.write` hands the bytes to the line, which returns each
reply with its arrival time; :meth:`Serial.read` sleeps until bytes are due.
"""

from __future__ import annotations

import heapq
import itertools
import time
import urllib.parse
import weakref

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from simulators.keypads.line import SimulatedLine

_LINES: weakref.WeakValueDictionary[str, SimulatedLine] = weakref.WeakValueDictionary()
_NAMES = itertools.count(1)


def url_for(line: SimulatedLine) -> str:
    """Register ``line`` and return a URL that opens a port onto it."""
    name = f"line{next(_NAMES)}"
    _LINES[name] = line
    return f"hemisim://{name}"


class Serial(SerialBase):
    """Serial port whose far end is a simulated keypad line."""

    is_open: bool  # SerialBase sets it; pyserial ships no type hints

    def open(self) -> None:
        if self.is_open:
            raise SerialException("port already open")
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        name = urllib.parse.urlsplit(self.port).netloc
        line = _LINES.get(name)
        if line is None:
            raise SerialException(f"no simulated keypad line named {name!r}")
        self._line = line
        self._rx = bytearray()
        self._due: list[tuple[float, int, bytes]] = []
        self._order = itertools.count()
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def _reconfigure_port(self) -> None:
        """Nothing to configure; RS-485 settings are meaningless on a simulated wire."""

    def _arrive(self) -> None:
        now = time.monotonic()
        while self._due and self._due[0][0] <= now:
            self._rx += heapq.heappop(self._due)[2]

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        self._arrive()
        return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            self._arrive()
            if len(self._rx) >= size:
                break
            now = time.monotonic()
            next_due = self._due[0][0] if self._due else None
            if deadline is not None and (next_due is None or next_due > deadline):
                if deadline > now:
                    time.sleep(deadline - now)
                self._arrive()
                break
            if next_due is None:
                time.sleep(0.01)
            elif next_due > now:
                time.sleep(next_due - now)
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        for due, reply in self._line.receive(bytes(data), time.monotonic()):
            heapq.heappush(self._due, (due, next(self._order), reply))
        return len(data)

    def reset_input_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        self._arrive()
        self._rx.clear()

    def reset_output_buffer(self) -> None:
        """Writes are delivered at once; nothing is ever waiting to go out."""

    @property
    def out_waiting(self) -> int:
        return 0

    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True
