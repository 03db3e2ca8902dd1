"""Bus master: one thread per RS-485 line polls its keypad units through pyserial.

Why a thread per line: pyserial is blocking, a line is strictly one transaction at a time,
and a dedicated thread keeps the turnaround tight without fighting an event loop. The
asyncio bridge talks to a line only through thread-safe calls:

* events go out through a ``sink`` callable (use :func:`device_drivers.events.asyncio_sink`);
* commands (:meth:`Line.set_mode`, :meth:`Line.set_leds`, :meth:`Line.display`,
  :meth:`Line.confirm`, ...; see line_commands.py) return at once; they are queued and
  applied by the line thread between transactions, which owns all per-unit state, so
  nothing here needs a lock.

Commands set a *desired state* per unit (mode, LEDs, text) that the line reconciles: a
unit that missed a broadcast, was offline or lost power is brought back in line as soon as
a reply shows it is stale, without the consumer having to notice.

Exactly once: a key press is delivered once per ``(address, boot, seq)`` and acknowledged
to the unit only after the consumer calls :meth:`Line.confirm`; see device_drivers/units.py.

Lines always come back: whatever escapes a line (a port error, a serial server refusing a
setting, a bug) is reported once as :class:`LineDown`, logged once with its cause, and the
port is reopened with backoff; a line whose port works but whose units all fell silent is
reported the same way. While down, the units are neither polled on the ring nor reported
offline one by one; once any unit answers (:class:`LineUp`) every unit is on the ring
again at once, so the line's keypads are back within a cycle or two. See line_state.py.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import serial
from serial.rs485 import RS485Settings

from device_drivers.codec import OVERHEAD
from device_drivers.events import BusEvent, InputEvent, Sink, UnitRebooted, input_event, status_event
from device_drivers.line_commands import LineCommands
from device_drivers.line_state import Backoff, LineState
from device_drivers.messages import (
    Ack,
    IdleReply,
    Key,
    Message,
    Mode,
    Nak,
    Poll,
    PollReply,
    Request,
    StatusReply,
    StatusRequest,
    UnitFlag,
)
from device_drivers.schedule import PollScheduler
from device_drivers.timing import LineTiming, default_latency
from device_drivers.transport import LineStats, Transport
from device_drivers.units import Liveness, UnitTracker

log = logging.getLogger(__name__)

LINE_SWITCH_INTERVAL = 0.0005
"""Seconds another thread may hold the interpreter once a line thread's reply has arrived."""


def favour_line_threads() -> None:
    """Let a line thread take the interpreter back within a few byte times of its reply.

    A line thread sleeps in the serial read, without the GIL; when the reply lands it must
    wait for whoever holds the GIL to yield, which CPython forces only after the switch
    interval (default 5 ms, five whole exchanges at 115200 Bd). In a process where an asyncio
    loop is busy too (the bridge during a burst of votes), that wait would stretch every
    exchange. Call once at process start, as ``hemicycle keypads`` does; it is process-wide,
    so a library does not do it behind its caller's back.
    """
    sys.setswitchinterval(LINE_SWITCH_INTERVAL)


@dataclass(frozen=True)
class LineConfig:
    baudrate: int = 115200
    rs485: RS485Settings | None = None
    """Applied as ``port.rs485_mode`` (kernel RS-485 direction control) when given."""
    retries: int = 1
    """Immediate re-tries of a failed exchange with an online unit."""
    offline_after: int = 5
    """Consecutive timeouts (no byte at all) after which a unit is reported offline."""
    offline_probe_interval: float = 0.5
    """Seconds between probes of one offline unit."""
    probe_every: int = 16
    """At most one offline probe per this many polls, so dead units cannot eat the line."""
    work_every: int = 16
    """While polls are finding presses, at most one unicast command (lamp, mode, text) per
    this many polls, so a burst of presses is read within one cycle; see schedule.py."""
    broadcast_repeats: int = 2
    latency_allowance: float | None = None
    """Seconds added to reply timeouts; None: 3 ms for a local port, 15 ms for a port behind
    a network serial server (``timing.default_latency``)."""
    timing: LineTiming | None = None
    """Defaults to ``LineTiming(baudrate, latency_allowance)``."""
    reopen_delay: float = 0.25
    """First wait before reopening a port that failed; doubles up to ``reopen_max_delay``."""
    reopen_max_delay: float = 1.0
    """Longest wait between attempts: a serial server that comes back is used within it."""


