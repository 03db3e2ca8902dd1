"""The server answers only to its own names (issue 11, defect 8): a page served from
evil.example whose DNS name is re-pointed at the server (DNS rebinding) sends
``Host: evil.example`` and the matching ``Origin`` — same-origin as far as the browser knows.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.typing import Origin
from websockets.uri import parse_uri

from server.edge.auth import set_password
from tests.support import LiveServer, make_agenda, serving

WAIT = 30


async def handshake(srv: LiveServer, url: str, origin: str | None) -> int:
    """Open /ws of the server under ``url``'s name (its Host header), as a browser at
    ``origin`` would; the HTTP status of the handshake's answer."""
    loop = asyncio.get_running_loop()
    port = int(srv.http.rsplit(":", 1)[1])
    proto = ClientProtocol(parse_uri(url), origin=Origin(origin) if origin else None)
    sock = socket.socket()
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        proto.send_request(proto.connect())
        await loop.sock_sendall(sock, b"".join(proto.data_to_send()))
        async with asyncio.timeout(WAIT):
            while True:
                proto.receive_data(await loop.sock_recv(sock, 65536))
                for event in proto.events_received():
                    if isinstance(event, Response):
                        return event.status_code
    finally:
        sock.close()


async def test_a_rebound_name_is_refused_for_websockets_pages_and_logins(tmp_path: Path) -> None:
    set_password(tmp_path, "s3cret-for-tests")
    async with serving(tmp_path, make_agenda(3)) as srv:
        port = srv.http.rsplit(":", 1)[1]
        # the DNS-rebinding shape: Origin and Host agree, and both name another site
        assert await handshake(srv, "ws://evil.example:1/ws", "http://evil.example:1") == 403
        assert await handshake(srv, f"ws://evil.example:{port}/ws", f"http://evil.example:{port}") == 403
        assert await handshake(srv, f"ws://127.0.0.1:{port}/ws", srv.http) == 101  # our own page
        assert await handshake(srv, f"ws://localhost:{port}/ws", None) == 101  # a client that is not a browser
        async with httpx.AsyncClient(base_url=srv.http) as http:
            evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
            info = await http.get("/api/info", headers=evil)
            assert info.status_code == 421 and info.json()["error"] == "bad_host"
            login = await http.post("/api/console/login", json={"username": "clerk", "password": "x"}, headers=evil)
            assert login.status_code == 421  # not even a guess is taken
            assert (await http.get("/api/info")).status_code == 200
            assert (await http.get("/api/info", headers={"Host": socket.gethostname()})).status_code == 200


async def test_a_name_the_operator_allows_is_answered(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(3), allowed_hosts=("meeting.example",)) as srv:
        port = srv.http.rsplit(":", 1)[1]
        assert await handshake(srv, f"ws://meeting.example:{port}/ws", f"http://meeting.example:{port}") == 101
        assert await handshake(srv, f"ws://other.example:{port}/ws", f"http://other.example:{port}") == 403
        async with httpx.AsyncClient(base_url=srv.http) as http:
            assert (await http.get("/api/info", headers={"Host": f"MEETING.example.:{port}"})).status_code == 200
