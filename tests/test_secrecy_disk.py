"""The attack on the files: members vote one at a time in a secret ballot, the ballot is
closed, the server stopped, and an attacker reads everything on disk — the SQLite file and
its WAL; on PostgreSQL, as a superuser, the urn rows' ``ctid`` and ``xmin``, every tuple
``pageinspect`` finds on the urn's pages, the raw pages and the WAL segments written during
the ballot — and tries to pair what it finds with the casting order and the voters'
transaction ids. It must do no better than chance (tests/secrecy_attack.py).

While the ballot is open (a copy of the files taken at any moment, which is also what a
crash leaves), the files hold no readable choice at all.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import psycopg
import pytest

from server.core import commands as c
from server.live.sitting import Sitting
from server.store.sql import SQLStore
from tests.secrecy_attack import (
    CHOICE,
    OPTIONS,
    RankVerdict,
    attack_sqlite,
    cast_order,
    orderings,
    pad,
    score_images,
    sqlite_files,
    urn_images,
    verdict_for,
    xid_links,
)
from tests.support import make_agenda
from tests.support_pg import pg_url, reset  # noqa: F401 - pg_url is a fixture

BALLOT = "sec"
SCORES = "scores"  # a secret score ballot in which every member gives a different score
GUARD = 60


def agenda(n: int) -> Any:
    return make_agenda(
        n,
        ballots=[
            {"id": "named", "title": "Named"},
            {"id": BALLOT, "title": "Secret", "secret": True, "live_counts": False},
            {
                "id": SCORES,
                "title": "Scores",
                "kind": "score",
                "subjects": [{"id": "duty", "title": "D", "min": 0, "max": 1000}],
            },
        ],
    )


async def secret_ballot(
    store: SQLStore, n: int, seed: int, *, burst: bool = False, during: Any = None, ballot: str = BALLOT
) -> dict[str, Any]:
    """Run a sitting's secret ballot on ``store``: ``n`` members vote one at a time (each vote
    its own commit) or all at once (``burst``: one commit); returns who chose what, in the
    order they voted. In the score ballot every choice is unique, so the test (never the
    attacker) knows whose each stored row is."""
    sitting = Sitting(store, agenda(n))
    await asyncio.wait_for(sitting.start(), GUARD)
    rng = random.Random(seed)
    members = [m.id for m in sitting.meeting.agenda.voting_members]
    for m in members:
        await sitting.execute(c.SetAttendance(m, "present"))
    await sitting.execute(c.OpenBallot("named"))  # a named ballot first: the log is not all the secret one
    for m in members[:5]:
        await sitting.execute(c.Cast(m, "named", "for", f"n-{m}"))
    await sitting.execute(c.CloseBallot("named"))
    await sitting.execute(c.OpenBallot(ballot))
    rng.shuffle(members)
    if ballot == SCORES:
        truth: dict[str, Any] = dict(zip(members, rng.sample(range(1001), len(members)), strict=True))
    else:
        truth = {m: rng.choice(OPTIONS) for m in members}
    if burst:
        await asyncio.wait_for(
            asyncio.gather(*(sitting.submit(c.Cast(m, ballot, truth[m], f"k-{m}")) for m in members)), GUARD
        )
    else:
        for i, m in enumerate(members):
            await sitting.execute(c.Cast(m, ballot, truth[m], f"k-{m}"))
            if during is not None and i == len(members) // 2:
                during()
    await sitting.execute(c.CloseBallot(ballot))
    await asyncio.wait_for(sitting.stop(), GUARD)  # the seal runs on the writer thread before it stops
    store.close()
    return truth


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- SQLite ---------------------------------------------------------------------------------------


def assert_nothing_readable_while_open(db: Path, copy: Path) -> None:
    """A copy of the files taken mid-ballot (what a crash or a thief gets): no choice to read."""
    for suffix in ("", "-wal"):
        if db.with_name(db.name + suffix).exists():
            shutil.copyfile(db.with_name(db.name + suffix), copy.with_name(copy.name + suffix))
    assert urn_images(sqlite_files(copy), BALLOT) == []
    conn = sqlite3.connect(copy)
    try:
        choices = [row[0] for row in conn.execute("SELECT choice FROM urn WHERE ballot = ?", (BALLOT,))]
    finally:
        conn.close()
    assert choices and all(ch.startswith("enc1:") for ch in choices)
    assert len({len(ch) for ch in choices}) == 1  # fixed size: a length says nothing either


@pytest.mark.parametrize(("n", "burst"), [(41, False), (100, False), (100, True)])
async def test_sqlite_files_at_rest_pair_members_with_choices_no_better_than_chance(
    tmp_path: Path, n: int, burst: bool
) -> None:
    db = tmp_path / "s.db"
    during = None if burst else (lambda: assert_nothing_readable_while_open(db, tmp_path / "copy.db"))
    truth = await secret_ballot(SQLStore(str(db)), n, seed=n, burst=burst, during=during)
    blob = sqlite_files(db)
    wal = db.with_name("s.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # after the seal the WAL holds nothing of the ballot
    assert len(urn_images(blob, BALLOT)) == n  # the live rows only: no stale copy anywhere
    verdict = attack_sqlite(blob, BALLOT, cast_order(db, BALLOT), truth)
    print(verdict)
    assert verdict.ok, verdict
    assert list((tmp_path / "escrow").iterdir()) == []  # the key is destroyed
    assert mode(db) == 0o600 and mode(tmp_path / "escrow") == 0o700


@pytest.mark.parametrize("n", [41, 100])
async def test_sqlite_rows_place_does_not_follow_casting_order(tmp_path: Path, n: int) -> None:
    db = tmp_path / "s.db"
    truth = await secret_ballot(SQLStore(str(db)), n, seed=n, ballot=SCORES)
    whose = {str(score): member for member, score in truth.items()}
    cast_rank = {member: i for i, member in enumerate(truth)}
    images = score_images(sqlite_files(db), SCORES)
    assert sorted(score for _, score in images) == sorted(whose)
    verdict = RankVerdict(n)
    for name, places in orderings(images):
        verdict.consider(name, [whose[p] for p in places], cast_rank)
    print(verdict)
    assert verdict.ok, verdict


# -- PostgreSQL -----------------------------------------------------------------------------------


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def ctid(text: str) -> tuple[int, int]:
    block, item = text.strip("()").split(",")
    return int(block), int(item)


def wal_since(conn: psycopg.Connection, start_lsn: str) -> bytes:
    """The WAL segments written since ``start_lsn``, read as a superuser reads them."""
    first = conn.execute("SELECT pg_walfile_name(%s::pg_lsn)", (start_lsn,)).fetchone()[0]
    last = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]
    names = sorted(r[0] for r in conn.execute("SELECT name FROM pg_ls_waldir()") if first <= r[0] <= last)
    return b"".join(
        conn.execute("SELECT pg_read_binary_file('pg_wal/' || %s)", (name,)).fetchone()[0] for name in names
    )


@pytest.mark.postgres
@pytest.mark.parametrize("n", [41, 100])
async def test_postgresql_pages_xmin_and_wal_pair_members_with_choices_no_better_than_chance(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
    n: int,
) -> None:
    reset(pg_url)
    with admin(pg_url) as conn:
        start = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    truth = await secret_ballot(SQLStore(pg_url, tmp_path / "escrow"), n, seed=n)
    with admin(pg_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        voters = {
            int(xid): member
            for member, xid in conn.execute(
                "SELECT member, xmin::text FROM participation WHERE ballot = %s", (BALLOT,)
            ).fetchall()
        }
        assert len(voters) == n  # one commit per vote: each voter has a transaction of their own
        live = conn.execute("SELECT ctid::text, xmin::text, choice FROM urn WHERE ballot = %s", (BALLOT,)).fetchall()
        assert len(live) == n and len({xmin for _, xmin, _ in live}) == 1  # every clear row written by one transaction
        assert not {int(xmin) for _, xmin, _ in live} & set(voters)
        blocks = conn.execute("SELECT pg_relation_size('urn') / 8192").fetchone()[0]
        tuples, pages = [], []
        for block in range(blocks):
            pages.append(conn.execute("SELECT get_raw_page('urn', %s)", (block,)).fetchone()[0])
            tuples += conn.execute(
                "SELECT t_xmin::text, t_data FROM heap_page_items(get_raw_page('urn', %s))", (block,)
            ).fetchall()
        wal = wal_since(conn, start)
    order = list(truth)  # the casting order (the attacker reads it from the log)
    want = [truth[m] for m in order]
    verdict = verdict_for(want)

    by_place = [choice.strip('"') for _, _, choice in sorted(live, key=lambda row: ctid(row[0]))]
    verdict.consider("ctid", pad(by_place, n), want)
    verdict.consider("ctid, descending", pad(reversed(by_place), n), want)
    links: dict[str, str] = {}
    for xmin, data in tuples:  # every tuple on the pages, dead ones included, by its xmin
        member = voters.get(int(xmin)) if xmin else None
        found = CHOICE.search(bytes(data or b"")) if member else None
        if member and found:
            links[member] = found.group(1).decode()
    for blob in (b"".join(bytes(p) for p in pages), wal):
        for member, choice in xid_links(blob, voters, reach=160).items():
            links.setdefault(member, choice)
    verdict.links = len(links)
    verdict.consider("transaction ids (pages, pageinspect, WAL)", [links.get(m) for m in order], want)
    print(verdict)
    assert verdict.ok, verdict
    assert list((tmp_path / "escrow").iterdir()) == []


@pytest.mark.postgres
async def test_postgresql_rows_place_does_not_follow_casting_order(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    reset(pg_url)
    truth = await secret_ballot(SQLStore(pg_url, tmp_path / "escrow"), 100, seed=7, ballot=SCORES)
    whose = {str(score): member for member, score in truth.items()}
    with admin(pg_url) as conn:
        rows = conn.execute("SELECT ctid::text, choice FROM urn WHERE ballot = %s", (SCORES,)).fetchall()
    placed = [str(json.loads(choice)["duty"]) for _, choice in sorted(rows, key=lambda row: ctid(row[0]))]
    verdict = RankVerdict(100)
    cast_rank = {member: i for i, member in enumerate(truth)}
    for name, places in (("ctid", placed), ("ctid, descending", placed[::-1])):
        verdict.consider(name, [whose[p] for p in places], cast_rank)
    print(verdict)
    assert verdict.ok, verdict
