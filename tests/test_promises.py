"""Promises of docs/protocol.md that a one-line break used to slip past (issue 20).

Each test names the promise, drives the real component that keeps it (a real store, a real
uvicorn server, real WebSocket clients) and fails if the promise is broken: every assertion
here was checked against the deliberate break it is meant to catch.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server.core import commands as c
from server.edge.limits import Limits
from server.live.sitting import Sitting, Unavailable
from server.store.base import Batch
from server.store.sql import SQLStore
from terminal_client import Client
from tests.fixtures.documents import make_pdf
from tests.support import bearer, make_agenda, serving

GUARD = 20  # seconds: turns a hang into a failure, never a speed requirement


# -- a resend is acknowledged only once the original is durable ---------------------------------


class GatedStore(SQLStore):
    """Holds the next commit until ``release`` is set, then fails it (a disk that went away)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def commit(self, batch: Batch) -> None:
        if self.armed:
            self.armed = False
            self.entered.set()
            self.release.wait(GUARD)
            raise OSError("the disk went away")
        super().commit(batch)


async def test_a_resend_racing_an_original_whose_commit_fails_is_unavailable_never_acknowledged(
    tmp_path: Path,
) -> None:
    store = GatedStore(str(tmp_path / "s.db"))
    sitting = Sitting(store, make_agenda(5, ballots=[{"id": "b", "title": "Motion"}]))
    await asyncio.wait_for(sitting.start(), GUARD)
    try:
        await asyncio.wait_for(sitting.execute(c.SetAttendance("m01", "present")), GUARD)
        await asyncio.wait_for(sitting.execute(c.OpenBallot("b")), GUARD)
        store.armed = True
        original = sitting.submit(c.Cast("m01", "b", "for", "key-1"))
        assert await asyncio.to_thread(store.entered.wait, GUARD)  # the original is being written
        resend = sitting.submit(c.Cast("m01", "b", "for", "key-1"))  # the tablet resends the same key
        await asyncio.sleep(0)  # a resend answered at once would be done here
        assert not resend.done(), "a resend was answered before its original was durable"
        store.release.set()
        for fut in (original, resend):
            with pytest.raises(Unavailable):
                await asyncio.wait_for(fut, GUARD)
        # nothing was recorded: the member votes again and is counted once
        again = await asyncio.wait_for(sitting.execute(c.Cast("m01", "b", "against", "key-2")), GUARD)
        assert again.receipt is not None
        assert sitting.meeting.tally(sitting.meeting.ballots["b"])["lines"][0]["counts"]["against"] == 1
    finally:
        store.release.set()
        await asyncio.wait_for(sitting.stop(), GUARD)
        store.close()


# -- routing, resuming, timeouts over a real server ------------------------------------------------


def recorder(into: list[dict[str, Any]]) -> Any:
    return into.append


async def until(predicate: Any, what: str) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), GUARD)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


async def test_other_seats_learn_attendance_only_as_the_summary(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(10)) as srv:
        seen: list[dict[str, Any]] = []
        watcher = Client(srv.url, srv.seat_token("S010"), on_message=recorder(seen))
        await watcher.connect()
        seats = [Client(srv.url, srv.seat_token(f"S{i:03d}")) for i in range(1, 4)]
        await asyncio.gather(*(s.connect() for s in seats))
        await asyncio.gather(*(s.check_in() for s in seats))
        await until(
            lambda: any(m["type"] == "summary" and m.get("present") == 3 for m in seen), "a summary with 3 present"
        )
        changed = [m for m in seen if m["type"] == "event" and m["event"]["name"] == "attendance.changed"]
        assert changed == [], "another seat was sent who checked in"
        await watcher.check_in()  # its own change it does see
        await until(
            lambda: any(m["type"] == "event" and m["event"].get("member") == "m10" for m in seen), "its own change"
        )
        for client in (watcher, *seats):
            await client.close()


