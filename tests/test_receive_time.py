"""A countdown is judged by when the server received a vote, not by when it got round to it.

A stalled event loop (a slow listener, a long collection, a burst) must not turn votes the
server had already read before the deadline into ``ballot_closed``; a vote read after the
deadline is still refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from server.core import commands as c
from server.core.errors import CommandError
from server.live.sitting import Sitting
from server.store.memory import MemoryStore
from tests.support import LiveServer, make_agenda, serving

TIMED = [{"id": "timed", "title": "限时表决", "countdown": 5, "certificate": False}]


def reply(ws: ClientConnection, ref: str) -> dict[str, Any]:
    """The answer to request ``ref`` (events, progress and summaries are skipped)."""
    while True:
        msg = json.loads(ws.recv(timeout=30))
        if msg.get("re") == ref and msg["type"] in ("ok", "ack", "error"):
            return msg


def seat(stack: contextlib.ExitStack, live: LiveServer, label: str) -> ClientConnection:
    """A seat tablet on a thread of its own (a sync client), checked in: it can send while
    the server's event loop is blocked."""
    ws = stack.enter_context(connect(live.url))
    ws.send(json.dumps({"type": "hello", "token": live.seat_token(label)}))
    assert json.loads(ws.recv(timeout=30))["type"] == "welcome"
    ws.send(json.dumps({"type": "check_in", "id": "in"}))
    assert reply(ws, "in")["type"] == "ok"
    return ws


def cast(ws: ClientConnection, key: str) -> None:
    ws.send(json.dumps({"type": "cast", "id": key, "ballot": "timed", "choice": "for", "key": key}))


def wait_readable(live: LiveServer, count: int) -> None:
    """Block until ``count`` of the server's connections have bytes waiting in the kernel:
    the votes have arrived, and nothing has read them yet (the loop is blocked)."""
    socks = [p.transport.get_extra_info("socket") for p in live.server.server_state.connections]
    give_up = time.monotonic() + 30
    while len(select.select([s.fileno() for s in socks if s is not None], [], [], 1)[0]) < count:
        assert time.monotonic() < give_up, "the votes never arrived"
        time.sleep(0.001)


def wait_until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(0.01)


async def test_votes_received_before_the_deadline_count_although_the_loop_stalls_past_it(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(12, ballots=TIMED)) as live:
        stack = contextlib.ExitStack()
        try:
            early = await asyncio.gather(*(asyncio.to_thread(seat, stack, live, f"S{i:03d}") for i in range(1, 11)))
            late = await asyncio.to_thread(seat, stack, live, "S011")
            clerk = stack.enter_context(await asyncio.to_thread(connect, live.url))
            await asyncio.to_thread(clerk.send, json.dumps({"type": "hello", "token": live.creds["clerk"]["token"]}))
            await asyncio.to_thread(clerk.recv, 30)
            await asyncio.to_thread(
                clerk.send,
                json.dumps({"type": "command", "id": "o", "name": "open_ballot", "args": {"ballot": "timed"}}),
            )
            assert (await asyncio.to_thread(reply, clerk, "o"))["type"] == "ok"
            sitting = live.assembly.sitting
            deadline = sitting.meeting.ballots["timed"].deadline
            await asyncio.sleep(max(0.0, deadline - 1.0 - time.time()))  # a second before the deadline

            late_may_send, late_sent = threading.Event(), threading.Event()

            def send_late() -> None:
                late_may_send.wait(30)
                cast(late, "late")
                late_sent.set()

            threading.Thread(target=send_late, daemon=True).start()

            def stall_past_the_deadline() -> None:
                # runs as a timer callback, after the loop has read the early votes off their
                # sockets in this same turn, and before their connections' tasks decide them
                wait_until(deadline + 0.3)
                late_may_send.set()  # a vote sent (and read) after the deadline
                late_sent.wait(30)
                wait_until(deadline + 0.8)

            # Stall 1 (this coroutine blocks the loop): the early votes are sent meanwhile and
            # wait in the kernel; the next turn of the loop reads them all at once, before the
            # deadline, and then runs stall 2, which holds the loop until past the deadline.
            for i, ws in enumerate(early):
                cast(ws, f"early{i}")
            wait_readable(live, len(early))
            asyncio.get_running_loop().call_later(0, stall_past_the_deadline)
            await asyncio.sleep(0)

            answers = await asyncio.gather(*(asyncio.to_thread(reply, ws, f"early{i}") for i, ws in enumerate(early)))
            assert [a["type"] for a in answers] == ["ack"] * len(early), answers
            refused = await asyncio.to_thread(reply, late, "late")
            assert (refused["type"], refused["code"]) == ("error", "ballot_closed")
            while sitting.meeting.ballots["timed"].status != "closed":
                await asyncio.sleep(0.02)
            assert sitting.meeting.ballots["timed"].result["lines"][0]["counts"]["for"] == len(early)
        finally:
            await asyncio.to_thread(stack.close)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_sitting_judges_a_command_by_the_time_it_is_given() -> None:
    clock = Clock()
    sitting = Sitting(MemoryStore(), make_agenda(3, ballots=TIMED), clock=clock)
    await sitting.start()
    try:
        await sitting.execute(c.SetAttendance("m01", "present"))
        await sitting.execute(c.SetAttendance("m02", "present"))
        await sitting.execute(c.OpenBallot("timed"))
        deadline = sitting.meeting.ballots["timed"].deadline
        clock.now = deadline + 2  # the loop was busy; the deadline's timer has not run yet
        received = asyncio.get_running_loop().create_future()
        sitting.request(c.Cast("m01", "timed", "for", "k1"), None, lambda o, e: received.set_result(o), deadline - 1)
        assert (await received).receipt is not None
        assert sitting.meeting.ballots["timed"].named == {"m01": "for"}
        with pytest.raises(CommandError) as refused:  # received now: past the deadline
            sitting.request(c.Cast("m02", "timed", "for", "k2"), None, lambda o, e: None)
        assert refused.value.code == "ballot_closed"
    finally:
        await sitting.stop()
