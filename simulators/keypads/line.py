"""A simulated RS-485 line: virtual units, the wire's timing, and injectable faults.

The line is transport-agnostic: :meth:`SimulatedLine.receive` takes the bytes the master
wrote and the time it wrote them, and returns the replies with the time each one has
completely arrived at the master, computed at 10 bits per byte at the configured baud
(request on the wire, unit turnaround, reply on the wire). The pty server and the pyserial
URL handler only deliver those bytes at those times, so both see identical behaviour.

Faults act on bytes, through the real codec, so the master's hunting and retry logic is
exercised rather than bypassed: a garbled request is what the units decode (usually
nothing), a lost reply was still *processed* by the unit (its state changed), a silent unit
neither hears nor answers (its member can still press keys, as with a loose cable).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from device_drivers.codec import BROADCAST, MAX_ADDRESS, Frame, FrameDecoder
from device_drivers.messages import (
    REPLY_BIT,
    FloorLamp,
    Key,
    Mode,
    Nak,
    NakReason,
    ProtocolError,
    Reply,
    decode,
    encode,
    is_request,
)
from device_drivers.timing import LineTiming
from simulators.keypads.unit import VirtualUnit

_HEADER = 4
"""Leading bytes of a full reply delivered on their own (marker, address, command, length)."""


@dataclass
class Faults:
    """Fault probabilities; change the attributes at any time (they are read per frame)."""

    garble: float = 0.0
    """Chance that a frame (a request as heard by the units, or a reply) is corrupted."""
    lose_reply: float = 0.0
    """Chance that a unit's reply never reaches the master (after the unit acted on it)."""


@dataclass
class SimStats:
    requests: int = 0
    replies: int = 0
    garbled_requests: int = 0
    garbled_replies: int = 0
    lost_replies: int = 0
    ack_latencies: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    """Seconds from each press to the moment its unit dropped it, acknowledged by the master:
    what the member waits for the "recorded" lamp (plus the lamp's own exchange)."""


@dataclass(frozen=True)
class UnitState:
    """What an observer of a unit would see (snapshot for tests and the CLI)."""

    address: int
    boot: int
    mode: Mode
    epoch: int
    keys: frozenset[Key]
    secret: bool
    lit: frozenset[Key]
    recorded: bool
    text: str
    queued: int
    card: bytes | None
    floor: FloorLamp = FloorLamp.OFF
    """The floor lamp (protocol 1.1): queued to speak, speaking, or off."""


@dataclass
class _UnitLink:
    unit: VirtualUnit
    silent: bool = False
    latency: float = 0.0