async def test_a_resuming_seat_gets_exactly_what_it_would_have_got_live(tmp_path: Path) -> None:
    """The catch-up after a drop (or a takeover, or a restart) follows the live rule: the
    member's own vote and attendance, the shared events, never other members' events."""
    agenda = make_agenda(10, ballots=[{"id": "b1", "title": "B"}])
    async with serving(tmp_path, agenda) as srv:
        seen: dict[str, list[tuple[int, str, Any]]] = {"steady": [], "flaky": []}

        def record(name: str) -> Any:
            def on(msg: dict[str, Any]) -> None:
                if msg["type"] == "event":
                    seen[name].append((msg["seq"], msg["event"]["name"], msg["event"].get("member")))

            return on

        token = srv.seat_token("S001")  # the member's tablet twice, and a third device that votes
        steady = Client(srv.url, token, on_message=record("steady"))
        flaky = Client(srv.url, token, on_message=record("flaky"))
        voter = Client(srv.url, token)
        clerk = Client(srv.url, srv.creds["clerk"]["token"])
        others = [Client(srv.url, srv.seat_token(f"S{i:03d}")) for i in range(2, 11)]
        everyone = (steady, flaky, voter, clerk, *others)
        await asyncio.gather(*(x.connect() for x in everyone))
        await asyncio.gather(*(o.check_in() for o in others[:4]))
        await clerk.command("open_ballot", ballot="b1")
        await asyncio.gather(*(o.cast("b1", "for") for o in others[:4]))
        await flaky.drop()  # it reconnects by itself and resumes from its last seq
        await asyncio.gather(*(o.check_in() for o in others[4:]))
        await asyncio.gather(*(o.cast("b1", "against") for o in others[4:]))
        await voter.check_in()
        await voter.cast("b1", "abstain")
        await clerk.command("close_ballot", ballot="b1")
        await steady.next_event("ballot.closed")
        await flaky.next_event("ballot.closed", timeout=GUARD)
        assert flaky.connections == 2 and flaky.welcome is not None and flaky.welcome["resumed"] is True
        assert seen["flaky"] == seen["steady"], "the resumed seat got other events than the live one"
        members = {member for _, _, member in seen["steady"] if member is not None}
        assert members == {"m01"}, f"a seat was sent other members' events: {members}"
        assert [name for _, name, _ in seen["steady"]].count("attendance.changed") == 1
        for x in everyone:
            await x.close()


async def hello(url: str, token: str, **fields: Any) -> tuple[Any, dict[str, Any]]:
    ws = await websockets.connect(url, ping_interval=None, close_timeout=1)
    await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, **fields}))
    return ws, json.loads(await asyncio.wait_for(ws.recv(), GUARD))


async def test_a_resume_beyond_the_gap_limit_or_from_an_unknown_seq_gets_a_snapshot(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(10)) as srv:
        token = srv.creds["display"]["token"]
        ws, first = await hello(srv.url, token)
        await ws.close()
        start = first["seq"]
        sitting = srv.assembly.sitting
        # a short gap is resumed with the events themselves
        await sitting.execute(c.SetAttendance("m01", "present"))
        ws, near = await hello(srv.url, token, last_seq=start)
        assert near["resumed"] is True
        await ws.close()
        # 5,001 events later the gap is too long: a fresh snapshot instead of replaying them
        statuses = ("present", "absent")
        for i in range(5001):
            sitting.submit(c.SetAttendance("m02", statuses[i % 2]))
        await sitting.durable(sitting.ledger.seq)
        assert sitting.durable_seq - start > 5000
        for last_seq in (start, sitting.durable_seq + 1, -1, "7"):
            ws, answer = await hello(srv.url, token, last_seq=last_seq)
            assert answer["type"] == "welcome" and answer["resumed"] is False, last_seq
            assert answer["snapshot"]["summary"]["present"] == 2
            await ws.close()


