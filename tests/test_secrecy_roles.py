"""No role learns who chose what in a secret ballot: not the clerk, a wall, a keypad bridge
serving every seat, a member's tablet, nor that member's second connection.

The test is one of indistinguishability: two sittings in which the same members vote at
the same moments, ending with the same counts, but with the choices dealt out differently
between them. Everything each role can be sent — the snapshot at every step (what a new or
second connection gets), every event as that role receives it, live progress, and the
snapshot after a restart — must be byte for byte the same in both. If any choice were
reachable from a member id anywhere in what leaves the core, the two streams would differ.
The same harness on a named ballot does tell them apart, so it would catch a leak.
"""

from __future__ import annotations

import json
from typing import Any

from server.core import commands as c
from server.core.views import progress, snapshot, visible_event
from tests.test_meeting import Sim, members, motion, sim

VOTERS = members(1, 4)
# (member, first choice, changed to) — A and B end with the same counts: 2 against, 1 for, 1 abstain
DEALS = {
    "A": [("m01", "for", "against"), ("m02", "against", None), ("m03", "abstain", None), ("m04", "for", None)],
    "B": [("m01", "against", "for"), ("m02", "abstain", None), ("m03", "against", None), ("m04", "against", None)],
}
AUDIENCES: list[tuple[str, tuple[str, ...]]] = [
    ("clerk", ()),
    ("display", ()),
    ("device", tuple(VOTERS)),  # a keypad bridge serving every seat
    *[("seat", (m,)) for m in VOTERS],  # each member's tablet — and any second connection of it
]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def everything_sent(deal: str, secret: bool, reveal: str = "on_close") -> list[str]:
    """What every audience can be sent over a whole ballot, as canonical text, in order."""
    s = sim(6, [motion("b", secret=secret, live_counts=False, reveal=reveal)])
    s.present(*VOTERS)
    out: list[str] = []

    def step(events: list) -> None:
        for role, speaks_for in AUDIENCES:
            for ev in events:
                out.append(canonical((role, speaks_for, visible_event(ev, role, speaks_for, s.meeting))))
            out.append(canonical((role, speaks_for, snapshot(s.meeting, role, speaks_for))))
        out.append(canonical(progress(s.meeting, s.meeting.ballots["b"])))

    step(s.do(c.OpenBallot("b")))
    for member, first, _ in DEALS[deal]:
        step(s.cast(member, "b", first))
    for member, _, changed in DEALS[deal]:
        if changed is not None:
            step(s.cast(member, "b", changed))
    restarted = s.replay()
    out += [canonical((role, who, snapshot(restarted, role, who))) for role, who in AUDIENCES]
    step(s.do(c.CloseBallot("b")))
    if reveal == "on_announce":
        step(s.do(c.AnnounceBallot("b")))
    return out


def first_difference(a: list[str], b: list[str]) -> str | None:
    for x, y in zip(a, b, strict=True):
        if x != y:
            return f"{x}\n   vs\n{y}"
    return None


def test_every_role_receives_the_same_whoever_chose_what_in_a_secret_ballot() -> None:
    for reveal in ("on_close", "on_announce"):
        a, b = everything_sent("A", True, reveal), everything_sent("B", True, reveal)
        assert len(a) == len(b) > 100
        assert first_difference(a, b) is None


def test_the_same_harness_tells_a_named_ballot_apart() -> None:
    a, b = everything_sent("A", False), everything_sent("B", False)
    assert first_difference(a, b) is not None


def test_a_tablet_and_a_keypad_bridge_see_only_recorded_for_a_secret_vote() -> None:
    s: Sim = sim(4, [motion("b", secret=True, live_counts=False)])
    s.present(*VOTERS)
    s.do(c.OpenBallot("b"))
    s.cast("m01", "b", "for")
    for role, who in (("seat", ("m01",)), ("device", tuple(VOTERS))):
        (view,) = snapshot(s.meeting, role, who)["ballots"]
        assert view["mine"] == {"m01": {"recorded": True}}
