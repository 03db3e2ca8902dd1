"""When the garbage collector may run: not in the middle of a burst of votes.

With thousands of connections the heap is large, and a full collection stalls the loop
for hundreds of milliseconds. Even the young generation costs: a burst keeps ~20 new
container objects per vote alive until its commit (the command, its events, the log
entry, the reply waiting for the commit), and a single young collection of 50,000 such
objects took 17–38 ms, landing on whichever vote happened to allocate next.

So while a ballot is open:

- everything alive when it opens is frozen (``gc.freeze``: never scanned again until
  the ballot closes; memory is still freed by reference counting as usual);
- automatic collection is off, and a timer collects the young generations in a pause —
  when fewer than ``QUIET_GROWTH`` objects were allocated since its last look, a tenth
  of what a burst allocates in that time — then freezes what survived (the log, the
  keys: long-lived by nature), so each pause-time collection scans only what is new;
- past ``HARD_CAP`` young objects it collects regardless, so garbage in reference
  cycles (the only kind reference counting misses) stays bounded even under a long
  stream of votes with no pause.

When the ballot closes (or is voided, or the server stops) everything goes back to the
collector as it was. The price: cyclic garbage among frozen objects (a connection that
was alive at a pause and closed later) waits for the close, so a ballot left open for
hours through heavy reconnecting holds that memory until then.
"""

from __future__ import annotations

import asyncio
import gc

from ..core import events as e


class CollectorPolicy:
    """A sitting listener (``Sitting.subscribe``) that steers ``gc`` around open ballots."""

    KINDS = (e.BallotOpened, e.BallotClosed, e.BallotVoided)  # what to subscribe it to
    TICK = 0.2  # seconds between looks while a ballot is open
    QUIET_GROWTH = 5_000  # fewer new objects than this since the last look: a pause
    QUIET_MIN = 10_000  # young objects worth a collection in a pause
    HARD_CAP = 200_000  # collect regardless beyond this many young objects

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None
        self._seen = 0  # young objects at the last look
        self._restore: bool | None = None  # whether gc was enabled before: set while a ballot is open

    def __call__(self, seq: int, event: object, origin: object = None) -> None:
        if isinstance(event, e.BallotOpened):
            gc.freeze()
            if self._restore is None:
                self._restore = gc.isenabled()
                gc.disable()
                self._seen = 0
                self._timer = asyncio.get_running_loop().call_later(self.TICK, self._tick)
        elif isinstance(event, (e.BallotClosed, e.BallotVoided)):
            self.close()

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        young = gc.get_count()[0]
        quiet = young - self._seen < self.QUIET_GROWTH
        if young >= self.HARD_CAP or (quiet and young >= self.QUIET_MIN):
            gc.collect(1)
            gc.freeze()
            young = 0
        self._seen = young
        self._timer = loop.call_later(self.TICK, self._tick)

    def close(self) -> None:
        """Hand everything back to the collector (ballot closed, or the server stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._restore is not None:
            gc.unfreeze()
            if self._restore:
                gc.enable()
            self._restore = None
