"""The documented reverse proxies, run as documented: docs/deploy/nginx.conf and
docs/deploy/Caddyfile in front of a real server (Debian's nginx and caddy, on loopback ports).

Through each proxy, over TLS with the room CA of `hemicycle tls init`: the console page is
served with HSTS (the proxy's `X-Forwarded-Proto` is believed from the configured proxy), a
seat speaks the WebSocket protocol, and the login throttle sees the tablet's real address —
not the `X-Forwarded-For` a client forged, which the documented configurations drop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import websockets

from server.edge import tls
from server.edge.auth import set_password
from server.live import oplog
from tests.support import LiveServer, free_socket, make_agenda, serving

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "docs" / "deploy"
PASSWORD = "s3cret-for-tests"
TABLET = "127.0.0.2"  # the tablet's own address (Linux routes all of 127/8 to loopback)
GUARD = 20


def free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


def nginx_config(tmp: Path, files: tls.TlsFiles, port: int, upstream: int) -> list[str]:
    site = (DEPLOY / "nginx.conf").read_text()
    for documented, here in (
        ("listen 8443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("server_name room.example;", "server_name 127.0.0.1;"),
        ("/srv/hemicycle/var/tls/server-key.pem", str(files.key)),
        ("/srv/hemicycle/var/tls/server.pem", str(files.cert)),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
    ):
        assert documented in site, documented
        site = site.replace(documented, here)
    (tmp / "logs").mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"pid {tmp}/nginx.pid;\nerror_log {tmp}/logs/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\nclient_body_temp_path {tmp}/body;\nproxy_temp_path {tmp}/proxy;\n"
        f"{site}\n}}\n"
    )
    return [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"]


def caddy_config(tmp: Path, files: tls.TlsFiles, port: int, upstream: int) -> list[str]:
    site = (DEPLOY / "Caddyfile").read_text()
    for documented, here in (
        ("admin off", f"admin off\n    http_port {free_port()}"),
        ("room.example:8443 {", f"127.0.0.1:{port} {{\n    bind 127.0.0.1"),
        ("/srv/hemicycle/var/tls/server-key.pem", str(files.key)),
        ("/srv/hemicycle/var/tls/server.pem", str(files.cert)),
        ("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{upstream}"),
    ):
        assert documented in site, documented
        site = site.replace(documented, here)
    conf = tmp / "Caddyfile"
    conf.write_text(site)
    return [shutil.which("caddy") or "/usr/bin/caddy", "run", "--config", str(conf), "--adapter", "caddyfile"]


PROXIES = {"nginx": nginx_config, "caddy": caddy_config}


@asynccontextmanager
async def proxied(tmp: Path, which: str) -> AsyncIterator[tuple[LiveServer, str, ssl.SSLContext]]:
    files = tls.init(tmp / "tls", [], ["127.0.0.1"])
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    set_password(tmp, PASSWORD)
    async with serving(tmp, make_agenda(3), trusted_proxies=("127.0.0.1",), public_url=public) as srv:
        upstream = int(srv.http.rsplit(":", 1)[1])
        work = tmp / which
        work.mkdir()
        command = PROXIES[which](work, files, port, upstream)
        env = {**os.environ, "HOME": str(work), "XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)}
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            trusted = ssl.create_default_context(cafile=str(files.ca_cert))
            for _ in range(GUARD * 20):  # until the proxy listens
                if proc.poll() is not None:
                    raise AssertionError(f"{which} exited: {proc.stdout.read() if proc.stdout else ''}")
                try:
                    async with httpx.AsyncClient(verify=trusted) as http:
                        if (await http.get(f"{public}/health")).status_code == 200:
                            break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            yield srv, public, trusted
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.mark.parametrize("which", sorted(PROXIES))
async def test_the_documented_proxy_carries_pages_websockets_and_the_real_client_address(
    tmp_path: Path, which: str
) -> None:
    handler = oplog.attach_file(tmp_path / "ops" / "operations.log")  # as `hemicycle serve` does
    try:
        await through_the_proxy(tmp_path, which)
    finally:
        logging.getLogger("hemicycle.ops").removeHandler(handler)
        handler.close()


async def through_the_proxy(tmp_path: Path, which: str) -> None:
    async with proxied(tmp_path, which) as (srv, public, trusted):
        transport = httpx.AsyncHTTPTransport(local_address=TABLET, verify=trusted)
        async with httpx.AsyncClient(base_url=public, transport=transport, headers={"Origin": public}) as http:
            page = await http.get("/console/login")
            assert page.status_code == 200
            assert page.headers["strict-transport-security"] == "max-age=31536000"  # the scheme came through
            refused = await http.post(
                "/api/console/login",
                json={"username": "clerk", "password": "a guess"},
                headers={"X-Forwarded-For": "203.0.113.9"},  # forged by the client: must not be believed
            )
            assert refused.status_code == 401
        lines = [json.loads(line) for line in (tmp_path / "ops" / "operations.log").read_text().splitlines()]
        refusals = [line for line in lines if line.get("event") == "console.login_refused"]
        assert [r["address"] for r in refusals] == [TABLET]

        wss = public.replace("https://", "wss://") + "/ws"
        async with websockets.connect(wss, ssl=trusted, origin=public) as seat:  # type: ignore[arg-type]
            await seat.send(json.dumps({"type": "hello", "token": srv.seat_token("S001")}))
            assert json.loads(await asyncio.wait_for(seat.recv(), GUARD))["type"] == "welcome"
            await seat.send(json.dumps({"type": "check_in", "id": "c1"}))
            while (reply := json.loads(await asyncio.wait_for(seat.recv(), GUARD))).get("re") != "c1":
                pass
            assert reply["type"] == "ok"
        assert srv.assembly.sitting.meeting.attendance["m01"] == "present"
