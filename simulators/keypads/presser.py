"""Simulated members: presses at random, or from a script of timed presses."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable

from device_drivers.messages import Key
from simulators.keypads.line import SimulatedLine


class RandomPresser:
    """Presses a random allowed key on a random unit, ``rate`` times per second on average.

    Units whose mode allows no key (idle) are skipped, as a member's press there would be
    ignored by the unit anyway. ``presses`` counts the presses the units accepted.
    """

    def __init__(self, line: SimulatedLine, rate: float, *, seed: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.line = line
        self.rate = rate
        self.presses = 0
        self._rng = random.Random(seed)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="keypad-presser", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        addresses = self.line.addresses
        while not self._stopping.wait(self._rng.expovariate(self.rate)):
            address = self._rng.choice(addresses)
            keys = sorted(self.line.allowed_keys(address))
            if keys and self.line.press(address, self._rng.choice(keys)):
                self.presses += 1


def play_script(
    line: SimulatedLine, script: Iterable[tuple[float, int, Key]], stop: threading.Event | None = None
) -> list[tuple[int, Key, bool]]:
    """Press ``(at_seconds, address, key)`` entries at their times (blocking).

    Returns ``(address, key, accepted)`` for every entry, so a caller knows which presses
    the units took (a key outside the current mode is ignored, as on real hardware).
    """
    start = time.monotonic()
    done = []
    for at, address, key in sorted(script, key=lambda entry: entry[0]):
        delay = start + at - time.monotonic()
        if delay > 0 and stop is not None and stop.wait(delay):
            break
        if delay > 0 and stop is None:
            time.sleep(delay)
        done.append((address, key, line.press(address, key)))
    return done
