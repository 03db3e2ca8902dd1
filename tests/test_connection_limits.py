"""Exhaustion at the edge (issue 11, defects 3 and 4): clients that never read, connections
that never finish their headers, floods of them; a certificate issued whatever happens.

Real clients over real sockets: a WebSocket client that never reads (the `websockets`
sans-I/O protocol over a plain socket with a tiny receive buffer), silent TCP connections,
a slowloris that sends a header line now and then. Attackers connect from 127.0.0.2 (Linux
routes all of 127/8 to the loopback), seats and the clerk from 127.0.0.1, as an attacker and
a meeting room would be two addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from server.edge.limits import Limits
from server.edge.serving import ConnectionLimits
from terminal_client import Client
from tests.support import LiveServer, make_agenda, serving

WAIT = 60  # only so that a hang fails the test instead of the suite; never a speed claim
ATTACKER = "127.0.0.2"


async def until(check: Callable[[], Any], what: str) -> Any:
    async with asyncio.timeout(WAIT):
        while not (found := check()):
            await asyncio.sleep(0.02)
    return found


def port_of(srv: LiveServer) -> int:
    return int(srv.http.rsplit(":", 1)[1])


async def raw_socket(srv: LiveServer, source: str, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port_of(srv)))
    return sock


async def closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server still sends, until it closes or resets the connection."""
    loop, got = asyncio.get_running_loop(), bytearray()
    async with asyncio.timeout(WAIT):
        while True:
            try:
                chunk = await loop.sock_recv(sock, 1 << 16)
            except ConnectionResetError:
                return bytes(got)
            if not chunk:
                return bytes(got)
            got += chunk


class NeverReader:
    """A WebSocket client that does its handshake and hello, then only ever sends."""

    def __init__(self, sock: socket.socket, url: str) -> None:
        self.sock, self.proto = sock, ClientProtocol(parse_uri(url), max_size=None)
        self.loop = asyncio.get_running_loop()
        self.events: list[Any] = []

    async def flush(self) -> None:
        await self.loop.sock_sendall(self.sock, b"".join(self.proto.data_to_send()))

    async def read_until(self, wanted: Callable[[Any], bool]) -> Any:
        async with asyncio.timeout(WAIT):
            while True:
                while self.events:
                    event = self.events.pop(0)
                    if wanted(event):
                        return event
                self.proto.receive_data(await self.loop.sock_recv(self.sock, 1 << 16))
                self.events += self.proto.events_received()

    async def hello(self, token: str) -> None:
        self.proto.send_request(self.proto.connect())
        await self.flush()
        await self.read_until(lambda ev: isinstance(ev, Response))
        await self.send({"type": "hello", "v": 1, "token": token})
        await self.read_until(lambda ev: getattr(ev, "opcode", None) is Opcode.TEXT and b'"welcome"' in ev.data)

    async def send(self, msg: dict[str, Any]) -> None:
        self.proto.send_text(json.dumps(msg).encode())
        await self.flush()

    async def close_code(self) -> int | None:
        """Read what is left: the close frame's code, if the server sent one."""
        self.proto.receive_data(await closed_by_server(self.sock))
        for event in self.proto.events_received():
            if getattr(event, "opcode", None) is Opcode.CLOSE:
                return int.from_bytes(event.data[:2], "big")
        return None


@contextlib.asynccontextmanager
async def sitting(tmp_path: Path, **config: Any) -> AsyncIterator[LiveServer]:
    async with serving(tmp_path, make_agenda(5), **config) as srv:
        yield srv


async def test_a_client_that_never_reads_is_closed_with_4008_and_its_queue_freed(tmp_path: Path) -> None:
    # no rate limit to wait for: the byte bound alone must stop it
    async with sitting(tmp_path, limits=Limits(rate_per_second=10_000, burst=10_000)) as srv:
        hub = srv.assembly.hub
        sock = await raw_socket(srv, "127.0.0.1", rcvbuf=4096)
        client = NeverReader(sock, srv.url)
        await client.hello(srv.seat_token("S001"))
        mine = next(s for s in hub.subscribers if "m01" in s.members)
        big_id = "x" * 60_000  # echoed in each pong: 60 KB the server must hold for a reader that never reads
        peak = 0
        for _ in range(400):  # 24 MB of pongs at most; the old 2,000-message bound never closed it
            await client.send({"type": "ping", "id": big_id})
            await asyncio.sleep(0)  # let the server take it
            peak = max(peak, mine.queued_bytes)
            if mine.closed:
                break
        assert mine.closed, "the server kept queueing for a client that never reads"
        assert peak <= hub.budget.per_connection
        assert await client.close_code() == 4008
        sock.close()
        await until(lambda: mine not in hub.subscribers and hub.budget.used == 0, "freed")
        # everyone else carries on
        seat = Client(srv.url, srv.seat_token("S002"))
        await seat.connect()
        await seat.check_in()
        await seat.close()


