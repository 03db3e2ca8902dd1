"""Typed keypad messages and their payload layouts (sans-I/O, see docs/keypad-protocol.md).

:mod:`device_drivers.codec` only knows frames; this module gives each command and reply a
frozen dataclass so that the master and the simulated units exchange values, not byte
offsets. :func:`encode` and :func:`decode` are the only ways in and out of bytes.

All multi-byte integers are little-endian. Event sequence numbers are 16-bit, start at 1
after every power-up and skip 0 when they wrap, so 0 can mean "none" in POLL and ACK.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import ClassVar, Final

from device_drivers.codec import MAX_PAYLOAD, Frame, ShortFrame, encode_frame, encode_short

REPLY_BIT: Final = 0x80
MAX_TEXT_BYTES: Final = 64
MAX_CARD_ID: Final = 16


class ProtocolError(ValueError):
    """A CRC-valid frame whose content breaks the protocol (unknown command, bad length)."""


class Command(IntEnum):
    SET_MODE = 0x01
    POLL = 0x02
    ACK = 0x03
    SET_LEDS = 0x04
    DISPLAY = 0x05
    STATUS = 0x06
    SET_FLOOR = 0x07  # protocol 1.1
    NAK = 0xFF


class Mode(IntEnum):
    IDLE = 0
    CHECK_IN = 1
    VOTE = 2


class Key(IntEnum):
    """Key codes; a key's bit in a 16-bit mask is ``1 << code``."""

    CHECK_IN = 0
    FOR = 1
    AGAINST = 2
    ABSTAIN = 3
    NUM_1 = 4
    NUM_2 = 5
    NUM_3 = 6
    NUM_4 = 7
    NUM_5 = 8
    NUM_6 = 9
    NUM_7 = 10
    NUM_8 = 11
    NUM_9 = 12
    NUM_10 = 13
    NUM_11 = 14
    NUM_12 = 15
    REQUEST = 16
    """Request to speak (protocol 1.1): outside every mode's 16-bit mask, accepted in any mode."""

    @classmethod
    def numbered(cls, n: int) -> Key:
        """Numbered key ``n`` (1..12), used for selections, scores and satisfaction grades."""
        if not 1 <= n <= 12:
            raise ValueError(f"numbered key {n} outside 1..12")
        return cls(cls.NUM_1 + n - 1)


class UnitFlag(IntFlag):
    REBOOTED = 0x01
    """Set at power-up; cleared when a POLL or ACK echoes the unit's new boot id."""
    OVERFLOW = 0x02
    """The event queue was full and a press was refused (the member saw an error)."""
    FAULT = 0x04
    """A hardware fault is latched; read STATUS for the fault bits."""


class NakReason(IntEnum):
    UNKNOWN_COMMAND = 1
    BAD_LENGTH = 2
    BAD_VALUE = 3


class FloorLamp(IntEnum):
    """The floor lamp of a protocol 1.1 unit (SET_FLOOR): the member's place on the floor."""

    OFF = 0
    QUEUED = 1  # the request key's lamp, steady: waiting to speak
    SPEAKING = 2  # the microphone ring: has the floor


PROTOCOL_MINOR = 1
"""The protocol minor version this master speaks and the simulated units announce in STATUS."""
MASK_KEYS = tuple(k for k in Key if k < 16)
"""Keys a mode's 16-bit mask can hold (all but the request key)."""


def keys_to_mask(keys: Iterable[Key]) -> int:
    mask = 0
    for key in keys:
        if Key(key) not in MASK_KEYS:
            raise ValueError(f"key {Key(key).name} is not in a mode's key mask")
        mask |= 1 << Key(key)
    return mask


def mask_to_keys(mask: int) -> frozenset[Key]:
    return frozenset(key for key in MASK_KEYS if mask & (1 << key))


def idle_tag(address: int, epoch: int) -> int:
    """Check byte of a short idle reply: it also proves which mode epoch the unit holds."""
    return (~address ^ epoch) & 0xFF


