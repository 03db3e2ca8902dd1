"""One virtual keypad unit: the protocol exactly as a unit's firmware implements it.

Pure state machine (requests in, replies out, no clock, no I/O), so the rules a real unit
must follow are written down once, readable next to docs/keypad-protocol.md, and the
simulated line (line.py) only adds timing and faults around it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from device_drivers.codec import BROADCAST, MAX_PAYLOAD
from device_drivers.messages import (
    PROTOCOL_MINOR,
    Ack,
    AckReply,
    CardInserted,
    CardRemoved,
    Command,
    Display,
    Done,
    FloorLamp,
    IdleReply,
    Key,
    KeyPress,
    Mode,
    Nak,
    NakReason,
    Poll,
    PollReply,
    Reply,
    Request,
    SetFloor,
    SetLeds,
    SetMode,
    StatusReply,
    StatusRequest,
    UnitEvent,
    UnitFlag,
    encode_event,
    idle_tag,
    next_seq,
    seq_after,
)

FIRMWARE = (1, 0)
QUEUE_LIMIT = 32
_POLL_HEADER = 5


@dataclass
class VirtualUnit:
    """State of one unit. Events live in RAM: a power cycle loses unacknowledged ones."""

    address: int
    boot: int = 1
    mode: Mode = Mode.IDLE
    epoch: int = 0
    keys: frozenset[Key] = frozenset()
    secret: bool = False
    flags: UnitFlag = UnitFlag.REBOOTED
    faults: int = 0
    seq: int = 0
    queue: deque[UnitEvent] = field(default_factory=deque)
    lit: frozenset[Key] = frozenset()
    recorded: bool = False
    text: str = ""
    card: bytes | None = None
    protocol: int = PROTOCOL_MINOR
    """The protocol minor version: 1 has the request key and the floor lamp; 0 is a 1.0 unit."""
    floor: FloorLamp = FloorLamp.OFF
    floor_enabled: bool = False
    """The request key works once a master has sent SET_FLOOR since power-up (so a 1.0
    master, which could not read the key, never gets one)."""

    # ------------------------------------------------------------------ the member's side

    def allowed(self) -> frozenset[Key]:
        return frozenset() if self.mode is Mode.IDLE else self.keys

    def press(self, key: Key) -> bool:
        """A member presses ``key``; False if the unit ignores it (not allowed, queue full).
        The request key (1.1) is accepted in every mode, idle included."""
        if key is Key.REQUEST:
            if self.protocol < 1 or not self.floor_enabled:
                return False
            return self._queue(lambda seq: KeyPress(seq, self.epoch, key))
        if key not in self.allowed():
            return False
        return self._queue(lambda seq: KeyPress(seq, self.epoch, key))

    def insert_card(self, card_id: bytes) -> bool:
        if self.card is not None:
            return False
        self.card = card_id
        return self._queue(lambda seq: CardInserted(seq, self.epoch, card_id))

    def remove_card(self) -> bool:
        if self.card is None:
            return False
        self.card = None
        return self._queue(lambda seq: CardRemoved(seq, self.epoch))

    def _queue(self, make: Callable[[int], UnitEvent]) -> bool:
        if len(self.queue) >= QUEUE_LIMIT:
            self.flags |= UnitFlag.OVERFLOW
            return False
        self.seq = next_seq(self.seq)
        self.queue.append(make(self.seq))
        return True

    def power_cycle(self) -> None:
        """Lose power and restart: new boot id, empty queue, idle mode, seq from 1."""
        self.boot = next_seq(self.boot)
        self.mode, self.epoch, self.keys, self.secret = Mode.IDLE, 0, frozenset(), False
        self.flags = UnitFlag.REBOOTED
        self.seq = 0
        self.queue.clear()
        self.lit, self.recorded, self.text = frozenset(), False, ""
        self.card = None
        self.floor, self.floor_enabled = FloorLamp.OFF, False

    # ------------------------------------------------------------------ the bus side

    def handle(self, request: Request) -> Reply | None:
        """Apply ``request``; return the reply message, or None (broadcast, not for us)."""
        if isinstance(request, SetMode):
            self._set_mode(request)
            return self._done(request, Command.SET_MODE)
        if isinstance(request, Display):
            self.text = request.text
            return self._done(request, Command.DISPLAY)
        if isinstance(request, SetLeds):
            self.lit = frozenset() if self.secret else request.lit
            self.recorded = request.recorded
            return self._done(request, Command.SET_LEDS)
        if isinstance(request, SetFloor):
            if request.address == BROADCAST:
                return None  # never broadcast: a unit ignores it
            if self.protocol < 1:
                return Nak(self.address, Command.SET_FLOOR, NakReason.UNKNOWN_COMMAND)
            self.floor, self.floor_enabled = request.lamp, True
            return Done(self.address, Command.SET_FLOOR)
        if request.address == BROADCAST:
            return None  # POLL, ACK and STATUS are never broadcast: nobody may answer
        if isinstance(request, Poll):
            return self._poll(request)
        if isinstance(request, Ack):
            if request.boot == self.boot:
                self._drop_through(request.ack)
                self.flags &= ~UnitFlag.REBOOTED
            return AckReply(self.address, self.boot, len(self.queue))
        if isinstance(request, StatusRequest):
            return StatusReply(
                self.address,
                FIRMWARE,
                self.boot,
                self.faults,
                self._flags(),
                self.mode,
                self.epoch,
                len(self.queue),
                self.protocol,
            )
        return None

    def _done(self, request: Request, command: Command) -> Done | None:
        return None if request.address == BROADCAST else Done(self.address, command)

    def _set_mode(self, request: SetMode) -> None:
        if request.epoch != self.epoch:
            self.lit, self.recorded = frozenset(), False  # a new ballot starts unlit
        self.mode, self.epoch = request.mode, request.epoch
        self.keys, self.secret = request.keys, request.secret
        if self.secret:
            self.lit = frozenset()

    def _flags(self) -> UnitFlag:
        return self.flags | (UnitFlag.FAULT if self.faults else UnitFlag(0))

    def _drop_through(self, ack: int) -> None:
        while self.queue and not seq_after(self.queue[0].seq, ack):
            self.queue.popleft()

    def _poll(self, request: Poll) -> PollReply | IdleReply:
        stale_boot = request.boot is not None and request.boot != self.boot
        seen = 0
        if request.boot is not None and not stale_boot:
            self._drop_through(request.ack)
            self.flags &= ~UnitFlag.REBOOTED
            seen = request.seen
        events: list[UnitEvent] = []
        room = MAX_PAYLOAD - _POLL_HEADER
        for event in self.queue:
            if not seq_after(event.seq, seen):
                continue
            size = len(encode_event(event))
            if size > room:
                break
            events.append(event)
            room -= size
        flags = self._flags()
        if not events and not flags and not stale_boot:
            return IdleReply(self.address, idle_tag(self.address, self.epoch))
        self.flags &= ~UnitFlag.OVERFLOW  # reported once; REBOOTED stays until echoed
        return PollReply(self.address, self.boot, self.epoch, flags, tuple(events))