async def test_silent_and_slow_connections_are_dropped_and_an_address_cannot_take_every_slot(tmp_path: Path) -> None:
    limits = ConnectionLimits(header_timeout=1.0, max_pending_per_address=20)
    async with sitting(tmp_path, connection_limits=limits) as srv:
        gate = srv.assembly.gate
        silent = [await raw_socket(srv, ATTACKER) for _ in range(25)]
        await until(lambda: gate.pending_per_address[ATTACKER] == 20 and gate.refused == 5, "flood counted")
        # the flood holds its 20 slots; the room still gets in
        async with httpx.AsyncClient(base_url=srv.http) as http:
            assert (await http.get("/health")).json()["ok"] is True
        seat = Client(srv.url, srv.seat_token("S001"))
        await seat.connect()
        await seat.check_in()
        # and the silent connections are dropped by the header timeout, not held for ever
        for sock in silent:
            assert await closed_by_server(sock) == b""
            sock.close()
        await until(lambda: ATTACKER not in gate.per_address, "released")

        # a slowloris: a header line now and then, never the end of the headers
        loris = await raw_socket(srv, ATTACKER)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(loris, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answered = b""
        for i in range(200):  # bounded: 200 header lines
            try:
                await loop.sock_sendall(loris, b"X-Slow-%d: 1\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:  # 0.2 s: pacing the attack, not measuring the server
                answered = await asyncio.wait_for(loop.sock_recv(loris, 1024), 0.2)
                break  # an answer, or the server closed the connection
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
        assert i < 199 and b"HTTP/1.1 200" not in answered  # dropped, never answered
        assert await closed_by_server(loris) == b""
        loris.close()
        # the seat that connected during the flood is still there
        assert (await seat.request({"type": "ping"}))["type"] == "pong"
        await seat.close()


async def test_connections_per_address_are_capped_after_authentication_too(tmp_path: Path) -> None:
    async with sitting(tmp_path, connection_limits=ConnectionLimits(max_per_address=3)) as srv:
        gate = srv.assembly.gate
        clients = []
        for _ in range(3):
            sock = await raw_socket(srv, ATTACKER)
            client = NeverReader(sock, srv.url)
            await client.hello(srv.seat_token("S001"))  # authenticated: no longer pending
            clients.append(sock)
        assert gate.pending_per_address[ATTACKER] == 0 and gate.per_address[ATTACKER] == 3
        fourth = await raw_socket(srv, ATTACKER)
        assert await closed_by_server(fourth) == b""  # reset at once
        assert gate.refused == 1
        for sock in (fourth, *clients):
            sock.close()


async def test_a_trusted_proxy_is_held_only_to_the_total_so_its_checks_get_through_a_reconnecting_room(
    tmp_path: Path,
) -> None:
    """Behind HAProxy a whole room reconnecting after a takeover comes from one address, all
    unauthenticated at once; refusing it refused the proxy's readiness checks too, and the
    proxy marked the new leader down and closed every session again (bench/failover.py)."""
    proxy = "127.0.0.3"
    limits = ConnectionLimits(max_pending=8, max_pending_per_address=4, max_per_address=6)
    async with sitting(tmp_path, connection_limits=limits, trusted_proxies=(proxy,)) as srv:
        gate = srv.assembly.gate
        room = [await raw_socket(srv, proxy) for _ in range(12)]  # past every cap but the total
        await until(lambda: gate.pending_per_address[proxy] == 12, "the proxy's connections admitted")
        assert gate.refused == 0
        check = await raw_socket(srv, proxy)  # the proxy's readiness check, in the middle of it
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(check, b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert (await closed_by_server(check)).startswith(b"HTTP/1.1 200")
        # anyone else is still held to the caps: the proxy's crowd fills the pending total
        direct = await raw_socket(srv, ATTACKER)
        assert await closed_by_server(direct) == b""
        assert gate.refused == 1
        for sock in (*room, check, direct):
            sock.close()
