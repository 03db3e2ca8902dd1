"""Line timing derived from the baud rate, shared by the master, the simulator and the bench.

Every delay in the protocol is expressed in *byte times* (10 bit times at 8N1) so that the
same rules hold at 9600 Bd and at 921600 Bd; only the OS/adapter latency allowance is an
absolute time, because USB-RS485 adapters buffer for a fixed interval whatever the baud.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from device_drivers.codec import MAX_FRAME

BITS_PER_BYTE = 10
"""8N1: one start bit, eight data bits, one stop bit."""

STANDARD_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
"""Rates a line may be configured with: what UARTs, USB adapters and serial servers offer."""

LOCAL_LATENCY = 0.003
"""Latency allowance of a local port (USB-RS485 adapters buffer up to ~1 ms, plus the OS)."""
NETWORK_LATENCY = 0.015
"""Latency allowance of a port behind a network serial server (``rfc2217://``,
``socket://``): the network round trip, the box's own packing delay and the scheduling of
the threads that carry the bytes, on a loaded host too. It is paid only by exchanges that
time out (probes of offline units), never by answered ones."""
NETWORK_SCHEMES = ("rfc2217", "socket")


def is_network_url(url: str) -> bool:
    """Whether ``url`` reaches its line over the network (a serial device server)."""
    return urlsplit(url).scheme.lower() in NETWORK_SCHEMES


def default_latency(url: str) -> float:
    return NETWORK_LATENCY if is_network_url(url) else LOCAL_LATENCY


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
    latency_allowance: float = LOCAL_LATENCY
    """Seconds added to reply timeouts for OS scheduling, adapter buffering and, for a line
    behind a serial server, the network (see :func:`default_latency`)."""

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError("baudrate must be positive")
        if self.latency_allowance < 0:
            raise ValueError("latency_allowance must not be negative")

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
