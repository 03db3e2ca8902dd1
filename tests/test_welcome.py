"""The welcome: pre-encoded parts give exactly the snapshot views.snapshot gives."""

from __future__ import annotations

import orjson

from server.core import commands as c
from server.core.views import snapshot
from server.edge.credentials import Identity
from server.edge.hub import Subscriber
from server.edge.welcome import WelcomeCache, welcome
from server.live.sitting import Sitting
from server.store.sql import SQLStore
from tests.support import make_agenda


def hello(sitting: Sitting, cache: WelcomeCache, identity: Identity, members: frozenset[str]) -> dict:
    got: list[str] = []

    async def send(text: str) -> None:
        got.append(text)

    async def close(code: int, reason: str = "") -> None:
        pass

    welcome(sitting, cache, Subscriber(identity.role, members, send, close), identity, None)
    assert len(got) == 1
    return orjson.loads(got[0])


async def test_cached_welcomes_equal_fresh_snapshots_as_the_state_moves(tmp_path) -> None:
    agenda = make_agenda(12, ballots=[{"id": "b1", "title": "B"}, {"id": "s1", "title": "S", "secret": True}])
    sitting = Sitting(SQLStore(str(tmp_path / "s.db")), agenda)
    await sitting.start()
    cache = WelcomeCache()
    seat = Identity("seat", "m01", agenda.members[0].seat)
    try:
        steps = [
            c.SetAttendance("m01", "present"),
            c.SetAttendance("m02", "present"),
            c.OpenBallot("s1"),
            c.Cast("m01", "s1", "for", "k1"),
            c.SetAttendance("m03", "leave", "clerk"),
        ]
        for step in [None, *steps]:
            if step is not None:
                await sitting.execute(step)
            for identity, members in (
                (seat, frozenset({"m01"})),
                (Identity("clerk"), frozenset()),
                (Identity("display"), frozenset()),
            ):
                msg = hello(sitting, cache, identity, members)
                fresh = orjson.loads(orjson.dumps(snapshot(sitting.meeting, identity.role, members)))
                assert msg["snapshot"] == fresh
                assert msg["seq"] == sitting.meeting.seq and msg["resumed"] is False
        # a seat's snapshot says its secret vote was recorded, never what it was
        mine = next(
            b for b in hello(sitting, cache, seat, frozenset({"m01"}))["snapshot"]["ballots"] if b["id"] == "s1"
        )["mine"]
        assert mine == {"m01": {"recorded": True}}
    finally:
        await sitting.stop()
        sitting.store.close()
