"""Secrets stay out of URLs, logs and banners; each paired device has a token the clerk can
revoke (issue 11, defect 6)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from server.cli import banner
from server.edge.auth import SESSION_COOKIE, set_password
from server.edge.devices import DEVICES_FILE
from terminal_client import Client, ServerError
from tests.support import LiveServer, bearer, make_agenda, start_server

PASSWORD = "s3cret-for-tests"


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[LiveServer]:
    set_password(tmp_path, PASSWORD)
    server = await start_server(tmp_path, make_agenda(3))
    try:
        yield server
    finally:
        await server.stop()


class Console:
    """The clerk's browser session, over plain HTTP."""

    def __init__(self, srv: LiveServer, http: httpx.AsyncClient) -> None:
        self.srv, self.http, self.headers = srv, http, {"Origin": srv.http}

    async def login(self) -> Console:
        res = await self.http.post(
            "/api/console/login", json={"username": "clerk", "password": PASSWORD}, headers=self.headers
        )
        cookie = f"{SESSION_COOKIE}={res.cookies[SESSION_COOKIE]}"
        self.http.cookies.clear()
        csrf = (await self.http.get("/api/console/session", headers={"Cookie": cookie})).json()["csrf"]
        self.headers = {**self.headers, "Cookie": cookie, "X-CSRF-Token": csrf}
        return self

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(path, json=body or {}, headers=self.headers)

    async def pair(self, target: str) -> dict:
        sheet = (await self.post("/api/console/pairing")).json()
        code = (
            sheet["display"]["code"]
            if target == "display"
            else next(s["code"] for s in sheet["seats"] if s["seat"] == target)
        )
        res = await self.http.post("/api/pair", json={"code": code}, headers={"Origin": self.srv.http})
        assert res.status_code == 200, res.text
        return res.json()


async def test_each_device_has_its_own_token_listed_and_revocable(srv: LiveServer, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=srv.http) as http:
        console = await Console(srv, http).login()
        tablet, spare, display = await console.pair("S001"), await console.pair("S001"), await console.pair("display")
        assert len({tablet["token"], spare["token"], display["token"], srv.seat_token("S001")}) == 4
        listed = (await console.post("/api/console/devices")).json()["devices"]
        assert {(d["id"], d["role"], d["seat"]) for d in listed} == {
            (tablet["device"], "seat", "S001"),
            (spare["device"], "seat", "S001"),
            (display["device"], "display", None),
        }
        assert all(d["address"] == "127.0.0.1" and "token" not in json.dumps(d) for d in listed)
        # the file keeps digests, never tokens, readable by the server's user only
        stored = (tmp_path / DEVICES_FILE).read_text()
        assert tablet["token"] not in stored and display["token"] not in stored
        assert (tmp_path / DEVICES_FILE).stat().st_mode & 0o077 == 0

        live = await connect(srv.url)
        await live.send(json.dumps({"type": "hello", "v": 1, "token": tablet["token"]}))
        assert json.loads(await live.recv())["type"] == "welcome"
        other = Client(srv.url, spare["token"])
        await other.connect()
        assert (await http.get("/api/documents", headers=bearer(tablet["token"]))).status_code == 200
        revoked = await console.post("/api/console/devices/revoke", {"device": tablet["device"]})
        assert revoked.status_code == 200
        # its connection is closed at once, and its token is refused everywhere from now on
        async with asyncio.timeout(30):
            await live.wait_closed()
        assert live.close_code == 4001
        with pytest.raises(ServerError) as refused:
            await Client(srv.url, tablet["token"], reconnect=False).connect()
        assert refused.value.code == "bad_token"
        assert (await http.get("/api/documents", headers=bearer(tablet["token"]))).status_code == 401
        # the other tablet of the same seat, and the seat's own token (simulators, keypads) go on
        assert (await other.request({"type": "ping"}))["type"] == "pong"
        await other.close()
        assert (await console.post("/api/console/devices/revoke", {"device": tablet["device"]})).status_code == 404
        assert tablet["device"] not in {d["id"] for d in (await console.post("/api/console/devices")).json()["devices"]}


async def test_tokens_are_never_taken_from_urls_nor_written_to_the_access_log(
    srv: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "uvicorn.access")
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    clerk = srv.creds["clerk"]["token"]
    async with httpx.AsyncClient(base_url=srv.http) as http:
        in_url = await http.get("/api/documents", params={"token": clerk})
        assert in_url.status_code == 401
        assert (await http.get("/api/documents", headers=bearer(clerk))).status_code == 200
        await http.get("/seat", params={"pair": "ABCDEFGHJK"})  # an old sheet's link
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/documents" in logged  # the access log is on, and...
    assert clerk not in logged and "ABCDEFGHJK" not in logged  # ...holds no secret


async def test_the_banner_says_where_secrets_are_and_prints_none(tmp_path: Path) -> None:
    server = await start_server(tmp_path, make_agenda(3))  # a first run: a password is generated
    try:
        args = argparse.Namespace(host="0.0.0.0", port=8000, credentials=str(tmp_path / "credentials.json"), db="x.db")
        text = banner(server.assembly, args)
        creds = server.creds
        secrets_ = [creds["clerk"]["token"], creds["display"]["token"], creds["device"]["token"]]
        secrets_ += [seat["token"] for seat in creds["seats"].values()]
        secrets_.append(server.assembly.auth.console.initial_password)
        assert not [s for s in secrets_ if s and s in text]
        assert str(tmp_path / "credentials.json") in text and "clerk-password.txt" in text
        assert "token=" not in text
    finally:
        await server.stop()
