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
