"""Console login under attack (issue 11, defect 7): guesses slowed, never a lockout of the
clerk; the hashing off the event loop; X-Forwarded-For believed only from a configured proxy.

Attackers and the clerk use different loopback addresses (127.0.0.2 and 127.0.0.3: Linux
routes all of 127/8 to the loopback). The throttle's clock is replaced by one the test moves,
so "wait five seconds" is a statement about the rule, not a sleep.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.edge import auth as auth_module
from server.edge.auth import set_password
from terminal_client import Client
from tests.support import LiveServer, make_agenda, start_server

PASSWORD = "s3cret-for-tests"
WAIT = 30  # only so that a hang fails the test instead of the suite; never a speed claim


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[LiveServer]:
    set_password(tmp_path, PASSWORD)
    server = await start_server(tmp_path, make_agenda(3))
    try:
        yield server
    finally:
        await server.stop()


def from_address(srv: LiveServer, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=srv.http, transport=transport, headers={"Origin": srv.http})


async def attempt(http: httpx.AsyncClient, password: str, **headers: str) -> httpx.Response:
    return await http.post("/api/console/login", json={"username": "clerk", "password": password}, headers=headers)


def fake_clock(srv: LiveServer) -> Clock:
    clock = Clock()
    throttle = srv.assembly.auth.throttle
    throttle.clock = clock
    throttle._buckets.clear()  # buckets made with the real clock
    return clock


async def test_guesses_wait_longer_and_longer_but_the_clerk_is_never_locked_out(srv: LiveServer) -> None:
    clock = fake_clock(srv)
    async with from_address(srv, "127.0.0.2") as attacker, from_address(srv, "127.0.0.3") as clerk:
        codes = [(await attempt(attacker, f"guess{i}")).status_code for i in range(6)]
        assert codes == [401, 401, 401, 401, 429, 429]  # three free guesses, then waits
        waited = []
        for i in range(8):  # the attacker waits each time as told, and guesses again
            refused = await attempt(attacker, f"again{i}")
            assert refused.status_code == 429 and refused.headers["retry-after"] == str(refused.json()["retry_after"])
            waited.append(refused.json()["retry_after"])
            clock.now += waited[-1]
            assert (await attempt(attacker, f"guess-after-wait{i}")).status_code == 401
        assert waited == sorted(waited) and waited[-1] > 8 * waited[0]  # growing delays
        # the clerk, at another desk: never a lockout; at most a short wait for the account
        first = await attempt(clerk, PASSWORD)
        if first.status_code == 429:
            assert first.json()["retry_after"] <= 5
            clock.now += first.json()["retry_after"]
            first = await attempt(clerk, PASSWORD)
        assert first.status_code == 200
        # and the clerk at the attacker's own address gets in once the (growing) wait is over
        late = await attempt(attacker, PASSWORD)
        assert late.status_code in (200, 429)
        if late.status_code == 429:
            clock.now += late.json()["retry_after"]
            assert (await attempt(attacker, PASSWORD)).status_code == 200


async def test_x_forwarded_for_is_not_believed_unless_the_proxy_is_configured(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    for trusted, expected in (((), [401, 401, 401, 401, 429, 429]), (("127.0.0.1",), [401] * 6)):
        server = await start_server(tmp_path, make_agenda(3), trusted_proxies=trusted)
        try:
            fake_clock(server)
            async with from_address(server, "127.0.0.1") as http:
                codes = [
                    (await attempt(http, f"guess{i}", **{"X-Forwarded-For": f"10.0.0.{i}"})).status_code
                    for i in range(6)
                ]
            # untrusted: one address, whatever the header says; behind a configured proxy: six clients
            assert codes == expected, trusted
        finally:
            await server.stop()


async def test_password_checks_run_off_the_event_loop_one_at_a_time(
    srv: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    running: list[int] = []
    most = [0]

    def slow_check(password: str, stored: dict[str, Any]) -> bool:
        running.append(1)
        most[0] = max(most[0], len(running))
        release.wait(WAIT)  # an scrypt that takes as long as the test likes
        running.pop()
        return False

    monkeypatch.setattr(auth_module, "check_password", slow_check)
    fake_clock(srv)
    seat = Client(srv.url, srv.seat_token("S001"))
    await seat.connect()
    async with httpx.AsyncClient(base_url=srv.http, headers={"Origin": srv.http}, timeout=WAIT) as http:
        logins = [asyncio.create_task(attempt(http, f"p{i}")) for i in range(8)]
        async with asyncio.timeout(WAIT):
            while not running:
                await asyncio.sleep(0.01)
        # a check is running: the event loop still answers a seat at once
        assert (await seat.request({"type": "ping"}))["type"] == "pong"
        # beyond one running and four waiting, logins are answered "try again" at once
        done, _ = await asyncio.wait(logins, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        busy = [t.result() for t in done]
        assert busy and all(r.status_code == 429 for r in busy)
        release.set()
        answers = await asyncio.gather(*logins)
    assert sorted(r.status_code for r in answers).count(401) == 5  # one running + four waiting
    assert most[0] == 1
    await seat.close()
