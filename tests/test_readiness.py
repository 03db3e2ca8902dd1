"""``GET /ready`` on its own port, answered by a thread (server/edge/readiness.py).

The proxy marks a server down when its check is late, and closes every session it routed
there. A leader busy with a whole room reconnecting at once must still answer in time; a
leader whose loop no longer turns must not say it is ready.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from server.edge import readiness
from tests.support import make_agenda, serving


def get_ready(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def asked_while_the_loop_is_blocked(port: int, busy_first: float = 0.0) -> tuple[int, dict[str, Any], bool]:
    """With the calling event loop blocked (as by 3,000 reconnections: nothing else runs on
    it), a thread asks the readiness port; the loop stays blocked until the answer has come.
    (status, body, whether it came at all while the loop was blocked — 30 s hang guard)."""
    got: list[Any] = []
    answered = threading.Event()

    def ask() -> None:
        got.extend(get_ready(port))
        answered.set()

    time.sleep(busy_first)
    asker = threading.Thread(target=ask)
    asker.start()
    in_time = answered.wait(30)  # blocks the loop: an answer that needs the loop never comes
    asker.join(30)
    status, body = got
    return status, body, in_time


async def test_the_leader_answers_ready_even_while_its_loop_is_busy(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(3), ready_port=0) as srv:
        probe = srv.assembly.readiness
        assert probe is not None
        status, body = get_ready(probe.port)
        assert status == 200 and body["leading"] is True and body["loop_stalled"] is False
        status, body, in_time = asked_while_the_loop_is_blocked(probe.port)
        assert in_time, "the check waited for the busy event loop"
        assert status == 200 and body["leading"] is True
        with urllib.request.urlopen(f"http://127.0.0.1:{probe.port}/ready", timeout=10):
            pass  # still answering after
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{probe.port}/ws", timeout=10)
            raise AssertionError("the readiness port served another path")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404


async def test_a_leader_whose_loop_stopped_turning_is_not_ready(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readiness, "STALLED", 0.5)
    async with serving(tmp_path, make_agenda(3), ready_port=0) as srv:
        probe = srv.assembly.readiness
        assert probe is not None
        status, body, in_time = asked_while_the_loop_is_blocked(probe.port, busy_first=1.0)
        assert in_time and status == 503
        assert body["leading"] is True and body["loop_stalled"] is True
        # the loop turns again: ready again
        deadline = time.monotonic() + 15
        while get_ready(probe.port)[0] != 200:
            assert time.monotonic() < deadline, "never ready again"
            await asyncio.sleep(0.1)


async def test_a_silent_connection_to_the_readiness_port_is_dropped(tmp_path: Path) -> None:
    """One thread per connection: a connection that never sends must not keep its thread."""
    import socket

    async with serving(tmp_path, make_agenda(3), ready_port=0) as srv:
        probe = srv.assembly.readiness
        assert probe is not None
        with socket.create_connection(("127.0.0.1", probe.port)) as silent:
            silent.settimeout(readiness.READ_TIMEOUT + 30)  # a hang guard
            assert await asyncio.to_thread(silent.recv, 1024) == b""  # closed by the server
        assert get_ready(probe.port)[0] == 200
