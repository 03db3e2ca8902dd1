"""One request/reply exchange on a half-duplex line: write, then read until the answer.

Kept apart from the polling policy in bus.py because this is where the byte-level timing
lives: the reply deadline grows from "first byte" to "whole longest frame" once anything
arrives, reads ask the decoder for exactly the bytes that could complete a frame (so a
blocking read returns the moment a reply is whole), and stray or garbled input is counted
and skipped rather than trusted.

Wire speed on every pyserial URL: an exchange is one write and the reads of its reply,
nothing else. Bytes left over from an earlier exchange are dropped from the port's *local*
buffer (``in_waiting`` + ``read``), never with ``reset_input_buffer()``: on ``rfc2217://``
that is a PURGE-DATA round trip to the serial server, waited for in 50 ms sleeps, which
made a line 44 times slower. Whatever is still in flight is left to the decoder's hunting
and to :func:`answers` (a reply must come from the unit asked and fit the request). The
port's settings are never touched after opening either: on ``rfc2217://`` every setter
renegotiates all of them with the server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import serial

from device_drivers.codec import BROADCAST, MAX_ADDRESS, OVERHEAD, SHORT_LEN, FrameDecoder, ShortFrame
from device_drivers.messages import (
    Ack,
    AckReply,
    Done,
    IdleReply,
    Message,
    Nak,
    Poll,
    PollReply,
    ProtocolError,
    Request,
    StatusReply,
    StatusRequest,
    decode,
    encode,
)
from device_drivers.timing import LineTiming

STALE_LIMIT = 4096
"""At most this many stale bytes are dropped before one exchange (a flood after a network
stall is drained over several exchanges rather than stalling one)."""


@dataclass
class LineStats:
    """Counters of one line; read them from any thread (values are updated in place)."""

    transactions: int = 0
    polls: int = 0
    timeouts: int = 0
    garbled: int = 0
    stray: int = 0
    events: int = 0
    cycles: int = 0
    last_cycle_time: float = 0.0
    garbage_bytes: int = 0
    stale_bytes: int = 0
    """Bytes dropped before a request because they arrived after the previous exchange ended."""
    online: int = 0
    up: bool = False
    """Whether the line works (see device_drivers/line_state.py)."""
    downs: int = 0
    """Times the line went down after working."""
    returned_in: int | None = None
    """Poll cycles from the line's last return (or first contact) until every unit had
    answered; None until then."""
    wire_time: float = 0.0
    """Seconds the traffic so far needs at the modelled wire speed (frames, turnaround, gap,
    timeouts): elapsed time divided by this is how close the line runs to its limit."""


class Transport:
    """Frames requests onto an open pyserial port and collects the matching reply."""

    def __init__(self, port: serial.SerialBase, timing: LineTiming, stats: LineStats) -> None:
        self.port = port
        self.timing = timing
        self.stats = stats
        self._decoder = FrameDecoder()
        self._last_rx = 0.0
        self._gap = timing.frame_time(timing.gap_bytes)
        self.last_was_timeout = False
        self._short_polls = {a: encode(Poll(a)) for a in range(1, MAX_ADDRESS + 1)}
        """Whether the last failed exchange heard nothing at all (rather than garbage)."""

    def transact(self, request: Request) -> Message | None:
        """Write one frame; for unicast, return its reply, or None on timeout or garbage."""
        port, timing, decoder = self.port, self.timing, self._decoder
        if isinstance(request, Poll) and request.boot is None:
            frame = self._short_polls[request.address]  # the hot path: skip re-encoding
        else:
            frame = encode(request)
        quiet_until = self._last_rx + self._gap
        while time.monotonic() < quiet_until:
            pass  # sub-millisecond: sleep() would overshoot by more than the gap itself
        decoder.reset()
        decoder.expect_short_reply(request.address if isinstance(request, Poll) else None)
        self._drop_stale()
        port.write(frame)
        stats = self.stats
        stats.transactions += 1
        if request.address == BROADCAST:
            time.sleep(timing.broadcast_time(len(frame)))
            stats.wire_time += timing.broadcast_time(len(frame))
            self._last_rx = time.monotonic()
            return None
        sent = time.monotonic()
        deadline = sent + timing.first_byte_timeout(len(frame))
        got_bytes = False
        while True:
            chunk = port.read(decoder.needed())
            now = time.monotonic()
            if chunk:
                if not got_bytes:
                    got_bytes = True
                    deadline = max(deadline, now + timing.reply_deadline(0))
                for item in decoder.feed(chunk):
                    try:
                        reply = decode(item)
                    except ProtocolError:
                        continue
                    if reply.address == request.address and answers(request, reply):
                        self._last_rx = now
                        stats.garbage_bytes = decoder.discarded
                        size = SHORT_LEN if isinstance(item, ShortFrame) else OVERHEAD + len(item.payload)
                        stats.wire_time += timing.transaction_time(len(frame), size)
                        return reply
                    self.stats.stray += 1
            if now >= deadline:
                break
        self._last_rx = time.monotonic()
        stats.garbage_bytes = decoder.discarded
        stats.wire_time += self._last_rx - sent  # waiting out a timeout is part of the protocol
        self.last_was_timeout = not got_bytes
        if got_bytes:
            stats.garbled += 1
        else:
            stats.timeouts += 1
        return None

    def _drop_stale(self) -> None:
        """Drop what is already buffered locally (late replies, noise): no I/O beyond the
        port's own buffer, whatever the URL (``socket://`` reports 1 while any is waiting)."""
        port, dropped = self.port, 0
        while dropped < STALE_LIMIT and (waiting := port.in_waiting):
            chunk = port.read(min(waiting, STALE_LIMIT - dropped))
            if not chunk:
                break
            dropped += len(chunk)
        self.stats.stale_bytes += dropped


def answers(request: Request, reply: Message) -> bool:
    """Whether ``reply`` is a possible answer to ``request`` (same address checked apart)."""
    if isinstance(reply, Nak):
        return reply.command == request.COMMAND
    if isinstance(request, Poll):
        return isinstance(reply, (PollReply, IdleReply))
    if isinstance(request, Ack):
        return isinstance(reply, AckReply)
    if isinstance(request, StatusRequest):
        return isinstance(reply, StatusReply)
    return isinstance(reply, Done) and reply.command == request.COMMAND
