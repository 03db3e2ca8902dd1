"""Virtual RS-485 keypad units for tests, demos and benchmarks.

* :class:`SimulatedLine` - the units of one line, the wire's timing and injectable faults;
* :class:`PtySimulator` - serves a line behind a real pseudo-terminal (``/dev/pts/N``);
* ``hemisim://`` - a pyserial URL handler for in-process tests: call
  :func:`register_url_handler` once, then ``serial_for_url(url_for(line))``;
* :class:`RandomPresser` - members pressing allowed keys at random;
* :class:`ScriptPresser` - members pressing as a script of "time unit key" lines says;
* :mod:`simulators.keypads.serial_server` - a network serial server (RFC 2217 or raw TCP)
  in front of a pty, with the faults of a real one (restart, refused baud rate, stall);
* :mod:`simulators.keypads.cli` - ``hemicycle simulate keypads``.

Nothing in device_drivers/ knows about any of this: the master sees a serial port.
"""

from __future__ import annotations

import serial

from simulators.keypads.line import Faults, SimStats, SimulatedLine, UnitState
from simulators.keypads.presser import RandomPresser, ScriptPresser
from simulators.keypads.protocol_hemisim import url_for
from simulators.keypads.pty import PtySimulator


def register_url_handler() -> None:
    """Let ``serial.serial_for_url`` open ``hemisim://`` URLs (idempotent).

    An explicit call rather than an import side effect, so importing the simulator never
    changes pyserial's global handler list behind anyone's back.
    """
    if __name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(__name__)


__all__ = [
    "Faults",
    "PtySimulator",
    "RandomPresser",
    "ScriptPresser",
    "SimStats",
    "SimulatedLine",
    "UnitState",
    "register_url_handler",
    "url_for",
]
