"""The real edge, fuzzed: a real server (tests/support.py) on a thread of its own, real
WebSocket clients of every role sending every kind of message, right and wrong.

Every frame gets exactly one answer, and each answer is ``pong``, ``ok``, ``ack`` or an
``error`` whose code docs/protocol.md lists — never ``internal``; a refused frame leaves the
record as it was; the server's log holds no traceback and nothing at ERROR. A first frame
that is not a good hello closes the connection with 4001 (or 1007 when it is not UTF-8).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.core.agenda import agenda_from_dict
from server.edge.limits import Limits
from tests import fuzzing as f
from tests.fixtures.documents import make_pdf
from tests.support import LiveServer, ServerLog, bearer, start_server

CODES = f.documented_codes()
EDGE = f.fuzz_settings(50)
#: what may be logged while a refused frame is answered: the background's own entries
BACKGROUND = {"certificate.issued", "ballot.closed"}
#: the rate limits are the subject of their own tests (tests/test_bad_input.py); here they
#: would answer most frames with rate_limited before anything else is looked at
UNLIMITED = Limits(rate_per_second=1e6, burst=10**6, device_rate_per_second=1e6, device_burst=10**6)


@dataclass
class Fuzzed:
    """A live server on its own event loop and thread, with one connection per role."""

    live: LiveServer
    loop: asyncio.AbstractEventLoop
    log: ServerLog
    documents: tuple[str, ...]
    keys: list[str] = field(default_factory=list)  # idempotency keys used so far (resends reuse them)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    clients: dict[str, ClientConnection] = field(default_factory=dict)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    @property
    def history(self) -> list[str]:
        return [event.NAME for _, event in list(self.live.assembly.sitting.history)]

    def token(self, role: str) -> str:
        return self.live.seat_token("S001") if role == "seat" else self.live.creds[role]["token"]

    def client(self, role: str) -> ClientConnection:
        if role not in self.clients:
            ws = self.stack.enter_context(connect(self.live.url, max_size=None, close_timeout=1))
            ws.send(json.dumps({"type": "hello", "token": self.token(role)}))
            assert json.loads(ws.recv(timeout=30))["type"] == "welcome"
            self.clients[role] = ws
        return self.clients[role]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-server", daemon=True)
    thread.start()
    agenda = agenda_from_dict(f.fuzz_agenda_data())
    with ServerLog() as log:
        live = asyncio.run_coroutine_threadsafe(start_server(tmp, agenda, limits=UNLIMITED), loop).result(60)
        with httpx.Client(base_url=live.http) as http:
            up = http.post(
                "/api/documents",
                files={"file": ("a.pdf", make_pdf(2), "application/pdf")},
                data={"title": "草案", "item": "item1"},
                headers=bearer(live.creds["clerk"]["token"]),
            )
        fuzzed = Fuzzed(live, loop, log, (up.json()["id"],))
        try:
            yield fuzzed
            fuzzed.call(live.assembly.issuer.drain())  # certificates of closed ballots, rendered meanwhile
            assert log.faults() == []
        finally:
            fuzzed.stack.close()
            fuzzed.call(live.stop())
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


def send(ws: ClientConnection, frame: f.Frame) -> None:
    payload, text = f.encode_frame(frame)
    ws.send(payload, text=text)


def answer(ws: ClientConnection) -> dict[str, Any]:
    """The next answer to a request (events, progress and summaries are skipped)."""
    while True:
        msg = json.loads(ws.recv(timeout=30))
        if msg["type"] in ("error", "ok", "ack", "pong"):
            return msg


def exchange(fuzzed: Fuzzed, role: str, frame: f.Frame) -> None:
    """Send one frame as ``role`` and hold its answer, the record and the log to the rules."""
    ws = fuzzed.client(role)
    sitting = fuzzed.live.assembly.sitting
    world = fuzzed.call(_world(sitting, fuzzed.documents))
    world.used, world.counter = fuzzed.keys, len(fuzzed.keys)
    frame = world.resolve(frame)
    before = len(sitting.history)
    send(ws, frame)
    msg = answer(ws)
    problem = f.answer_problem(msg, CODES)
    assert problem is None, (problem, role, frame)
    event(f"{role}: {msg.get('code') or msg['type']}")
    if msg["type"] == "error":  # refused: the record is as it was (but for the background's own)
        assert set(fuzzed.history[before:]) <= BACKGROUND, (role, frame, fuzzed.history[before:])
    assert fuzzed.log.faults() == [], (role, frame)


async def _world(sitting: Any, documents: tuple[str, ...]) -> f.World:
    """What the placeholders stand for, read on the server's own loop."""
    return f.world_of(sitting.meeting, list(documents))


@EDGE
@given(turns=st.lists(f.exchanges(), min_size=8, max_size=24))
def test_a_sitting_fuzzed_from_every_role_at_once(fuzzed: Fuzzed, turns: list[tuple[str, f.Frame]]) -> None:
    for role, frame in turns:
        exchange(fuzzed, role, frame)


@f.fuzz_settings(30)
@given(frames=st.lists(f.frames_for("display"), min_size=1, max_size=4))
def test_a_display_fuzzed(fuzzed: Fuzzed, frames: list[f.Frame]) -> None:
    for frame in frames:
        exchange(fuzzed, "display", frame)


@f.fuzz_settings(40)
@given(frame=f.hello_frames())
def test_the_first_frame_of_a_connection_fuzzed(fuzzed: Fuzzed, frame: f.Frame) -> None:
    world = f.World(tokens={role: fuzzed.token(role) for role in f.ROLES})
    frame = world.resolve(frame)
    before = len(fuzzed.live.assembly.sitting.history)
    with connect(fuzzed.live.url, max_size=None, close_timeout=1) as ws:
        send(ws, frame)
        try:
            msg = json.loads(ws.recv(timeout=30))
        except ConnectionClosed as closed:
            assert frame[0] == "badutf8" and closed.rcvd is not None and closed.rcvd.code == 1007, frame
            msg = {"type": "closed"}
        event(msg.get("code") or msg["type"])
        if msg["type"] not in ("welcome", "closed"):
            assert f.answer_problem(msg, CODES) is None and msg["type"] == "error", (msg, frame)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    assert set(fuzzed.history[before:]) <= BACKGROUND
    assert fuzzed.log.faults() == [], frame
