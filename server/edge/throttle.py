"""Password guessing, throttled without locking anyone out, and checked off the event loop.

Why: scrypt costs ~50 ms of CPU by design. Run on the event loop, 15 guesses a second made
every seat's ping wait 49 ms; and five wrong guesses from anywhere used to lock the real clerk
out for a minute. So:

* :class:`PasswordChecks` runs each check on a thread of its own (hashlib's scrypt releases
  the GIL), one at a time, with a short waiting line: past it a login is answered ``busy``
  at once, so a flood of guesses costs one core's share, never the event loop.
* :class:`LoginThrottle` slows guessing with **growing delays**, not a lockout. Failures count
  per account and address (an attacker's address waits 1, 2, 4 ... up to 60 s between
  guesses after three free ones) and per account from everywhere (after ten, every
  attempt waits 1, 2, 4 ... up to 5 s): the clerk, at another desk, is slowed by at most a
  few seconds however long an attack goes on; the attacker gets a guess a minute. Each
  address also has a budget of attempts (any name, any code), so made-up usernames cannot
  keep the hashing thread busy. A success clears the account's counts.

The address is the TCP peer's; ``X-Forwarded-For`` counts only from configured proxies
(server/edge/serving.py), or one client could be any number of addresses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .limits import TokenBucket


@dataclass
class _Count:
    failures: int = 0
    next_allowed: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Delays:
    free: int  # failures before any delay
    first: float  # seconds after the first failure past the free ones
    longest: float

    def after(self, failures: int) -> float:
        over = failures - self.free
        return 0.0 if over <= 0 else min(self.longest, self.first * 2 ** (over - 1))


@dataclass
class LoginThrottle:
    """Growing delays per (account, address) and per account; a rate per address."""

    per_address: Delays = Delays(free=3, first=1.0, longest=60.0)
    per_account: Delays = Delays(free=10, first=1.0, longest=5.0)
    attempts_per_second: float = 1.0  # any attempt from one address (burst below)
    attempts_burst: int = 10
    forget_after: float = 900.0  # a count with no failure for 15 minutes starts again
    clock: Callable[[], float] = time.monotonic
    _counts: dict[tuple[str, ...], _Count] = field(default_factory=dict)
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def wait(self, account: str, address: str) -> float:
        """Seconds before this attempt may be checked (0: now). Counts the attempt against the
        address's budget when it may go ahead."""
        now = self.clock()
        self._forget(now)
        waits = [c.next_allowed - now for c in self._pair(account, address) if c is not None]
        wait = max([0.0, *waits])
        if wait > 0:
            return wait
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = TokenBucket(self.attempts_per_second, self.attempts_burst, self.clock)
        return 0.0 if bucket.take() else 1.0 / self.attempts_per_second

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        for key, delays in (((account, address), self.per_address), ((account,), self.per_account)):
            count = self._counts.setdefault(key, _Count())
            count.failures += 1
            count.last = now
            count.next_allowed = now + delays.after(count.failures)

    def succeeded(self, account: str, address: str) -> None:
        for key in [k for k in self._counts if k[0] == account]:
            del self._counts[key]

    def _pair(self, account: str, address: str) -> tuple[_Count | None, _Count | None]:
        return self._counts.get((account, address)), self._counts.get((account,))

    def _forget(self, now: float) -> None:
        if len(self._counts) > 10_000 or len(self._buckets) > 10_000:  # bounded whatever comes
            self._counts = {k: c for k, c in self._counts.items() if now - c.last < self.forget_after}
            self._buckets.clear()
        for key in [k for k, c in self._counts.items() if now - c.last >= self.forget_after]:
            del self._counts[key]


class Busy(Exception):
    """Too many password checks waiting: answer at once rather than queue for ever."""


class PasswordChecks:
    """Password hashing on its own thread, one check at a time, a few waiting at most."""

    def __init__(self, waiting: int = 4) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="password-check")
        self._limit = waiting + 1
        self._in_flight = 0

    async def run(self, fn: Callable[..., bool], *args: Any) -> bool:
        if self._in_flight >= self._limit:
            raise Busy()
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
