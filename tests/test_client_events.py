"""The client library keeps the newest unread events, not all of them (terminal_client).

A simulated room runs thousands of clients in one process, most of which only vote and never
read their events; the bench that did so for 3,000 seats through five takeovers grew to 20 GB.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from terminal_client import Client
from tests.support import make_agenda, serving

GUARD = 20  # seconds: a hang guard, not a speed requirement


async def test_a_client_that_never_reads_keeps_only_the_newest_events(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(12)) as srv:
        watcher = Client(srv.url, srv.creds["clerk"]["token"], max_events=5)
        seats = [Client(srv.url, srv.seat_token(f"S{i:03d}")) for i in range(1, 13)]
        await asyncio.gather(watcher.connect(), *(s.connect() for s in seats))
        watcher.events.get_nowait()  # the welcome's snapshot
        for s in seats:
            await s.check_in()
        durable = srv.assembly.sitting.durable_seq
        async with asyncio.timeout(GUARD):
            while watcher.last_seq < durable:
                await asyncio.sleep(0.02)
        assert watcher.events.qsize() == 5 and watcher.events_dropped == 7
        kept = [await watcher.next_event("attendance.changed") for _ in range(5)]
        assert [event["member"] for _, event in kept] == [f"m{i:02d}" for i in range(8, 13)]
        assert kept[-1][0] == durable, "the newest event is kept and last_seq is current"
        for client in (watcher, *seats):
            await client.close()
