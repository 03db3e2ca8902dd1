"""The clerk is told when the server changed under the sitting (issue 14, "What a takeover costs").

After a restart — and after a standby's takeover, tests/test_standby_pages.py — the secret
votes already cast in a ballot still open can no longer be changed (``vote_locked``). The
clerk's welcome, snapshot or resume, says how the server began and which votes that
locked, so a console that reconnects with its ``last_seq`` learns it too. Here on SQLite,
a real uvicorn restarted in place on the same database, clients of the Python library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from terminal_client import Client, ServerError
from tests.support import free_socket, make_agenda, start_server

SECRET = "无记名表决"


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a condition (a hang guard turns a hang into a failure)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), 60)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def rewelcomed(client: Client, before: int) -> dict:
    await until(lambda: client.connections > before, "a new welcome")
    assert client.welcome is not None
    return client.welcome


async def test_a_restart_is_told_to_the_clerk_with_the_secret_votes_it_locked(tmp_path: Path) -> None:
    agenda = make_agenda(5)
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    srv = await start_server(tmp_path, agenda, port=port)
    creds = srv.creds
    clerk = Client(srv.url, creds["clerk"]["token"], backoff=(0.05, 0.3))
    seats = {s: Client(srv.url, creds["seats"][s]["token"], backoff=(0.05, 0.3)) for s in ("S001", "S002", "S003")}
    try:
        first = await clerk.connect()
        assert first["server"]["began"] == "opened" and first["server"]["locked"] == []
        for seat in seats.values():
            await seat.connect()
            assert "server" not in (seat.welcome or {}), "only the clerk is told"
            await seat.check_in()
        await clerk.command("open_ballot", ballot="secret1")
        await seats["S001"].cast("secret1", "for", key="s1-a")
        await seats["S002"].cast("secret1", "against", key="s2-a")
        # the same process still knows whose urn entry is whose: a change is taken
        await seats["S002"].cast("secret1", "abstain", key="s2-b")

        await srv.stop()
        before = clerk.connections
        srv = await start_server(tmp_path, agenda, port=port)
        welcome = await rewelcomed(clerk, before)
        assert welcome["resumed"] is True, "the console resumed from its last_seq and is told all the same"
        server = welcome["server"]
        assert server["began"] == "restart" and server["at"] > first["server"]["at"]
        assert server["locked"] == [{"ballot": "secret1", "run": 1, "title": SECRET, "votes": 2}]

        for seat in seats.values():
            await seat.connected()
        with pytest.raises(ServerError) as refused:
            await seats["S001"].cast("secret1", "against", key="s1-b")
        assert refused.value.code == "vote_locked"
        # a vote cast after the restart can still be changed, and is not counted as locked
        await seats["S003"].cast("secret1", "for", key="s3-a")
        await seats["S003"].cast("secret1", "against", key="s3-b")
        before = clerk.connections
        await clerk.drop()
        again = await rewelcomed(clerk, before)
        assert again["server"]["locked"] == [{"ballot": "secret1", "run": 1, "title": SECRET, "votes": 2}]

        await clerk.command("close_ballot", ballot="secret1")
        before = clerk.connections
        await clerk.drop()
        closed = await rewelcomed(clerk, before)
        assert closed["server"]["began"] == "restart" and closed["server"]["locked"] == [], "nothing open is locked"
    finally:
        await asyncio.gather(clerk.close(), *(s.close() for s in seats.values()))
        await srv.stop()
