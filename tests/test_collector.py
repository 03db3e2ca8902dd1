"""The collector policy: off while a ballot is open, exactly as it was once it closes."""

from __future__ import annotations

import asyncio
import gc

from server.core import events as e
from server.live.collector import CollectorPolicy


async def test_collection_is_held_while_a_ballot_is_open_and_restored_after() -> None:
    assert gc.isenabled()
    threshold = gc.get_threshold()
    policy = CollectorPolicy()
    policy.TICK = 0.01
    try:
        policy(1, e.BallotOpened("b1", 1, 0.0))
        assert not gc.isenabled() and gc.get_freeze_count() > 0
        for _ in range(policy.QUIET_MIN + 1000):  # garbage in cycles: only a collection frees it
            loop_: list = []
            loop_.append(loop_)
        assert gc.get_count()[0] >= policy.QUIET_MIN  # ...and none ran yet
        # then a pause: the timer collects
        for _ in range(100):
            await asyncio.sleep(0.01)
            if gc.get_count()[0] < policy.QUIET_MIN:
                break
        assert gc.get_count()[0] < policy.QUIET_MIN
        policy(2, e.BallotClosed("b1", 1, 1.0, {}, ""))
        assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == threshold
    finally:
        policy.close()
        gc.unfreeze()
        gc.enable()


async def test_stopping_the_server_mid_ballot_gives_the_collector_back() -> None:
    policy = CollectorPolicy()
    policy(1, e.BallotOpened("b1", 1, 0.0))
    policy.close()
    assert gc.isenabled() and gc.get_freeze_count() == 0