async def test_a_silent_connection_is_closed_as_idle_and_a_pinging_one_is_not(tmp_path: Path) -> None:
    limits = Limits(idle_timeout=1.5)
    async with serving(tmp_path, make_agenda(3), limits=limits) as srv:
        silent, _ = await hello(srv.url, srv.seat_token("S001"))
        talking, _ = await hello(srv.url, srv.seat_token("S002"))

        async def keep_pinging() -> None:
            while True:
                await talking.send(json.dumps({"type": "ping"}))
                await asyncio.sleep(0.3)

        pinger = asyncio.get_running_loop().create_task(keep_pinging())
        try:
            await asyncio.wait_for(silent.wait_closed(), GUARD)
            assert silent.close_code == 4000
            assert talking.close_code is None  # alive throughout the same time
            await talking.send(json.dumps({"type": "ping", "id": "p"}))
            while json.loads(await asyncio.wait_for(talking.recv(), GUARD))["type"] != "pong":
                pass
        finally:
            pinger.cancel()
            await talking.close()


async def test_no_hello_in_time_closes_the_connection_with_4001(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(3), limits=Limits(hello_timeout=0.5)) as srv:
        ws = await websockets.connect(srv.url, ping_interval=None, close_timeout=1)
        await asyncio.wait_for(ws.wait_closed(), GUARD)
        assert ws.close_code == 4001


async def test_opening_a_ballot_keypads_cannot_vote_warns_the_clerk_in_its_ok(tmp_path: Path) -> None:
    election = {
        "id": "el",
        "title": "选举",
        "kind": "election",
        "seats": 2,
        "candidates": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}, {"id": "d", "name": "丁"}],
    }
    agenda = make_agenda(4, ballots=[{"id": "m", "title": "表决"}, election])
    async with serving(tmp_path, agenda) as srv:
        device = Client(srv.url, srv.creds["device"]["token"])
        clerk = Client(srv.url, srv.creds["clerk"]["token"])
        await asyncio.gather(device.connect(), clerk.connect())
        for seat in ("S002", "S001"):
            await device.request({"type": "keypad_status", "seat": seat, "online": True})
        plain = await clerk.command("open_ballot", ballot="m")
        assert "warnings" not in plain  # a motion is voted on three keys
        await clerk.command("close_ballot", ballot="m")
        ok = await clerk.command("open_ballot", ballot="el")
        assert [(w["code"], w["seats"]) for w in ok["warnings"]] == [("keypad_unsupported", ["S001", "S002"])]
        await device.close()
        await clerk.close()


async def test_closing_the_sitting_recalls_confidential_documents_from_every_tablet(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(3)) as srv:
        clerk_token = srv.creds["clerk"]["token"]
        async with httpx.AsyncClient(
            base_url=srv.http, timeout=60
        ) as http:  # a hang guard: a page renders slowly on a loaded machine
            up = await http.post(
                "/api/documents",
                files={"file": ("c.pdf", make_pdf(1), "application/pdf")},
                data={"title": "机密件", "item": "item1", "classification": "confidential"},
                headers=bearer(clerk_token),
            )
            assert up.status_code == 201, up.text
            doc = up.json()["id"]
            page = f"/api/documents/{doc}/pages/1"
            assert (await http.get(page, headers=bearer(srv.seat_token("S001")))).status_code == 200
            seat = Client(srv.url, srv.seat_token("S001"))
            clerk = Client(srv.url, clerk_token)
            await asyncio.gather(seat.connect(), clerk.connect())
            await clerk.command("close_sitting")
            _, recalled = await seat.next_event("document.recalled")
            assert recalled["document"] == doc
            for token in (srv.seat_token("S001"), srv.seat_token("S002")):
                gone = await http.get(page, headers=bearer(token))
                assert gone.status_code == 410 and gone.json()["error"] == "recalled"
            await seat.close()
            await clerk.close()
