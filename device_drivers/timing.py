"""Line timing derived from the baud rate, shared by the master, the simulator and the bench.

Every delay in the protocol is expressed in *byte times* (10 bit times at 8N1) so that the
same rules hold at 9600 Bd and at 921600 Bd; only the OS/adapter latency allowance is an
absolute time, because USB-RS485 adapters buffer for a fixed interval whatever the baud.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_drivers.codec import MAX_FRAME

BITS_PER_BYTE = 10
"""8N1: one start bit, eight data bits, one stop bit."""


@dataclass(frozen=True, slots=True)
class LineTiming:
    """Timing rules of one line (docs/keypad-protocol.md, "Timing")."""

    baudrate: int = 115200
    turnaround_bytes: float = 2.0
    """Nominal delay from the end of a request to the first reply byte at a unit."""
    max_turnaround_bytes: float = 20.0
    """Latest a conforming unit may start its reply."""
    gap_bytes: float = 1.0
    """Idle time the master leaves after a reply before it drives the line again."""
    broadcast_settle_bytes: float = 3.0
    """Idle time after a broadcast so every unit has processed it before the next frame."""
    latency_allowance: float = 0.003
    """Seconds added to reply timeouts for OS scheduling and USB adapter buffering."""

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError("baudrate must be positive")

    @property
    def byte_time(self) -> float:
        return BITS_PER_BYTE / self.baudrate

    def frame_time(self, nbytes: float) -> float:
        """Seconds ``nbytes`` take on the wire."""
        return nbytes * self.byte_time

    def first_byte_timeout(self, request_len: int) -> float:
        """How long the master waits for the first reply byte after writing a request.

        Counted from the write call, so it includes the request's own transmission.
        """
        return self.frame_time(request_len + self.max_turnaround_bytes) + self.latency_allowance

    def reply_deadline(self, request_len: int) -> float:
        """Upper bound for a whole reply (the longest frame) to arrive after the write."""
        return self.first_byte_timeout(request_len) + self.frame_time(MAX_FRAME)

    def transaction_time(self, request_len: int, reply_len: int) -> float:
        """Wire-time limit of one request/reply exchange: both frames, turnaround, gap."""
        return self.frame_time(request_len + reply_len + self.turnaround_bytes + self.gap_bytes)

    def broadcast_time(self, request_len: int) -> float:
        return self.frame_time(request_len + self.broadcast_settle_bytes)
