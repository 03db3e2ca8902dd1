"""A hot standby on PostgreSQL (issue 14): two `hemicycle serve` behind a real HAProxy.

The leader is killed (SIGKILL), stalled beyond its lease (SIGSTOP) or asked to step down
in the middle of a ballot; the standby takes over, the clients (the Python library,
through the proxy) reconnect and re-send, and no acknowledged vote is lost or counted twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
import websockets

from server.store.leadership import STEPPED_DOWN
from terminal_client.client import Client
from tests.standby_support import HEMICYCLE, ROOT, Pair, ready, wait_for
from tests.support import agenda_data, write_agenda_toml
from tests.support_pg import pg_url, reset  # noqa: F401 - pg_url is a fixture

pytestmark = pytest.mark.postgres
SEATS = 200
CHOICES = ("for", "against", "abstain")


@pytest.fixture
def pair(tmp_path: Path, pg_url: str) -> Any:  # noqa: F811
    reset(pg_url)
    agenda = write_agenda_toml(
        tmp_path / "agenda.toml",
        agenda_data(SEATS, ballots=[{"id": "b1", "title": "Burst"}, {"id": "s1", "title": "Secret", "secret": True}]),
    )
    pair = Pair(tmp_path, agenda, pg_url)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


async def seated(pair: Pair, ballot: str = "b1") -> tuple[Client, list[tuple[str, Client]]]:
    """The clerk and every seat connected through the proxy, checked in; the ballot open."""
    creds = pair.creds()
    clerk = Client(pair.url, creds["clerk"]["token"], backoff=(0.05, 0.5))
    await clerk.connect(timeout=60)
    seats = sorted(creds["seats"].items())
    clients = [(seat, Client(pair.url, entry["token"], backoff=(0.05, 0.5))) for seat, entry in seats]
    await asyncio.gather(*(c.connect(timeout=60) for _, c in clients))
    await asyncio.gather(*(c.check_in() for _, c in clients))
    await clerk.command("open_ballot", ballot=ballot)
    return clerk, clients


def choice(i: int) -> str:
    return CHOICES[i % 3]


async def close_and_count(clerk: Client, ballot: str = "b1") -> dict[str, Any]:
    """Close the ballot (the clerk carries on through the new leader) and return its result."""
    await clerk.connected()
    await clerk.command("close_ballot", ballot=ballot)
    while True:
        _, event = await clerk.next_event("ballot.closed", timeout=60)
        if event.get("ballot") == ballot:
            return event["result"]


async def resend_all(clients: list[tuple[str, Client]], acked: dict[str, dict[str, Any]], ballot: str = "b1") -> None:
    """Every seat casts again with its key: acknowledged votes get their original ack back."""
    again = await asyncio.gather(
        *(c.cast(ballot, choice(i), key=f"k-{seat}", timeout=60) for i, (seat, c) in enumerate(clients))
    )
    for (seat, _), ack in zip(clients, again):
        assert ack["type"] == "ack"
        if seat in acked:
            assert ack["seq"] == acked[seat]["seq"], f"{seat} got another ack for the same vote"


def expected_counts() -> dict[str, int]:
    return {o: sum(1 for i in range(SEATS) if choice(i) == o) for o in CHOICES}


async def finish(pair: Pair, clerk: Client, clients: list[tuple[str, Client]], acked: dict, ballot: str = "b1") -> None:
    await resend_all(clients, acked, ballot)
    result = await close_and_count(clerk, ballot)
    assert result["voted"] == SEATS
    assert result["lines"][0]["counts"] == expected_counts()
    await asyncio.gather(clerk.close(), *(c.close() for _, c in clients))
    verify = await asyncio.to_thread(pair.verify)
    assert verify.returncode == 0, verify.stderr
    assert "recomputed" in verify.stdout


async def test_sigkill_of_the_leader_mid_burst_loses_and_doubles_nothing(pair: Pair) -> None:
    clerk, clients = await seated(pair)
    acked: dict[str, dict[str, Any]] = {}
    first = asyncio.Event()

    async def vote(i: int, seat: str, client: Client) -> None:
        acked[seat] = await client.cast("b1", choice(i), key=f"k-{seat}", timeout=60)
        first.set()

    burst = asyncio.gather(*(vote(i, seat, c) for i, (seat, c) in enumerate(clients)))
    await first.wait()
    os.kill(pair.proc("a").pid, signal.SIGKILL)
    await asyncio.to_thread(pair.proc("a").wait)
    await burst  # the library re-sends unacknowledged casts to whoever leads now
    assert await asyncio.to_thread(pair.leader_becomes, "b") == "b"
    assert len(acked) == SEATS
    await finish(pair, clerk, clients, acked)


async def test_a_leader_stalled_beyond_its_lease_is_fenced(pair: Pair) -> None:
    clerk, clients = await seated(pair)
    creds = pair.creds()
    half = SEATS // 2
    acked: dict[str, dict[str, Any]] = {}
    for i, (seat, c) in enumerate(clients[:half]):
        acked[seat] = await c.cast("b1", choice(i), key=f"k-{seat}")
    # a seat connected straight to the old leader, whose vote arrives while it is stopped
    late_seat, _ = clients[half]
    direct = await websockets.connect(f"ws://127.0.0.1:{pair.port('a')}/ws", close_timeout=1)
    await direct.send(json.dumps({"type": "hello", "token": creds["seats"][late_seat]["token"]}))
    assert json.loads(await direct.recv())["type"] == "welcome"
    a = pair.proc("a")
    os.kill(a.pid, signal.SIGSTOP)
    try:
        await direct.send(
            json.dumps({"type": "cast", "id": "late", "ballot": "b1", "choice": choice(half), "key": "k-late"})
        )
        await asyncio.to_thread(wait_for, lambda: ready(pair.port("b")) == 200, "b to take over", 30)
        for i, (seat, c) in enumerate(clients[half:], start=half):
            if seat != late_seat:
                acked[seat] = await c.cast("b1", choice(i), key=f"k-{seat}", timeout=60)
    finally:
        os.kill(a.pid, signal.SIGCONT)
    # woken, the old leader finds another epoch: it commits nothing and ends, to come back as a standby
    assert await asyncio.to_thread(a.wait, 30) == STEPPED_DOWN
    log = (pair.tmp / "a.log").read_text()
    assert "no longer leading" in log
    with pytest.raises(websockets.ConnectionClosed):
        while True:  # the late cast is never acknowledged by the fenced leader
            reply = json.loads(await asyncio.wait_for(direct.recv(), 30))
            assert not (reply["type"] == "ack" and reply.get("re") == "late"), reply
    # the seat votes again through the proxy (another key: its first cast was never acknowledged)
    _, late_client = clients[half]
    acked[late_seat] = await late_client.cast("b1", choice(half), key=f"k-{late_seat}", timeout=60)
    await finish(pair, clerk, clients, acked)


async def test_a_planned_step_down_during_an_open_ballot_loses_nothing(pair: Pair) -> None:
    """On a secret ballot: the new leader reads the encrypted urn with the escrowed keys of
    the shared data folder, and the tally counts every choice once."""
    clerk, clients = await seated(pair, "s1")
    acked: dict[str, dict[str, Any]] = {}

    async def vote(i: int, seat: str, client: Client) -> None:
        acked[seat] = await client.cast("s1", choice(i), key=f"k-{seat}", timeout=60)

    await asyncio.gather(*(vote(i, seat, c) for i, (seat, c) in enumerate(clients[:100])))
    burst = asyncio.gather(*(vote(i, seat, c) for i, (seat, c) in enumerate(clients[100:], start=100)))
    down = await asyncio.to_thread(
        subprocess.run,
        [*HEMICYCLE, "step-down", "--server", f"http://127.0.0.1:{pair.front}", "--token-file", str(pair.creds_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert down.returncode == 0, down.stderr
    assert await asyncio.to_thread(pair.proc("a").wait, 30) == STEPPED_DOWN
    await burst
    assert await asyncio.to_thread(pair.leader_becomes, "b") == "b"
    leader = await asyncio.to_thread(
        subprocess.run, [*HEMICYCLE, "leader", "--db", pair.db], capture_output=True, text=True, cwd=ROOT
    )
    assert leader.returncode == 0 and "leads (epoch 2)" in leader.stdout, leader.stdout + leader.stderr
    await finish(pair, clerk, clients, acked, "s1")


async def test_a_certificate_the_killed_leader_could_not_write_is_issued_once_by_the_new_leader(pair: Pair) -> None:
    """A ballot closed, its certificate not yet written (the certificates folder cannot be
    made: a file stands in its place, as a full or failing disk would), the leader SIGKILLed
    while it retries; the standby takes over and issues the certificate — once."""
    certificates = pair.data / "certificates"
    if certificates.is_dir():
        certificates.rmdir()  # no ballot has closed yet: it is empty
    certificates.write_text("not a folder: no certificate can be written here yet")
    creds = pair.creds()
    clerk = Client(pair.url, creds["clerk"]["token"], backoff=(0.05, 0.5))
    await clerk.connect(timeout=60)
    seats = [Client(pair.url, creds["seats"][s]["token"], backoff=(0.05, 0.5)) for s in sorted(creds["seats"])[:3]]
    try:
        for seat in seats:
            await seat.connect(timeout=60)
            await seat.check_in()
        await clerk.command("open_ballot", ballot="b1")
        for i, seat in enumerate(seats):
            await seat.cast("b1", choice(i), key=f"c-{i}")
        result = await close_and_count(clerk)
        assert result["voted"] == 3
        a_log = pair.tmp / "a.log"
        failed = "the certificate for b1 run 1 could not be written"
        await asyncio.to_thread(wait_for, lambda: failed in a_log.read_text(), "the leader to fail to write it", 60)
        os.kill(pair.proc("a").pid, signal.SIGKILL)
        await asyncio.to_thread(pair.proc("a").wait)
        certificates.unlink()  # the disk is writable again, for the new leader
        assert await asyncio.to_thread(pair.leader_becomes, "b") == "b"
        while True:
            _, event = await clerk.next_event("certificate.issued", timeout=60)
            if event["ballot"] == "b1":
                break
        assert "the certificate for b1 run 1 is missing: issuing it now" in (pair.tmp / "b.log").read_text()
        with psycopg.connect(pair.db) as conn:
            issued = conn.execute("SELECT body FROM events WHERE name = 'certificate.issued'").fetchall()
        assert [(b["ballot"], b["run"]) for b in (json.loads(row[0]) for row in issued)] == [("b1", 1)]
        pdfs = sorted(p.name for p in certificates.iterdir())
        assert len(pdfs) == 1 and pdfs[0].startswith("b1-") and pdfs[0].endswith("-r1.pdf"), pdfs
    finally:
        await asyncio.gather(clerk.close(), *(s.close() for s in seats))
    data = ["--data-dir", str(pair.data)]
    verify = await asyncio.to_thread(
        subprocess.run, [*HEMICYCLE, "verify", "--db", pair.db, *data], capture_output=True, text=True, cwd=ROOT
    )
    assert verify.returncode == 0 and "1 certificates match the record" in verify.stdout, verify.stdout + verify.stderr
    checked = await asyncio.to_thread(
        subprocess.run,
        [*HEMICYCLE, "verify-certificate", str(certificates / pdfs[0]), "--db", pair.db],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
