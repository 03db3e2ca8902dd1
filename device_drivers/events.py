"""What a keypad line reports to its consumer (the asyncio bridge), as frozen dataclasses.

Key and card events carry ``(line, address, boot, seq)``: that tuple identifies one physical
press for ever, so the consumer can use it as the idempotency key towards the server and
pass the event back to :meth:`device_drivers.bus.Line.confirm` once the server made it
durable. Only then is the unit told to forget it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from device_drivers.messages import CardInserted, Key, KeyPress, Mode, StatusReply, UnitEvent, UnitFlag


@dataclass(frozen=True, slots=True)
class KeyEvent:
    line: str
    address: int
    boot: int
    seq: int
    epoch: int
    """Mode epoch the unit was in when the key was pressed: stale presses are recognisable."""
    key: Key

    @property
    def ident(self) -> tuple[str, int, int, int]:
        """Globally unique identity of this press: use it as the idempotency key."""
        return (self.line, self.address, self.boot, self.seq)


@dataclass(frozen=True, slots=True)
class CardEvent:
    line: str
    address: int
    boot: int
    seq: int
    epoch: int
    inserted: bool
    card_id: bytes
    """Card identifier for an insertion; empty for a removal."""

    @property
    def ident(self) -> tuple[str, int, int, int]:
        return (self.line, self.address, self.boot, self.seq)


@dataclass(frozen=True, slots=True)
class UnitOnline:
    line: str
    address: int


@dataclass(frozen=True, slots=True)
class UnitOffline:
    line: str
    address: int


@dataclass(frozen=True, slots=True)
class UnitRebooted:
    """The unit lost power: its unconfirmed events are gone and its mode was re-sent."""

    line: str
    address: int
    old_boot: int
    new_boot: int


@dataclass(frozen=True, slots=True)
class UnitStatus:
    """Answer to :meth:`device_drivers.bus.Line.request_status`."""

    line: str
    address: int
    firmware: tuple[int, int]
    boot: int
    faults: int
    rebooted: bool
    mode: Mode
    epoch: int
    queued: int
    protocol: int = 0
    """The protocol minor version the unit announced (1: request key and floor lamp)."""


@dataclass(frozen=True, slots=True)
class LineDown:
    """The whole line is unreachable (port failed, setting refused, no unit answers); the
    line retries. Its units are not reported offline one by one for this shared cause.
    Sent again only when the reason changes (see device_drivers/line_state.py)."""

    line: str
    reason: str
    """A code of :data:`device_drivers.line_state.REASONS`."""
    detail: str = ""
    """The error as the port reported it (e.g. "[Errno 111] Connection refused")."""


@dataclass(frozen=True, slots=True)
class LineUp:
    """A unit answered: the line works (first contact, or back after a LineDown). Units that
    were online before are polled at once and stay online without a UnitOnline of their own."""

    line: str


InputEvent = KeyEvent | CardEvent
BusEvent = KeyEvent | CardEvent | UnitOnline | UnitOffline | UnitRebooted | UnitStatus | LineDown | LineUp
Sink = Callable[[BusEvent], None]


def asyncio_sink(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[BusEvent]) -> Sink:
    """A sink that hands events from a line thread to an asyncio queue.

    Line threads must never block on the consumer, so this uses call_soon_threadsafe with
    an unbounded queue; back-pressure is the unit's own queue (it holds unconfirmed events).
    """

    def sink(event: BusEvent) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    return sink


def input_event(line: str, address: int, boot: int, event: UnitEvent) -> InputEvent:
    """The consumer-facing form of an event read from a unit."""
    if isinstance(event, KeyPress):
        return KeyEvent(line, address, boot, event.seq, event.epoch, event.key)
    inserted = isinstance(event, CardInserted)
    card = event.card_id if isinstance(event, CardInserted) else b""
    return CardEvent(line, address, boot, event.seq, event.epoch, inserted, card)


def status_event(line: str, r: StatusReply) -> UnitStatus:
    return UnitStatus(
        line,
        r.address,
        r.firmware,
        r.boot,
        r.faults,
        bool(r.flags & UnitFlag.REBOOTED),
        r.mode,
        r.epoch,
        r.queued,
        r.protocol,
    )
