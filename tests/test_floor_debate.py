"""A debate of twenty requests, ten from tablets and ten from keypads: the clerk gives the
floor to each in turn; the wall, the tablets and the record agree on who spoke, in what
order and for how long.

Real server, real bridge on simulated units behind a pty, tablets and a display wall as
protocol clients (the pages that draw the same data are tested in test_pages_floor.py).
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx

from device_drivers.messages import Key
from terminal_client import Client
from tests.keypad_support import rig, wait_for
from tests.support import bearer


async def follow(client: Client, seen: list[dict[str, Any]], floors: list[dict[str, Any]]) -> None:
    """Keep every speaker.granted a client receives, and the latest floor."""
    while True:
        _, event = await client.events.get()
        if event.get("name", "").startswith("speaker."):
            floors.append(event["floor"])
            if event["name"] == "speaker.granted":
                seen.append(event)


async def test_twenty_requests_from_tablets_and_keypads(tmp_path: Path) -> None:
    async with rig(tmp_path, 20) as r:
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        wall = Client(r.srv.url, r.srv.creds["display"]["token"])
        tablets = [Client(r.srv.url, r.srv.seat_token(r.seat(a))) for a in range(11, 21)]
        await asyncio.gather(wall.connect(), *(t.connect() for t in tablets))
        wall_seen: list[dict[str, Any]] = []
        wall_floors: list[dict[str, Any]] = []
        tablet_seen: list[dict[str, Any]] = []
        tasks = [asyncio.create_task(follow(wall, wall_seen, wall_floors))]
        tasks.append(asyncio.create_task(follow(tablets[0], tablet_seen, [])))
        try:
            # requests alternate: a keypad, a tablet, ...
            for i in range(10):
                address = i + 1
                await wait_for(lambda a=address: r.sim.press(a, Key.REQUEST), f"unit {address}'s request")
                await wait_for(lambda n=2 * i + 1: len(r.meeting.floor.queue("item1")) == n, "the keypad's request")
                await tablets[i].request_floor()
            expected = [r.member(a) for pair in zip(range(1, 11), range(11, 21)) for a in pair]
            assert [q.member for q in r.meeting.floor.queue("item1")] == expected
            for _ in expected:
                await r.clerk.command("grant_floor")
            await r.clerk.command("end_floor")
            await wait_for(
                lambda: len(wall_seen) == 20 and len(tablet_seen) == 20, "every grant on the wall and a tablet"
            )
            await wait_for(lambda: wall_floors[-1]["speaker"] is None, "the wall to see the end")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(wall.close(), *(t.close() for t in tablets))
        speeches = r.meeting.floor.speeches
        # who, in what order: the record, the wall and a tablet agree with the queue
        assert [s.member for s in speeches] == expected
        assert [g["member"] for g in wall_seen] == expected == [g["member"] for g in tablet_seen]
        # for how long: the wall's totals are the record's lengths, each from grant to the next grant
        totals = wall_floors[-1]["totals"]["members"]
        assert {m: row["seconds"] for m, row in totals.items()} == {s.member: s.seconds for s in speeches}
        grants = [g["at"] for g in wall_seen]
        ends = [*grants[1:], speeches[-1].start + speeches[-1].seconds]
        assert [round(b - a, 3) for a, b in zip(grants, ends)] == [s.seconds for s in speeches]
        # the printed record lists the twenty speeches
        async with httpx.AsyncClient(base_url=r.srv.http, timeout=120) as http:
            pdf = await http.get("/api/record.pdf", headers=bearer(r.srv.creds["clerk"]["token"]))
        path = tmp_path / "record.pdf"
        path.write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
        assert "（20人次）" in text
        names = {m.id: m.name for m in r.meeting.agenda.members}
        positions = [text.index(names[m]) for m in expected[:5]]
        assert positions == sorted(positions)  # printed in the order spoken
