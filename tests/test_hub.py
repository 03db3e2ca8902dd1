"""Fan-out: a connection's outbox writes at once when it can and keeps order when it cannot."""

from __future__ import annotations

import asyncio

from server.core import commands as c
from server.core import events as e
from server.edge.hub import QUEUE_LIMIT, Subscriber
from server.live.sitting import Sitting
from server.store.sql import SQLStore
from tests.support import make_agenda

HANG_GUARD = 10  # seconds: only to turn a hang into a failure


class Transport:
    """An ASGI-like send that suspends while ``writable`` is clear, as uvicorn's does."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        await self.writable.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str = "") -> None:
        self.sent.append(f"close {code}")


async def test_a_push_is_written_at_once_when_the_transport_takes_it() -> None:
    t = Transport()
    sub = Subscriber("seat", frozenset({"m01"}), t.send, t.close)
    sub.push("a")  # not even started: nothing waits for a task
    assert t.sent == ["a"]


async def test_a_paused_transport_keeps_the_order_and_the_pump_finishes() -> None:
    t = Transport()
    sub = Subscriber("seat", frozenset({"m01"}), t.send, t.close)
    sub.start()
    t.writable.clear()
    for text in "abc":
        sub.push(text)
    sub.offer("progress", "p")
    await asyncio.sleep(0.01)
    assert t.sent == []
    t.writable.set()
    async with asyncio.timeout(HANG_GUARD):
        while len(t.sent) < 4:
            await asyncio.sleep(0.001)
    assert t.sent == ["a", "b", "c", "p"]
    sub.push("d")  # the pump is idle again: written at once
    assert t.sent[-1] == "d"
    sub.stop()


async def test_a_laggard_is_closed_and_stopping_a_stalled_send_is_clean() -> None:
    t = Transport()
    sub = Subscriber("seat", frozenset({"m01"}), t.send, t.close)
    sub.start()
    t.writable.clear()
    for i in range(QUEUE_LIMIT + 2):
        sub.push(str(i))
    assert sub.closed
    await asyncio.sleep(0.01)
    assert t.sent[-1] == "close 4008"
    sub.stop()  # closes the suspended send: no "never awaited" / pending-task leftovers


async def test_a_send_that_fails_marks_the_subscriber_closed() -> None:
    async def broken(text: str) -> None:
        raise OSError("gone")

    async def close(code: int, reason: str = "") -> None:
        pass

    sub = Subscriber("seat", frozenset({"m01"}), broken, close)
    sub.push("a")
    assert sub.closed
    sub.push("b")  # ignored, no error


async def test_listeners_named_for_kinds_see_only_those(tmp_path) -> None:
    sitting = Sitting(SQLStore(str(tmp_path / "s.db")), make_agenda(4, ballots=[{"id": "b1", "title": "B"}]))
    await sitting.start()
    everything: list[str] = []
    ballots: list[str] = []
    sitting.subscribe(lambda seq, ev, origin=None: everything.append(ev.NAME))
    sitting.subscribe(lambda seq, ev, origin=None: ballots.append(ev.NAME), (e.BallotOpened, e.BallotClosed))
    try:
        await sitting.execute(c.SetAttendance("m01", "present"))
        await sitting.execute(c.OpenBallot("b1"))
        await sitting.execute(c.Cast("m01", "b1", "for", "k1"))
        await sitting.execute(c.CloseBallot("b1"))
    finally:
        await sitting.stop()
        sitting.store.close()
    assert everything == ["attendance.changed", "ballot.opened", "vote.cast", "ballot.closed"]
    assert ballots == ["ballot.opened", "ballot.closed"]