def seq_after(a: int, b: int) -> bool:
    """True if sequence number ``a`` comes after ``b`` (16-bit serial arithmetic; 0 = none)."""
    if a == 0:
        return False
    return b == 0 or 0 < ((a - b) & 0xFFFF) < 0x8000


def next_seq(seq: int) -> int:
    return 1 if seq >= 0xFFFF else seq + 1


# ---------------------------------------------------------------- events inside POLL replies


@dataclass(frozen=True, slots=True)
class KeyPress:
    seq: int
    epoch: int
    key: Key
    KIND: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class CardInserted:
    seq: int
    epoch: int
    card_id: bytes
    KIND: ClassVar[int] = 2


@dataclass(frozen=True, slots=True)
class CardRemoved:
    seq: int
    epoch: int
    KIND: ClassVar[int] = 3


UnitEvent = KeyPress | CardInserted | CardRemoved
_EVENT_HEAD: Final = struct.Struct("<HBH")
_POLL_HEAD: Final = struct.Struct("<HHB")
LARGEST_EVENT: Final = _EVENT_HEAD.size + 1 + MAX_CARD_ID
"""A card insertion with the longest card id."""


def encode_event(event: UnitEvent) -> bytes:
    head = _EVENT_HEAD.pack(event.seq, event.KIND, event.epoch)
    if isinstance(event, KeyPress):
        return head + bytes((event.key,))
    if isinstance(event, CardInserted):
        if len(event.card_id) > MAX_CARD_ID:
            raise ValueError(f"card id longer than {MAX_CARD_ID} bytes")
        return head + bytes((len(event.card_id),)) + event.card_id
    return head


def _decode_events(data: bytes) -> tuple[UnitEvent, ...]:
    events: list[UnitEvent] = []
    pos = 0
    try:
        while pos < len(data):
            seq, kind, epoch = _EVENT_HEAD.unpack_from(data, pos)
            pos += _EVENT_HEAD.size
            if kind == KeyPress.KIND:
                events.append(KeyPress(seq, epoch, Key(data[pos])))
                pos += 1
            elif kind == CardInserted.KIND:
                n = data[pos]
                if n > MAX_CARD_ID or pos + 1 + n > len(data):
                    raise ProtocolError("card id overruns the payload")
                events.append(CardInserted(seq, epoch, bytes(data[pos + 1 : pos + 1 + n])))
                pos += 1 + n
            elif kind == CardRemoved.KIND:
                events.append(CardRemoved(seq, epoch))
            else:
                raise ProtocolError(f"unknown event kind {kind}")
    except (struct.error, IndexError, ValueError) as exc:
        raise ProtocolError(f"malformed event list: {exc}") from exc
    return tuple(events)


# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class SetMode:
    """Put a unit (or, with address 0, every unit) into a mode; idempotent per epoch."""

    address: int
    mode: Mode
    epoch: int
    keys: frozenset[Key] = frozenset()
    secret: bool = False
    COMMAND: ClassVar[int] = Command.SET_MODE

    def payload(self) -> bytes:
        return struct.pack("<BBHH", self.mode, int(self.secret), self.epoch, keys_to_mask(self.keys))


@dataclass(frozen=True, slots=True)
class Poll:
    """Ask for queued events. Short form (``boot`` None) reads from the oldest queued event;
    long form acknowledges through ``ack`` and reads events after ``seen``, both only if
    ``boot`` is the unit's current boot id."""

    address: int
    boot: int | None = None
    ack: int = 0
    seen: int = 0
    COMMAND: ClassVar[int] = Command.POLL

    def payload(self) -> bytes:
        return b"" if self.boot is None else struct.pack("<HHH", self.boot, self.ack, self.seen)


@dataclass(frozen=True, slots=True)
class Ack:
    """Acknowledge events through ``ack`` without reading (used when a line shuts down)."""

    address: int
    boot: int
    ack: int
    COMMAND: ClassVar[int] = Command.ACK

    def payload(self) -> bytes:
        return struct.pack("<HH", self.boot, self.ack)


