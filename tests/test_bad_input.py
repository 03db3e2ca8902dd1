"""Bad input gets a clear error code, and changes nothing; the connection stays usable."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from tests.support import LiveServer


async def hello(ws: Any, token: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "token": token}))
    return json.loads(await ws.recv())


async def reply(ws: Any, ref: str | None = None) -> dict[str, Any]:
    """The next error/ack/ok/pong (events and progress are skipped)."""
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if msg["type"] in ("error", "ack", "ok", "pong") and (ref is None or msg.get("re") == ref):
            return msg


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", "bad_message"),
        ("[1, 2, 3]", "bad_message"),
        (json.dumps({"type": "cast", "id": "a", "ballot": 5, "choice": "for", "key": "k"}), "bad_message"),
        (json.dumps({"type": "cast", "id": "a", "ballot": "reg1", "key": "k"}), "bad_message"),
        (json.dumps({"type": "cast", "id": "a", "ballot": "reg1", "choice": "maybe", "key": "k"}), "invalid_choice"),
        (json.dumps({"type": "cast", "id": "a", "ballot": "reg1", "choice": "for", "key": "x" * 65}), "bad_message"),
        (json.dumps({"type": "teleport", "id": "a"}), "unknown_type"),
        (
            json.dumps({"type": "cast", "id": "a", "seat": "S002", "ballot": "reg1", "choice": "for", "key": "k"}),
            "not_your_seat",
        ),
        (json.dumps({"type": "command", "id": "a", "name": "close_ballot", "args": {"ballot": "reg1"}}), "forbidden"),
        (json.dumps({"type": "cast", "id": "a", "ballot": "nope", "choice": "for", "key": "k"}), "unknown_ballot"),
    ],
)
async def test_seat_bad_messages_are_answered_by_their_code_and_change_nothing(
    live: LiveServer, raw: str, code: str
) -> None:
    rt = live.assembly
    async with websockets.connect(live.url) as clerk, websockets.connect(live.url) as seat:
        await hello(clerk, live.creds["clerk"]["token"])
        await hello(seat, live.seat_token("S001"))
        await seat.send(json.dumps({"type": "check_in", "id": "c"}))
        await reply(seat, "c")
        await clerk.send(json.dumps({"type": "command", "id": "o", "name": "open_ballot", "args": {"ballot": "reg1"}}))
        await reply(clerk, "o")
        before = rt.sitting.meeting.seq
        await seat.send(raw)
        err = await reply(seat)
        assert err["type"] == "error" and err["code"] == code and err["message"]
        assert rt.sitting.meeting.seq == before
        assert rt.sitting.meeting.ballots["reg1"].voters == set()
        # the connection is still sound: a valid cast is acknowledged
        await seat.send(json.dumps({"type": "cast", "id": "ok", "ballot": "reg1", "choice": "for", "key": "good"}))
        assert (await reply(seat, "ok"))["type"] == "ack"


async def test_an_oversized_message_is_refused_and_the_connection_survives(live: LiveServer) -> None:
    async with websockets.connect(live.url, max_size=None) as seat:
        await hello(seat, live.seat_token("S001"))
        await seat.send(json.dumps({"type": "ping", "pad": "x" * (128 * 1024)}))
        err = await reply(seat)
        assert err["code"] == "too_large"
        await seat.send(json.dumps({"type": "ping", "id": "p"}))
        assert (await reply(seat, "p"))["type"] == "pong"


async def test_a_display_cannot_vote_or_check_in(live: LiveServer) -> None:
    async with websockets.connect(live.url) as display:
        await hello(display, live.creds["display"]["token"])
        for msg in (
            {"type": "cast", "id": "1", "ballot": "reg1", "choice": "for", "key": "k"},
            {"type": "check_in", "id": "2", "seat": "S001"},
            {"type": "command", "id": "3", "name": "open_ballot", "args": {"ballot": "reg1"}},
        ):
            await display.send(json.dumps(msg))
            assert (await reply(display, msg["id"]))["code"] == "forbidden"
    assert live.assembly.sitting.meeting.attendance["m01"] == "absent"
    assert live.assembly.sitting.meeting.ballots["reg1"].status == "draft"


async def test_a_wrong_token_or_missing_hello_closes_the_connection(live: LiveServer) -> None:
    async with websockets.connect(live.url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": "forged"}))
        assert json.loads(await ws.recv())["code"] == "bad_token"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    async with websockets.connect(live.url) as ws:
        await ws.send(json.dumps({"type": "cast", "ballot": "reg1", "choice": "for", "key": "k"}))
        assert json.loads(await ws.recv())["code"] == "bad_message"


async def test_a_flood_is_rate_limited_without_closing(live: LiveServer) -> None:
    async with websockets.connect(live.url) as seat:
        await hello(seat, live.seat_token("S001"))
        for i in range(100):
            await seat.send(json.dumps({"type": "ping", "id": f"p{i}"}))
        replies = [await reply(seat) for _ in range(100)]
        codes = {r.get("code") for r in replies if r["type"] == "error"}
        assert codes == {"rate_limited"}
        assert sum(r["type"] == "pong" for r in replies) >= 40


async def test_a_foreign_browser_origin_is_refused(live: LiveServer) -> None:
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(live.url, origin="http://evil.example"):
            pass
    host = live.url.split("/")[2]
    async with websockets.connect(live.url, origin=f"http://{host}") as ws:  # the server's own pages
        welcome = await hello(ws, live.creds["display"]["token"])
        assert welcome["type"] == "welcome"