class Line(LineCommands):
    """One RS-485 line (one serial port) and the units on it."""

    def __init__(
        self,
        name: str,
        url: str,
        addresses: Iterable[int],
        sink: Sink,
        config: LineConfig | None = None,
    ) -> None:
        self.config = config or LineConfig()
        super().__init__(name, addresses, self.config.broadcast_repeats)
        self.url = url
        latency = self.config.latency_allowance
        self.timing = self.config.timing or LineTiming(
            self.config.baudrate, latency_allowance=default_latency(url) if latency is None else latency
        )
        self.stats = LineStats()
        self._sink = sink
        self._schedule = PollScheduler(self._units, self.config.probe_every, self.config.work_every)
        self._state = LineState(
            name,
            self._units,
            self.stats,
            offline_after=self.config.offline_after,
            backoff=Backoff(self.config.reopen_delay, self.config.reopen_max_delay),
        )
        self._probe_ring = list(self._units)
        self._probe_cursor = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None

    # ------------------------------------------------------------ lifecycle (any thread)

    def start(self) -> None:
        """Start the line thread. It opens the port itself: a port that cannot be opened is
        reported (LineDown) and retried, exactly like one that fails later."""
        self._thread = threading.Thread(target=self._run, name=f"keypad-line-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling, send owed acks, close the port."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> Line:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def up(self) -> bool:
        """Whether the line works: a unit answered since the port was last (re)opened."""
        return self._state.up

    # --------------------------------------------------------------------- line thread

    def _open(self) -> Transport:
        port = serial.serial_for_url(
            self.url, baudrate=self.config.baudrate, timeout=self.timing.first_byte_timeout(OVERHEAD)
        )
        if self.config.rs485 is not None:
            port.rs485_mode = self.config.rs485
        return Transport(port, self.timing, self.stats)

    def _transact(self, request: Request) -> Message | None:
        assert self._transport is not None
        return self._transport.transact(request)

    def _run(self) -> None:
        self._schedule.cycle_started = time.monotonic()
        while not self._stopping.is_set():
            opening = self._transport is None
            try:
                if opening:
                    self._transport = self._open()
                    opening = False
                self._step()
            except Exception as exc:  # whatever it is, the line reports it and comes back
                self._failed(exc, opening)
        self._shutdown()

    def _failed(self, exc: Exception, opening: bool) -> None:
        """Close the port, report (once per reason), wait (backoff), then the loop reopens."""
        if self._transport is not None:
            try:
                self._transport.port.close()
            except Exception:  # closing a broken port may fail too; it is gone either way
                pass
            self._transport = None
        self._emit_all(self._state.failed(exc, opening=opening))
        self._stopping.wait(self._state.backoff.next())

    def _step(self) -> None:
        while not self._inbox.empty():
            self._inbox.get_nowait()()
        if not self._state.up:
            self._probe()
            return
        if self._broadcasts:
            self._transact(self._broadcasts.popleft())
            return
        schedule = self._schedule
        if self._work and schedule.work_turn() and self._do_work():
            schedule.worked()
            return
        address = schedule.next_poll(time.monotonic())
        self.stats.cycles, self.stats.last_cycle_time = schedule.cycles, schedule.last_cycle_time
        if address is None:
            time.sleep(0.005)
            return
        self._poll(self._units[address])

    def _probe(self) -> None:
        """The line is not up (first contact, or back from a failure): poll every unit in
        turn, liveness aside, until one answers. Commands and broadcasts wait for that."""
        self._schedule.hot.clear()
        unit = self._units[self._probe_ring[self._probe_cursor]]
        self._probe_cursor = (self._probe_cursor + 1) % len(self._probe_ring)
        request = unit.poll_request()
        self.stats.polls += 1
        reply = self._transact(request)
        assert self._transport is not None
        if reply is None:
            if self._transport.last_was_timeout:
                self._emit_all(self._state.timed_out(unit))
            else:
                self._state.heard()
            return
        self._emit_all(self._state.answered(unit))
        self._took_poll(unit, request, reply)
        if unit.has_work():
            self._work.add(unit.address)

    def _poll(self, unit: UnitTracker) -> None:
        request = unit.poll_request()
        self.stats.polls += 1
        reply = self._exchange(unit, request)
        self._schedule.polled(self._took_poll(unit, request, reply))
        if unit.has_work():
            self._work.add(unit.address)

    def _took_poll(self, unit: UnitTracker, request: Poll, reply: Message | None) -> bool:
        """Apply the reply to a poll (None: nothing heard); True if it carried new events."""
        found = False
        if isinstance(reply, IdleReply):
            unit.poll_answered(request)
            unit.check_tag(reply.tag)
        elif isinstance(reply, PollReply):
            if reply.boot != unit.boot:
                old = unit.new_boot(reply.boot)
                if old is not None:
                    self._emit(UnitRebooted(self.name, unit.address, old, reply.boot))
            elif reply.flags & UnitFlag.REBOOTED:
                unit.clear_reboot_flag = True
            unit.poll_answered(request)
            unit.check_epoch(reply.epoch)
            for event in unit.accept(reply.events):
                assert unit.boot is not None
                found = True
                self.stats.events += 1
                self._emit(input_event(self.name, unit.address, unit.boot, event))
            if reply.may_hold_more():
                self._schedule.hot.add(unit.address)
        return found

    def _do_work(self) -> bool:
        """Send one pending unicast command (mode, LEDs, text, status); False if none."""
        while (address := self._work.pop()) is not None:
            unit = self._units[address]
            if unit.liveness is not Liveness.OFFLINE and unit.has_work():
                break
        else:
            return False
        request = unit.next_command()
        reply = self._exchange(unit, request)
        if isinstance(reply, Nak) and isinstance(request, StatusRequest):
            log.info("line %s unit %d refused STATUS: taken for a protocol 1.0 unit", self.name, address)
        elif isinstance(reply, Nak):
            log.error("line %s unit %d refused %r: %s", self.name, address, request, reply.reason.name)
        if reply is not None:
            if isinstance(reply, StatusReply):
                unit.protocol = reply.protocol
            unit.command_answered(request)
            if isinstance(reply, StatusReply):
                self._emit(status_event(self.name, reply))
        if unit.has_work():
            self._work.add(address)
        return True

    def _exchange(self, unit: UnitTracker, request: Request) -> Message | None:
        """One request with retries; updates liveness. Returns the matching reply or None."""
        attempts = 1 + (self.config.retries if unit.liveness is Liveness.ONLINE else 0)
        for _ in range(attempts):
            reply = self._transact(request)
            if reply is not None:
                self._emit_all(self._state.answered(unit))
                return reply
            assert self._transport is not None
            if not self._transport.last_was_timeout:
                self._state.heard()  # garbled: something answered; not a step towards offline
            else:
                self._emit_all(self._state.timed_out(unit))
            if unit.liveness is Liveness.OFFLINE or not self._state.up:
                break
        unit.next_probe = time.monotonic() + self.config.offline_probe_interval
        return None

    def _emit_all(self, events: list[BusEvent]) -> None:
        for event in events:
            self._emit(event)

    def _emit(self, event: BusEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a consumer bug must not stop the line
            log.exception("line %s: event sink failed on %r", self.name, event)

    def _shutdown(self) -> None:
        """Best effort: acknowledge what the consumer confirmed, then close."""
        if self._transport is None:
            return
        try:
            while True:
                try:
                    self._inbox.get_nowait()()
                except queue.Empty:
                    break
            for unit in self._units.values():
                if unit.liveness is Liveness.ONLINE and unit.boot is not None and unit.acked != unit.confirmed:
                    self._transact(Ack(unit.address, unit.boot, unit.confirmed))
        except Exception as exc:
            log.warning("line %s: final acks failed: %s", self.name, exc)
        finally:
            try:
                self._transport.port.close()
            except Exception:
                pass
            self._transport = None


class BusMaster:
    """Several lines polled in parallel (a thread each) feeding one sink."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._lines: dict[str, Line] = {}

    def add_line(self, name: str, url: str, addresses: Iterable[int], config: LineConfig | None = None) -> Line:
        if name in self._lines:
            raise ValueError(f"duplicate line name {name!r}")
        line = Line(name, url, addresses, self._sink, config)
        self._lines[name] = line
        return line

    @property
    def lines(self) -> dict[str, Line]:
        return dict(self._lines)

    def start(self) -> None:
        for line in self._lines.values():
            line.start()

    def stop(self) -> None:
        for line in self._lines.values():
            line.stop()

    def __enter__(self) -> BusMaster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def confirm(self, event: InputEvent) -> None:
        self._lines[event.line].confirm(event)

    def set_mode(self, mode: Mode, epoch: int, keys: Iterable[Key] = (), *, secret: bool = False) -> None:
        """Broadcast a mode on every line."""
        for line in self._lines.values():
            line.set_mode(mode, epoch, tuple(keys), secret=secret)