@dataclass(frozen=True, slots=True)
class SetLeds:
    """Light key LEDs and/or the "recorded" lamp. In secret mode units show only "recorded"."""

    address: int
    lit: frozenset[Key] = frozenset()
    recorded: bool = False
    COMMAND: ClassVar[int] = Command.SET_LEDS

    def payload(self) -> bytes:
        return struct.pack("<HB", keys_to_mask(self.lit), int(self.recorded))


@dataclass(frozen=True, slots=True)
class Display:
    address: int
    text: str
    COMMAND: ClassVar[int] = Command.DISPLAY

    def payload(self) -> bytes:
        data = self.text.encode("utf-8")
        if len(data) > MAX_TEXT_BYTES:
            raise ValueError(f"display text is {len(data)} bytes, limit {MAX_TEXT_BYTES}")
        return data


@dataclass(frozen=True, slots=True)
class SetFloor:
    """Light the floor lamp (protocol 1.1). Not changed by SET_MODE; off after a power cycle."""

    address: int
    lamp: FloorLamp = FloorLamp.OFF
    COMMAND: ClassVar[int] = Command.SET_FLOOR

    def payload(self) -> bytes:
        return bytes((self.lamp,))


@dataclass(frozen=True, slots=True)
class StatusRequest:
    address: int
    COMMAND: ClassVar[int] = Command.STATUS

    def payload(self) -> bytes:
        return b""


# ------------------------------------------------------------------------------ replies


@dataclass(frozen=True, slots=True)
class PollReply:
    address: int
    boot: int
    epoch: int
    flags: UnitFlag
    events: tuple[UnitEvent, ...] = ()
    COMMAND: ClassVar[int] = Command.POLL | REPLY_BIT

    def payload(self) -> bytes:
        return _POLL_HEAD.pack(self.boot, self.epoch, self.flags) + b"".join(encode_event(e) for e in self.events)

    def may_hold_more(self) -> bool:
        """True if the unit may have events this reply had no room for (a unit sends as
        many whole events as fit), so it is worth polling again before its next turn."""
        used = _POLL_HEAD.size + sum(len(encode_event(e)) for e in self.events)
        return used + LARGEST_EVENT > MAX_PAYLOAD


@dataclass(frozen=True, slots=True)
class IdleReply:
    """The short answer to a poll: nothing after ``seen``, no flags, mode epoch per tag."""

    address: int
    tag: int


@dataclass(frozen=True, slots=True)
class AckReply:
    address: int
    boot: int
    queued: int
    COMMAND: ClassVar[int] = Command.ACK | REPLY_BIT

    def payload(self) -> bytes:
        return struct.pack("<HB", self.boot, self.queued)


