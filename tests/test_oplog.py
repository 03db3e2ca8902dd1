"""The operational log: ballots, certificates, documents and keypad lines as JSON lines an
operator can tail — and never a token, a password or a member's choice."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import websockets

from server.live import oplog
from tests.support import make_agenda, serving


async def test_the_sitting_is_logged_for_operators_without_secrets(tmp_path: Path) -> None:
    handler = oplog.attach_file(tmp_path / "ops" / "operations.log")
    try:
        agenda = make_agenda(3, ballots=[{"id": "s1", "title": "Secret", "secret": True}])
        async with serving(tmp_path, agenda) as srv:
            async with websockets.connect(srv.url) as clerk, websockets.connect(srv.url) as seat:
                await clerk.send(json.dumps({"type": "hello", "token": srv.creds["clerk"]["token"]}))
                await seat.send(json.dumps({"type": "hello", "token": srv.seat_token("S001")}))
                await clerk.recv()
                await seat.recv()

                async def ask(ws, msg, ident):
                    await ws.send(json.dumps({**msg, "id": ident}))
                    while (reply := json.loads(await ws.recv())).get("re") != ident:
                        pass
                    return reply

                await ask(seat, {"type": "check_in"}, "c")
                await ask(clerk, {"type": "command", "name": "open_ballot", "args": {"ballot": "s1"}}, "o")
                await ask(seat, {"type": "cast", "ballot": "s1", "choice": "against", "key": "k1"}, "v")
                await ask(clerk, {"type": "command", "name": "close_ballot", "args": {"ballot": "s1"}}, "x")
            await srv.assembly.issuer.drain()
            await asyncio.sleep(0)
        lines = (tmp_path / "ops" / "operations.log").read_text().splitlines()
    finally:
        logging.getLogger("hemicycle.ops").removeHandler(handler)
        handler.close()
    entries = [json.loads(line) for line in lines]
    assert [x["event"] for x in entries] == ["ballot.opened", "ballot.closed", "certificate.issued"]
    assert entries[1]["ballot"] == "s1" and entries[1]["voted"] == 1
    assert oct((tmp_path / "ops" / "operations.log").stat().st_mode & 0o777) == "0o600"
    text = "\n".join(lines)
    for secret in [srv.creds["clerk"]["token"], srv.seat_token("S001"), srv.creds["device"]["token"], "against"]:
        assert secret not in text


async def test_logins_pairings_and_revocations_are_logged_without_codes_tokens_or_passwords(tmp_path: Path) -> None:
    import httpx

    from server.edge.auth import set_password

    set_password(tmp_path, "correct horse battery")
    handler = oplog.attach_file(tmp_path / "operations.log")
    try:
        async with serving(tmp_path, make_agenda(2, language="en")) as srv:
            origin = {"Origin": srv.http}
            async with httpx.AsyncClient(base_url=srv.http, headers=origin) as http:
                wrong = await http.post("/api/console/login", json={"username": "hunter2-typed-here", "password": "x"})
                assert wrong.status_code == 401
                ok = await http.post(
                    "/api/console/login", json={"username": "clerk", "password": "correct horse battery"}
                )
                assert ok.status_code == 200
                csrf = (await http.get("/api/console/session")).json()["csrf"]
                code = srv.assembly.auth.pairing.issue(["S001"])["S001"]
                paired = (await http.post("/api/pair", json={"code": code})).json()
                revoked = await http.post(
                    "/api/console/devices/revoke", json={"device": paired["device"]}, headers={"X-CSRF-Token": csrf}
                )
                assert revoked.status_code == 200
        text = (tmp_path / "operations.log").read_text()
    finally:
        logging.getLogger("hemicycle.ops").removeHandler(handler)
        handler.close()
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert events[:4] == ["console.login_refused", "console.login", "device.paired", "device.revoked"]
    for secret in ("hunter2-typed-here", "correct horse battery", code, paired["token"]):
        assert secret not in text
