"""The floor over a real server: who may ask, withdraw and run the queue; every role sees
the queue and the speaker; the log replays it after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from terminal_client import Client, ServerError
from tests.support import make_agenda, start_server


async def refused(coro: object) -> str:
    with pytest.raises(ServerError) as info:
        await coro  # type: ignore[misc]
    return info.value.code


async def test_permissions_views_and_replay(tmp_path: Path) -> None:
    srv = await start_server(tmp_path, make_agenda(5), port=0)
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    display = Client(srv.url, srv.creds["display"]["token"])
    device = Client(srv.url, srv.creds["device"]["token"])
    s1, s2 = (Client(srv.url, srv.seat_token(f"S00{i}")) for i in (1, 2))
    try:
        for c in (clerk, display, device, s1, s2):
            await c.connect()
        await s1.check_in()
        await s2.check_in()
        await s1.request_floor()
        # a seat speaks only for itself
        assert await refused(s2.request({"type": "request_floor", "seat": "S001"})) == "not_your_seat"
        assert await refused(s2.request({"type": "withdraw_floor", "member": "m01"})) == "not_your_seat"
        assert await refused(s1.request_floor()) == "already_queued"
        assert await refused(s2.request_floor("speech")) == "bad_message"
        # a display asks for nothing, a seat commands nothing
        assert await refused(display.request({"type": "request_floor"})) == "forbidden"
        assert await refused(s2.command("grant_floor")) == "forbidden"
        assert await refused(s2.command("add_speaker", member="m03")) == "forbidden"
        # a keypad bridge asks for the seat it names
        assert await refused(device.request_floor()) == "bad_message"
        assert await refused(device.request_floor(seat="S003")) == "not_checked_in"
        await device.check_in(seat="S003")
        await device.request_floor("point_of_order", seat="S003")
        await s2.request_floor()
        _, ev = await display.next_event("speaker.requested")
        # the point of order went ahead; the display sees the queue in order
        while [e["member"] for e in ev["floor"]["queues"]["item1"]] != ["m03", "m01", "m02"]:
            _, ev = await display.next_event("speaker.requested")
        # the clerk runs the rest
        await clerk.command("move_speaker", member="m02", position=0)
        await clerk.command("add_speaker", member="m05", kind="reply")
        await clerk.command("remove_speaker", member="m01")
        assert await refused(clerk.command("move_speaker", member="m02", position=7)) == "bad_message"
        assert await refused(clerk.command("grant_floor", member="m99")) == "unknown_member"
        assert await refused(clerk.command("end_floor")) == "nobody_speaking"
        # the reply joins after the point of order, behind the clerk's move
        _, moved = await clerk.next_event("speaker.removed")
        assert [e["member"] for e in moved["floor"]["queues"]["item1"]] == ["m02", "m03", "m05"]
        await clerk.command("grant_floor")  # next: m02
        _, granted = await s2.next_event("speaker.granted")
        assert granted["member"] == "m02" and granted["floor"]["speaker"]["member"] == "m02"
        assert "totals" not in granted["floor"]  # a seat needs its place and the speaker
        assert await refused(s2.withdraw_floor()) == "not_queued"
        await clerk.command("grant_floor", member="m03")
        await clerk.command("end_floor")
        _, ended = await clerk.next_event("speaker.ended")
        while ended["member"] != "m03":
            _, ended = await clerk.next_event("speaker.ended")
        assert set(ended["floor"]["totals"]["members"]) == {"m02", "m03"}
        await clerk.command("clear_speakers")
        _, cleared = await display.next_event("speaker.cleared")
        assert cleared["floor"]["queues"] == {}
        await clerk.command("add_speaker", member="m04", position=0)
        before = (await Client(srv.url, srv.creds["clerk"]["token"]).connect())["snapshot"]["floor"]
    finally:
        await asyncio.gather(*(c.close() for c in (clerk, display, device, s1, s2)))
        await srv.stop()
    # a restart replays the floor from the log
    srv = await start_server(tmp_path, make_agenda(5), db=srv.db)
    try:
        again = Client(srv.url, srv.creds["clerk"]["token"])
        after = (await again.connect())["snapshot"]["floor"]
        assert after == before
        assert after["queues"]["item1"][0]["member"] == "m04"
        assert after["totals"]["members"]["m02"]["speeches"] == 1
        await again.close()
    finally:
        await srv.stop()