@dataclass(frozen=True, slots=True)
class Done:
    """Empty acknowledgement of SET_MODE, SET_LEDS or DISPLAY sent to one unit."""

    address: int
    command: Command

    def payload(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class StatusReply:
    address: int
    firmware: tuple[int, int]
    boot: int
    faults: int
    flags: UnitFlag
    mode: Mode
    epoch: int
    queued: int
    protocol: int = 0
    """The protocol minor version the unit speaks (1.1 units append it; 1.0 units send 10 bytes)."""
    COMMAND: ClassVar[int] = Command.STATUS | REPLY_BIT
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BBHBBBHB")

    def payload(self) -> bytes:
        head = self._LAYOUT.pack(*self.firmware, self.boot, self.faults, self.flags, self.mode, self.epoch, self.queued)
        return head + bytes((self.protocol,)) if self.protocol else head


@dataclass(frozen=True, slots=True)
class Nak:
    address: int
    command: int
    reason: NakReason
    COMMAND: ClassVar[int] = Command.NAK

    def payload(self) -> bytes:
        return bytes((self.command, self.reason))


Request = SetMode | Poll | Ack | SetLeds | Display | SetFloor | StatusRequest
Reply = PollReply | IdleReply | AckReply | Done | StatusReply | Nak
Message = Request | Reply
_DONE_COMMANDS: Final = frozenset({Command.SET_MODE, Command.SET_LEDS, Command.DISPLAY, Command.SET_FLOOR})


def encode(message: Message) -> bytes:
    """Bytes on the wire for one message."""
    if isinstance(message, IdleReply):
        return encode_short(message.address, message.tag)
    if isinstance(message, Done):
        return encode_frame(message.address, message.command | REPLY_BIT)
    return encode_frame(message.address, message.COMMAND, message.payload())


def _expect(payload: bytes, sizes: tuple[int, ...], what: str) -> None:
    if len(payload) not in sizes:
        raise ProtocolError(f"{what} payload has {len(payload)} bytes, expected {sizes}")


def decode(item: Frame | ShortFrame) -> Message:
    """The message a decoded frame carries; ProtocolError if it makes no sense."""
    if isinstance(item, ShortFrame):
        return IdleReply(item.address, item.tag)
    a, cmd, p = item.address, item.command, item.payload
    try:
        if cmd == Command.SET_MODE:
            _expect(p, (6,), "SET_MODE")
            mode, flags, epoch, mask = struct.unpack("<BBHH", p)
            return SetMode(a, Mode(mode), epoch, mask_to_keys(mask), bool(flags & 1))
        if cmd == Command.POLL:
            _expect(p, (0, 6), "POLL")
            return Poll(a) if not p else Poll(a, *struct.unpack("<HHH", p))
        if cmd == Command.ACK:
            _expect(p, (4,), "ACK")
            return Ack(a, *struct.unpack("<HH", p))
        if cmd == Command.SET_LEDS:
            _expect(p, (3,), "SET_LEDS")
            mask, flags = struct.unpack("<HB", p)
            return SetLeds(a, mask_to_keys(mask), bool(flags & 1))
        if cmd == Command.DISPLAY:
            if len(p) > MAX_TEXT_BYTES:
                raise ProtocolError("display text too long")
            return Display(a, p.decode("utf-8"))
        if cmd == Command.STATUS:
            _expect(p, (0,), "STATUS")
            return StatusRequest(a)
        if cmd == Command.SET_FLOOR:
            _expect(p, (1,), "SET_FLOOR")
            return SetFloor(a, FloorLamp(p[0]))
        if cmd == Command.POLL | REPLY_BIT:
            if len(p) < 5:
                raise ProtocolError("POLL reply shorter than its header")
            boot, epoch, flags = _POLL_HEAD.unpack_from(p)
            return PollReply(a, boot, epoch, UnitFlag(flags), _decode_events(p[5:]))
        if cmd == Command.ACK | REPLY_BIT:
            _expect(p, (3,), "ACK reply")
            return AckReply(a, *struct.unpack("<HB", p))
        if cmd & ~REPLY_BIT in _DONE_COMMANDS and cmd & REPLY_BIT:
            _expect(p, (0,), "done reply")
            return Done(a, Command(cmd & ~REPLY_BIT))
        if cmd == Command.STATUS | REPLY_BIT:
            size = StatusReply._LAYOUT.size
            _expect(p, (size, size + 1), "STATUS reply")
            fw_major, fw_minor, boot, faults, flags, mode, epoch, queued = StatusReply._LAYOUT.unpack(p[:size])
            protocol = p[size] if len(p) > size else 0
            return StatusReply(
                a, (fw_major, fw_minor), boot, faults, UnitFlag(flags), Mode(mode), epoch, queued, protocol
            )
        if cmd == Command.NAK:
            _expect(p, (2,), "NAK")
            return Nak(a, p[0], NakReason(p[1]))
    except (UnicodeDecodeError, ValueError, struct.error) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(str(exc)) from exc
    raise ProtocolError(f"unknown command 0x{cmd:02X}")


def is_request(message: Message) -> bool:
    return isinstance(message, (SetMode, Poll, Ack, SetLeds, Display, SetFloor, StatusRequest))
