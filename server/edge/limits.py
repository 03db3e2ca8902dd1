"""Per-connection limits: message size, a token-bucket rate limit, what a connection may make
the server queue for it (docs/protocol.md, "Limits")."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 64 * 1024
    rate_per_second: float = 20.0
    burst: int = 40
    device_rate_per_second: float = 2000.0  # a keypad bridge speaks for a whole line of seats
    device_burst: int = 4000
    hello_timeout: float = 10.0
    idle_timeout: float = 60.0  # no message (not even a ping) for this long: the client is gone
    max_inflight: int = 256
    max_queued_messages: int = 2000  # queued for one slow reader, then 4008 (server/edge/hub.py)
    max_queued_bytes: int = 1 << 20  # the same in bytes, per connection
    max_queued_bytes_total: int = 256 << 20  # and for all connections together


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate, self.capacity, self.clock = rate, float(burst), clock
        self.tokens = float(burst)
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
