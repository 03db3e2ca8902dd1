"""Leadership and fencing on the real PostgreSQL (server/store/leadership.py).

A leader whose lock is gone (its session ended, as PostgreSQL does to a process silent
beyond the lease) must never commit again once another server has taken over, even if
it wakes up in the middle of a commit; a standby follows the log as it is written.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from server.core.agenda import agenda_from_dict
from server.core.chain import GENESIS, LogEntry
from server.core.ledger import Ledger
from server.core.meeting import Meeting
from server.live.fast_json import canonical_fast
from server.live.follower import Follower
from server.store.base import Batch
from server.store.leadership import Fenced, Leadership, libpq_url
from server.store.sql import SQLStore
from tests.standby_support import wait_for
from tests.support import agenda_data
from tests.support_pg import pg_url, reset  # noqa: F401 - pg_url is a fixture

pytestmark = pytest.mark.postgres


def entry(seq: int) -> LogEntry:
    return LogEntry(seq, "note", "{}", GENESIS, f"{seq:064x}")


def lock_sessions(url: str) -> list[int]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'hemicycle-lock' AND datname = current_database()"
        ).fetchall()
    return [r[0] for r in rows]


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.fixture
def store(pg_url: str) -> Any:  # noqa: F811
    reset(pg_url)
    store = SQLStore(pg_url)
    yield store
    store.close()


def test_one_leader_at_a_time_and_each_takeover_bumps_the_epoch(store: SQLStore, pg_url: str) -> None:  # noqa: F811
    first, second = Leadership(pg_url, name="first"), Leadership(pg_url, name="second")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert Leadership.current(pg_url) == (1, "first", True)
        first.release()
        assert second.try_acquire()
        assert Leadership.current(pg_url) == (2, "second", True)
    finally:
        first.release()
        second.release()
    assert Leadership.current(pg_url) == (2, "second", False)


def test_a_leader_that_lost_its_lock_is_fenced_and_steps_down(store: SQLStore, pg_url: str) -> None:  # noqa: F811
    old, new = Leadership(pg_url, lease=30, name="old"), Leadership(pg_url, name="new")
    why: list[str] = []
    old.on_lost = why.append
    store.fence = old.fence
    try:
        assert old.try_acquire()
        store.commit(Batch([entry(1)]))
        # the old leader's session is ended (as idle_session_timeout does to a stalled process)
        # but its heartbeat has not noticed yet: a standby takes over
        for pid in lock_sessions(pg_url):
            terminate(pg_url, pid)
        assert new.try_acquire()
        with pytest.raises(Fenced):
            store.commit(Batch([entry(2)]))
        assert why and "fenced" in why[0]
        assert [e.seq for e in store.load().entries] == [1], "a fenced commit wrote nothing"
        new_store = SQLStore(pg_url)
        new_store.fence = new.fence
        new_store.commit(Batch([entry(2)]))  # the new leader carries on
        new_store.close()
    finally:
        old.release()
        new.release()


def test_a_takeover_waits_for_a_commit_already_past_the_fence(store: SQLStore, pg_url: str) -> None:  # noqa: F811
    """The epoch is read FOR SHARE: a commit that passed the check finishes before the bump,
    so the new leader's tail read sees it; nothing is committed under a stale epoch after."""
    old, new = Leadership(pg_url, lease=30, name="old"), Leadership(pg_url, name="new")
    inside, release = threading.Event(), threading.Event()

    def slow_fence(conn: Any) -> None:
        old.fence(conn)
        inside.set()
        release.wait(10)

    store.fence = slow_fence
    try:
        assert old.try_acquire()
        committing = threading.Thread(target=store.commit, args=(Batch([entry(1)]),))
        committing.start()
        assert inside.wait(10)
        old.release()  # the lock is free, but the commit holds the epoch row
        taking = threading.Thread(target=new.try_acquire)
        taking.start()
        taking.join(0.5)
        assert taking.is_alive(), "the epoch bump waits for the commit in progress"
        release.set()
        committing.join(10)
        taking.join(10)
        assert new.epoch == 2
        assert [e.seq for e in store.load().entries] == [1]
    finally:
        release.set()
        old.release()
        new.release()


def test_a_standby_follows_the_log_and_takes_over_with_the_tail(store: SQLStore, pg_url: str) -> None:  # noqa: F811
    leader, standby = Leadership(pg_url, name="leader"), Leadership(pg_url, lease=30, name="standby")
    assert leader.try_acquire()
    store.fence = leader.fence
    follower = Follower(store, standby, poll=0.05)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(follower.wait_to_lead()))
    try:
        thread.start()
        agenda = agenda_from_dict(agenda_data(5), "test")
        ledger = Ledger(encode=canonical_fast)
        batch = Batch()
        list(ledger.write(Meeting.opening_events(agenda, 1.0), batch))
        store.commit(batch)
        wait_for(lambda: follower.seq == len(batch.entries), "the standby to fold the new entries", 10)
        assert follower.seq == len(batch.entries), "the standby folded what the leader committed"
        assert thread.is_alive(), "it stands by while the leader holds the lock"
        leader.release()
        thread.join(10)
        meeting, hashes, history = result[0]
        assert meeting is not None and len(hashes) == len(history) == follower.seq
        assert standby.epoch == 2
    finally:
        follower.stop.set()
        thread.join(10)
        leader.release()
        standby.release()
