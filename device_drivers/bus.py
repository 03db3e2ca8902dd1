"""Bus master: one thread per RS-485 line polls its keypad units through pyserial.

Why a thread per line: pyserial is blocking, a line is strictly one transaction at a time,
and a dedicated thread keeps the turnaround tight without fighting an event loop. The
asyncio bridge talks to a line only through thread-safe calls:

* events go out through a ``sink`` callable (use :func:`device_drivers.events.asyncio_sink`);
* commands (:meth:`Line.set_mode`, :meth:`Line.set_leds`, :meth:`Line.display`,
  :meth:`Line.confirm`, ...) return at once; they are queued and applied by the line thread
  between transactions, which owns all per-unit state, so nothing here needs a lock.

Commands set a *desired state* per unit (mode, LEDs, text) that the line reconciles: a
unit that missed a broadcast, was offline or lost power is brought back in line as soon as
a reply shows it is stale, without the consumer having to notice.

Exactly once: a key press is delivered once per ``(address, boot, seq)`` and acknowledged
to the unit only after the consumer calls :meth:`Line.confirm`; see device_drivers/units.py.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import serial
from serial.rs485 import RS485Settings

from device_drivers.codec import BROADCAST, MAX_ADDRESS, OVERHEAD
from device_drivers.events import (
    BusEvent,
    InputEvent,
    LineDown,
    Sink,
    UnitOffline,
    UnitOnline,
    UnitRebooted,
    input_event,
    status_event,
)
from device_drivers.messages import (
    Ack,
    Display,
    IdleReply,
    Key,
    Message,
    Mode,
    Nak,
    PollReply,
    Request,
    SetLeds,
    StatusReply,
    UnitFlag,
)
from device_drivers.schedule import OrderedSet, PollScheduler
from device_drivers.timing import LineTiming
from device_drivers.transport import LineStats, Transport
from device_drivers.units import Liveness, ModeSpec, UnitTracker

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
    timing: LineTiming | None = None
    """Defaults to ``LineTiming(baudrate)``."""
    reopen_delay: float = 1.0


class Line:
    """One RS-485 line (one serial port) and the units on it."""

    def __init__(
        self,
        name: str,
        url: str,
        addresses: Iterable[int],
        sink: Sink,
        config: LineConfig | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.config = config or LineConfig()
        self.timing = self.config.timing or LineTiming(self.config.baudrate)
        self.stats = LineStats()
        self._sink = sink
        self._units = {a: UnitTracker(a) for a in sorted(set(addresses))}
        if not self._units or not all(1 <= a <= MAX_ADDRESS for a in self._units):
            raise ValueError(f"addresses must be a non-empty subset of 1..{MAX_ADDRESS}")
        self._schedule = PollScheduler(self._units, self.config.probe_every, self.config.work_every)
        self._work = OrderedSet()
        self._broadcasts: deque[Request] = deque()
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None

    # ------------------------------------------------------------ lifecycle (any thread)

    def start(self) -> None:
        """Open the port (errors raise here, in the caller) and start the line thread."""
        self._transport = self._open()
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
            self._broadcasts.extend([spec.request(BROADCAST)] * self.config.broadcast_repeats)

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
            self._broadcasts.extend([Display(BROADCAST, text)] * self.config.broadcast_repeats)

    def _apply_status(self, address: int) -> None:
        self._units[address].status_wanted = True
        self._work.add(address)

    def _apply_confirm(self, address: int, boot: int, seq: int) -> None:
        """The acknowledgement rides on the unit's next ring poll (see schedule.py)."""
        unit = self._units.get(address)
        if unit is not None:
            unit.confirm(boot, seq)

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
            try:
                if self._transport is None:
                    self._transport = self._open()
                self._step()
            except (serial.SerialException, OSError) as exc:
                self._port_failed(exc)
        self._shutdown()

    def _step(self) -> None:
        while not self._inbox.empty():
            self._inbox.get_nowait()()
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

    def _poll(self, unit: UnitTracker) -> None:
        request = unit.poll_request()
        self.stats.polls += 1
        reply = self._exchange(unit, request)
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
        self._schedule.polled(found)
        if unit.has_work():
            self._work.add(unit.address)

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
        if isinstance(reply, Nak):
            log.error("line %s unit %d refused %r: %s", self.name, address, request, reply.reason.name)
        if reply is not None:
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
                unit.failures = 0
                if unit.liveness is not Liveness.ONLINE:
                    unit.liveness = Liveness.ONLINE
                    self.stats.online += 1
                    self._emit(UnitOnline(self.name, unit.address))
                return reply
            # Only silence counts towards "offline": garbled bytes mean something answered,
            # and on a noisy line counting them would make healthy units flap.
            assert self._transport is not None
            unit.failures += self._transport.last_was_timeout
            if unit.liveness is Liveness.OFFLINE:
                break
            if unit.failures >= self.config.offline_after:
                if unit.liveness is Liveness.ONLINE:
                    self.stats.online -= 1
                unit.liveness = Liveness.OFFLINE
                self._emit(UnitOffline(self.name, unit.address))
                break
        unit.next_probe = time.monotonic() + self.config.offline_probe_interval
        return None

    def _emit(self, event: BusEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a consumer bug must not stop the line
            log.exception("line %s: event sink failed on %r", self.name, event)

    def _port_failed(self, exc: BaseException) -> None:
        log.error("line %s: port failed: %s", self.name, exc)
        self._emit(LineDown(self.name, str(exc)))
        if self._transport is not None:
            try:
                self._transport.port.close()
            except (serial.SerialException, OSError):
                pass
            self._transport = None
        for unit in self._units.values():
            if unit.liveness is Liveness.ONLINE:
                self.stats.online -= 1
                unit.liveness = Liveness.OFFLINE
                self._emit(UnitOffline(self.name, unit.address))
        self._stopping.wait(self.config.reopen_delay)

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
        except (serial.SerialException, OSError) as exc:
            log.warning("line %s: final acks failed: %s", self.name, exc)
        finally:
            self._transport.port.close()
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