class SimulatedLine:
    """All units on one line. Thread-safe: the bus side and test code may call concurrently."""

    def __init__(
        self,
        addresses: Iterable[int],
        *,
        baudrate: int = 115200,
        seed: int | None = None,
        faults: Faults | None = None,
        timing: LineTiming | None = None,
    ) -> None:
        self.timing = timing or LineTiming(baudrate)
        self.faults = faults or Faults()
        self.stats = SimStats()
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._decoder = FrameDecoder()
        self._wire_free = 0.0
        self._pressed: dict[int, dict[tuple[int, int], float]] = {}
        """address -> {(boot, seq): time pressed} of presses not acknowledged yet."""
        self._links = {
            a: _UnitLink(VirtualUnit(a, boot=self._rng.randrange(1, 0xFFFF))) for a in sorted(set(addresses))
        }
        if not self._links or not all(1 <= a <= MAX_ADDRESS for a in self._links):
            raise ValueError(f"addresses must be a non-empty subset of 1..{MAX_ADDRESS}")

    @property
    def addresses(self) -> tuple[int, ...]:
        return tuple(self._links)

    # ------------------------------------------------------------------ wire side

    def receive(self, data: bytes, now: float) -> list[tuple[float, bytes]]:
        """Bytes written by the master at ``now`` -> [(arrival time, reply bytes)]."""
        with self._lock:
            bt = self.timing.byte_time
            end = max(now, self._wire_free) + len(data) * bt
            self._wire_free = end
            if self._chance(self.faults.garble):
                data = self._garble(data)
                self.stats.garbled_requests += 1
            out: list[tuple[float, bytes]] = []
            for item in self._decoder.feed(data):
                if not isinstance(item, Frame) or item.command & REPLY_BIT:
                    continue  # units act on master frames only
                self.stats.requests += 1
                reply = self._dispatch(item)
                if item.address in self._pressed:
                    self._note_acks(item.address, end)
                if reply is None:
                    continue
                link = self._links[reply.address]
                raw = encode(reply)
                start = end + self.timing.frame_time(self.timing.turnaround_bytes) + link.latency
                done = start + len(raw) * bt
                if link.latency == 0:
                    self._wire_free = max(self._wire_free, done)
                if self._chance(self.faults.lose_reply):
                    self.stats.lost_replies += 1
                    continue
                if self._chance(self.faults.garble):
                    raw = self._garble(raw)
                    self.stats.garbled_replies += 1
                self.stats.replies += 1
                if len(raw) > _HEADER:
                    # Bytes trickle in on a real wire: the header arrives long before the end
                    # of a long reply, and the master's first-byte timeout relies on that.
                    out.append((start + _HEADER * bt, raw[:_HEADER]))
                    raw = raw[_HEADER:]
                out.append((done, raw))
            return out

    def _dispatch(self, frame: Frame) -> Reply | None:
        try:
            request = decode(frame)
        except ProtocolError:
            link = self._links.get(frame.address)
            if link is None or link.silent:
                return None
            return Nak(frame.address, frame.command, NakReason.BAD_LENGTH)
        if not is_request(request):
            return None
        if frame.address == BROADCAST:
            for link in self._links.values():
                if not link.silent:
                    link.unit.handle(request)  # type: ignore[arg-type]
            return None
        link = self._links.get(frame.address)
        if link is None or link.silent:
            return None
        return link.unit.handle(request)  # type: ignore[arg-type]

    def _note_acks(self, address: int, now: float) -> None:
        """Record how long the presses this request made the unit drop had waited."""
        unit = self._links[address].unit
        pending = self._pressed[address]
        queued = {(unit.boot, event.seq) for event in unit.queue}
        for ident in [i for i in pending if i not in queued]:
            pressed = pending.pop(ident)
            if ident[0] == unit.boot:  # not lost to a power cycle
                self.stats.ack_latencies.append(now - pressed)
        if not pending:
            del self._pressed[address]

    def _chance(self, p: float) -> bool:
        return p > 0 and self._rng.random() < p

    def _garble(self, data: bytes) -> bytes:
        """Line noise: flipped bits, sometimes a burst of noise bytes in front."""
        out = bytearray(data)
        for _ in range(self._rng.randint(1, 2)):
            out[self._rng.randrange(len(out))] ^= 1 << self._rng.randrange(8)
        if self._rng.random() < 0.3:
            noise = bytes(self._rng.randrange(256) for _ in range(self._rng.randint(1, 4)))
            out[0:0] = noise
        return bytes(out)

    # ------------------------------------------------------------------ member / test side

    def press(self, address: int, key: Key) -> bool:
        with self._lock:
            unit = self._links[address].unit
            if not unit.press(Key(key)):
                return False
            self._pressed.setdefault(address, {})[(unit.boot, unit.seq)] = time.monotonic()
            return True

    def insert_card(self, address: int, card_id: bytes) -> bool:
        with self._lock:
            return self._links[address].unit.insert_card(card_id)

    def remove_card(self, address: int) -> bool:
        with self._lock:
            return self._links[address].unit.remove_card()

    def power_cycle(self, address: int) -> None:
        with self._lock:
            self._links[address].unit.power_cycle()

    def set_silent(self, address: int, silent: bool = True) -> None:
        with self._lock:
            self._links[address].silent = silent

    def set_protocol(self, address: int, minor: int) -> None:
        """Make a unit speak protocol 1.``minor`` (0: no request key, no floor lamp)."""
        with self._lock:
            self._links[address].unit.protocol = minor

    def set_latency(self, address: int, seconds: float) -> None:
        """Slow unit: ``seconds`` added to its turnaround (beyond the timeout = late reply)."""
        with self._lock:
            self._links[address].latency = seconds

    def state(self, address: int) -> UnitState:
        with self._lock:
            u = self._links[address].unit
            return UnitState(
                u.address,
                u.boot,
                u.mode,
                u.epoch,
                u.keys,
                u.secret,
                u.lit,
                u.recorded,
                u.text,
                len(u.queue),
                u.card,
                u.floor,
            )

    def allowed_keys(self, address: int) -> frozenset[Key]:
        with self._lock:
            return self._links[address].unit.allowed()
