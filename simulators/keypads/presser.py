"""Simulated members: presses at random, or from a script of timed presses.

A script is text, one press per line: ``time unit key`` - seconds after the script starts,
the unit's address, and ``check_in``, ``for``, ``against``, ``abstain``, ``request`` (to
speak) or a numbered key ``1``..``12``; ``#`` starts a comment. ``hemicycle simulate keypads --script FILE`` (or
``--script -`` for standard input, read as it arrives) replays a whole keypad sitting.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator

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


KEY_NAMES: dict[str, Key] = {
    "check_in": Key.CHECK_IN,
    "for": Key.FOR,
    "against": Key.AGAINST,
    "abstain": Key.ABSTAIN,
    "request": Key.REQUEST,
    **{str(n): Key.numbered(n) for n in range(1, 13)},
}
"""Key names of a press script: the named keys (``request``: request to speak, protocol
1.1) and the numbered keys 1..12."""

Press = tuple[float, int, Key]
"""(seconds after the script starts, unit address, key)."""


def parse_press(text: str, addresses: Collection[int]) -> Press | None:
    """One script line "time unit key" (``1.5 17 for``); None for a blank line or a comment.

    Raises ValueError with a message that says what is wrong with the line."""
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    parts = text.split()
    if len(parts) != 3:
        raise ValueError(f'expected "time unit key", got {text!r}')
    at_text, unit_text, key_text = parts
    try:
        at = float(at_text)
    except ValueError:
        raise ValueError(f"time {at_text!r} is not a number of seconds") from None
    if not math.isfinite(at) or at < 0:
        raise ValueError(f"time {at_text!r} must be zero or more seconds")
    if not unit_text.isdigit() or int(unit_text) not in addresses:
        raise ValueError(f"no unit {unit_text!r} on this line (units {min(addresses)}..{max(addresses)})")
    key = KEY_NAMES.get(key_text.lower())
    if key is None:
        raise ValueError(f"unknown key {key_text!r} (keys: {', '.join(KEY_NAMES)})")
    return at, int(unit_text), key


def read_script(lines: Iterable[str], addresses: Collection[int]) -> tuple[list[Press], list[str]]:
    """A whole script (a file): its presses in time order, and every bad line with its number."""
    presses: list[Press] = []
    errors: list[str] = []
    for number, text in enumerate(lines, 1):
        try:
            press = parse_press(text, addresses)
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        if press is not None:
            presses.append(press)
    presses.sort(key=lambda p: p[0])
    return presses, errors


def stream_script(lines: Iterable[str], addresses: Collection[int], on_error: Callable[[str], None]) -> Iterator[Press]:
    """Presses from lines as they arrive (standard input); a bad line is reported and skipped."""
    for number, text in enumerate(lines, 1):
        try:
            press = parse_press(text, addresses)
        except ValueError as exc:
            on_error(f"line {number}: {exc}")
            continue
        if press is not None:
            yield press


class ScriptPresser:
    """Members pressing what a script says, when it says: replays a whole keypad sitting.

    Times count from :meth:`start`; a press whose time has passed (a late line on standard
    input) is made at once. ``taken``/``ignored`` count the presses the units accepted and
    those they ignored (a key outside the unit's current mode, as on real hardware).
    """

    def __init__(self, line: SimulatedLine, presses: Iterable[Press]) -> None:
        self.line = line
        self.presses = presses
        self.taken = 0
        self.ignored = 0
        self.done = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="keypad-script", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(1)  # a thread blocked reading standard input is left behind (daemon)

    def _run(self) -> None:
        start = time.monotonic()
        try:
            for at, address, key in self.presses:
                if self._stopping.wait(max(0.0, start + at - time.monotonic())):
                    return
                if self.line.press(address, key):
                    self.taken += 1
                else:
                    self.ignored += 1
        finally:
            self.done.set()
