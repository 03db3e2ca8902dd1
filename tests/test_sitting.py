"""The live sitting over a real SQLite store: replay, group commit, idempotent casts, failures, countdowns."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import Agenda
from server.core.audit import audit
from server.core.errors import CommandError
from server.core.views import snapshot
from server.live.sitting import Sitting, Unavailable
from server.store.base import Batch, StoredLog
from server.store.sql import SQLStore
from tests.support import make_agenda

HANG_GUARD = 20  # seconds: only to turn a hang into a failure, never a speed requirement

BALLOTS = [
    {"id": "named", "title": "Named motion"},
    {"id": "secret", "title": "Secret motion", "secret": True},
    {"id": "timed", "title": "Timed motion", "countdown": 60},
]


class Clock:
    """Real time shifted by ``offset``: a test can jump ahead without waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class FlakyStore(SQLStore):
    """Fails the next ``fail_commits`` commits; while ``down`` every call fails."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.fail_commits = 0
        self.down = False

    def commit(self, batch: Batch) -> None:
        if self.down or self.fail_commits:
            self.fail_commits = max(0, self.fail_commits - 1)
            raise OSError("the disk went away")
        super().commit(batch)

    def load(self) -> StoredLog:
        if self.down:
            raise OSError("the disk went away")
        return super().load()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "sitting.db")


@pytest.fixture
def agenda() -> Agenda:
    return make_agenda(60, ballots=BALLOTS)


@pytest.fixture
async def opened(db: str) -> AsyncIterator[Callable[..., Any]]:
    """Start sittings; every one started is stopped (and its store closed) at the end."""
    running: list[Sitting] = []

    async def start(agenda: Agenda, store: SQLStore | None = None, clock: Callable[[], float] = time.time) -> Sitting:
        sitting = Sitting(store or SQLStore(db), agenda, clock=clock)
        await asyncio.wait_for(sitting.start(), HANG_GUARD)
        running.append(sitting)
        return sitting

    yield start
    for sitting in running:
        await stop(sitting)


async def stop(sitting: Sitting) -> None:
    if getattr(sitting, "_stopped", False):
        return
    sitting._stopped = True  # type: ignore[attr-defined]
    await asyncio.wait_for(sitting.stop(), HANG_GUARD)
    sitting.store.close()


async def run(sitting: Sitting, command: c.Command) -> Any:
    return await asyncio.wait_for(sitting.execute(command), HANG_GUARD)


async def check_in(sitting: Sitting, *members: str) -> None:
    await asyncio.gather(*(run(sitting, c.SetAttendance(m, "present")) for m in members))


def mids(n: int, start: int = 1) -> list[str]:
    return [f"m{i:02d}" for i in range(start, start + n)]


def stored_events(store: SQLStore) -> list[dict[str, Any]]:
    return [json.loads(entry.body) for entry in store.load().entries]


def counts(sitting: Sitting, ballot: str) -> dict[str, int]:
    run_ = sitting.meeting.ballots[ballot]
    return sitting.meeting.tally(run_)["lines"][0]["counts"]


async def until(predicate: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), HANG_GUARD)


# -- restart is replay -----------------------------------------------------------------------------


async def test_a_restarted_sitting_reaches_the_same_state(db: str, agenda: Agenda, opened: Callable) -> None:
    first = await opened(agenda)
    await check_in(first, *mids(12))
    await run(first, c.SetAttendance("m13", "leave", by="clerk"))
    await run(first, c.OpenBallot("named"))
    for i, m in enumerate(mids(12)):
        await run(first, c.Cast(m, "named", ("for", "against", "abstain")[i % 3], f"k-{m}"))
    await run(first, c.CloseBallot("named"))
    await run(first, c.AnnounceBallot("named"))
    await run(first, c.OpenBallot("secret"))
    for m in mids(7):
        await run(first, c.Cast(m, "secret", "for", f"s-{m}"))
    await run(first, c.Cast("m01", "secret", "against", "s-m01-change"))
    await run(first, c.VoidBallot("secret", reason="a keypad row was dead"))
    await run(first, c.OpenBallot("secret"))
    for m in mids(3):
        await run(first, c.Cast(m, "secret", "abstain", f"s2-{m}"))
    before = {role: snapshot(first.meeting, role, ["m01"]) for role in ("clerk", "seat", "display")}
    tallies = (first.meeting.tally(first.meeting.ballots["secret"]), first.meeting.tally(first.meeting.history[0]))
    history = [(seq, e.to_data(ev)) for seq, ev in first.history]
    await stop(first)

    # the agenda file changed meanwhile: the sitting on record wins
    second = await opened(make_agenda(5, ballots=[{"id": "other", "title": "Other"}]))
    assert len(second.meeting.agenda.members) == 60
    after = {role: snapshot(second.meeting, role, ["m01"]) for role in ("clerk", "seat", "display")}
    assert after["clerk"] == before["clerk"] and after["display"] == before["display"]
    assert [(seq, e.to_data(ev)) for seq, ev in second.history] == history
    assert (
        second.meeting.tally(second.meeting.ballots["secret"]),
        second.meeting.tally(second.meeting.history[0]),
    ) == tallies
    # the seat's own secret choice was only ever in memory: after a restart it is just "recorded"
    mine = next(b for b in after["seat"]["ballots"] if b["id"] == "secret")["mine"]
    assert mine == {"m01": {"recorded": True}}
    with pytest.raises(CommandError) as info:
        await run(second, c.Cast("m01", "secret", "for", "s2-m01-change"))
    assert info.value.code == "vote_locked"
    await run(second, c.Cast("m04", "secret", "against", "s2-m04"))
    await run(second, c.CloseBallot("secret"))
    result = second.meeting.ballots["secret"].result
    assert result["lines"][0]["counts"] == {"for": 0, "against": 1, "abstain": 3}
    store = second.store
    report = audit(
        store.load().entries, [(u.ballot, u.run, u.choice) for u in store.load().urn], store.load_participation()
    )
    assert report.ok, [str(p) for p in report.problems]


# -- group commit and idempotency -------------------------------------------------------------------------


async def test_concurrent_casts_share_commits_and_are_all_acknowledged(agenda: Agenda, opened: Callable) -> None:
    sitting = await opened(agenda)
    voters = mids(60)
    await check_in(sitting, *voters)
    await run(sitting, c.OpenBallot("named"))
    commits = sitting.writer.commits
    outcomes = await asyncio.gather(
        *(run(sitting, c.Cast(m, "named", "for" if i % 4 else "against", f"k-{m}")) for i, m in enumerate(voters))
    )
    assert sitting.writer.commits - commits < len(voters)
    assert all(o.receipt is not None and o.receipt.ballot == "named" for o in outcomes)
    assert len({o.receipt.seq for o in outcomes}) == 60
    assert counts(sitting, "named") == {"for": 45, "against": 15, "abstain": 0}
    assert len(sitting.store.load_participation()) == 60
    assert sum(1 for d in stored_events(sitting.store) if d["name"] == "vote.cast") == 60


@pytest.mark.parametrize("ballot", ["named", "secret"])
async def test_a_resent_cast_gets_the_same_acknowledgement_and_counts_once(
    ballot: str, agenda: Agenda, opened: Callable
) -> None:
    sitting = await opened(agenda)
    await check_in(sitting, "m01", "m02")
    await run(sitting, c.OpenBallot(ballot))
    first = await run(sitting, c.Cast("m01", ballot, "for", "key-1"))
    again = await run(sitting, c.Cast("m01", ballot, "against", "key-1"))  # a resend, whatever it says
    assert again.receipt == first.receipt and again.events == []
    # a resend racing the original is answered the same way
    both = await asyncio.gather(
        run(sitting, c.Cast("m02", ballot, "for", "key-2")), run(sitting, c.Cast("m02", ballot, "for", "key-2"))
    )
    assert both[0].receipt == both[1].receipt
    assert counts(sitting, ballot) == {"for": 2, "against": 0, "abstain": 0}
    assert sum(1 for d in stored_events(sitting.store) if d["name"] == "vote.cast") == 2
    assert len(sitting.store.load().urn) == (2 if ballot == "secret" else 0)


# -- a store that fails ------------------------------------------------------------------------------


async def test_a_failed_commit_is_unavailable_leaves_no_trace_and_the_next_command_works(
    db: str, agenda: Agenda, opened: Callable
) -> None:
    store = FlakyStore(db)
    sitting = await opened(agenda, store)
    published: list[str] = []
    sitting.subscribe(lambda seq, ev, origin=None: published.append(ev.NAME))
    await check_in(sitting, "m01", "m02", "m03")
    await run(sitting, c.OpenBallot("secret"))
    await run(sitting, c.Cast("m01", "secret", "for", "k1"))
    published.clear()

    store.fail_commits = 1
    with pytest.raises(Unavailable):
        await run(sitting, c.Cast("m02", "secret", "against", "k2"))
    run_ = sitting.meeting.ballots["secret"]
    assert run_.voters == {"m01"} and list(run_.urn.values()) == ["for"]
    assert ("m02", "k2") not in sitting.meeting.keys
    assert [d["member"] for d in stored_events(store) if d["name"] == "vote.cast"] == ["m01"]
    assert len(store.load().urn) == 1 and len(store.load_participation()) == 1
    assert published == []  # nobody was told about a vote that was not recorded

    store.fail_commits = 1
    with pytest.raises(Unavailable):
        await run(sitting, c.SetAttendance("m04", "present"))
    assert sitting.meeting.attendance["m04"] == "absent"

    retry = await run(sitting, c.Cast("m02", "secret", "against", "k2"))  # the member tries again
    assert retry.receipt is not None and published == ["vote.cast"]
    await run(sitting, c.SetAttendance("m04", "present"))
    await run(sitting, c.CloseBallot("secret"))
    assert sitting.meeting.ballots["secret"].result["lines"][0]["counts"] == {"for": 1, "against": 1, "abstain": 0}
    stored = store.load()
    report = audit(stored.entries, [(u.ballot, u.run, u.choice) for u in stored.urn], store.load_participation())
    assert report.ok, [str(p) for p in report.problems]


async def test_while_the_store_is_down_commands_are_unavailable_and_work_again_after(
    db: str, agenda: Agenda, opened: Callable
) -> None:
    store = FlakyStore(db)
    sitting = await opened(agenda, store)
    await check_in(sitting, "m01", "m02")
    await run(sitting, c.OpenBallot("named"))
    store.down = True
    with pytest.raises(Unavailable):
        await run(sitting, c.Cast("m01", "named", "for", "k1"))
    with pytest.raises(Unavailable):
        await run(sitting, c.Cast("m02", "named", "for", "k2"))
    store.down = False
    await run(sitting, c.Cast("m02", "named", "against", "k2b"))
    assert sitting.meeting.ballots["named"].voters == {"m02"}  # m01's vote was never recorded
    assert counts(sitting, "named") == {"for": 0, "against": 1, "abstain": 0}
    await run(sitting, c.Cast("m01", "named", "for", "k1"))
    assert counts(sitting, "named") == {"for": 1, "against": 1, "abstain": 0}


# -- countdowns ------------------------------------------------------------------------------------


async def test_a_countdown_ballot_closes_itself_and_a_hold_stops_the_clock(agenda: Agenda, opened: Callable) -> None:
    clock = Clock()
    sitting = await opened(agenda, clock=clock)
    await check_in(sitting, "m01", "m02")
    await run(sitting, c.OpenBallot("timed", countdown=5))
    await run(sitting, c.Cast("m01", "timed", "for", "k1"))
    clock.offset += 4.9  # nearly all of the five seconds go by
    await run(sitting, c.HoldBallot("timed"))
    clock.offset += 3600  # a long hold: the countdown must not run meanwhile
    assert sitting.meeting.ballots["timed"].remaining < 0.2  # not the five seconds it opened with
    await run(sitting, c.ResumeBallot("timed"))  # the last tenth of a second runs out on its own
    await until(lambda: sitting.meeting.ballots["timed"].status == "closed")
    assert sitting.meeting.ballots["timed"].result["lines"][0]["counts"]["for"] == 1
    with pytest.raises(CommandError) as info:
        await run(sitting, c.Cast("m02", "timed", "for", "k2"))
    assert info.value.code == "ballot_closed"
    await sitting.durable(sitting.ledger.seq)  # the close is applied before it is committed
    assert [d["name"] for d in stored_events(sitting.store)][-1] == "ballot.closed"


async def test_a_countdown_that_ran_out_while_the_server_was_down_closes_on_restart(
    agenda: Agenda, opened: Callable
) -> None:
    clock = Clock()
    first = await opened(agenda, clock=clock)
    await check_in(first, "m01", "m02")
    await run(first, c.OpenBallot("timed"))  # the agenda's 60 seconds
    await run(first, c.Cast("m01", "timed", "against", "k1"))
    await stop(first)
    clock.offset += 120
    second = await opened(agenda, clock=clock)
    await until(lambda: second.meeting.ballots["timed"].status == "closed")
    result = second.meeting.ballots["timed"].result
    assert (result["voted"], result["lines"][0]["counts"]["against"]) == (1, 1)
