"""A 41-member sitting over a real uvicorn server and real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from terminal_client import Client, ServerError
from tests.support import LiveServer


async def seats_of(live: LiveServer, count: int) -> list[Client]:
    clients = [Client(live.url, live.seat_token(f"S{i:03d}")) for i in range(1, count + 1)]
    await asyncio.gather(*(c.connect() for c in clients))
    return clients


async def close_all(*groups: Any) -> None:
    for group in groups:
        for c in group if isinstance(group, list) else [group]:
            await c.close()


async def test_check_in_and_quorum_are_visible_to_the_clerk(live: LiveServer) -> None:
    clerk = Client(live.url, live.creds["clerk"]["token"])
    welcome = await clerk.connect()
    assert welcome["snapshot"]["summary"] == {
        "seated": 41,
        "present": 0,
        "leave": 0,
        "absent": 41,
        "quorum_met": False,
        "quorum_needed": 21,
    }
    seats = await seats_of(live, 21)
    await asyncio.gather(*(s.check_in() for s in seats[:20]))
    await clerk.command("set_attendance", member="m41", status="leave")
    again = Client(live.url, live.creds["clerk"]["token"])
    summary = (await again.connect())["snapshot"]["summary"]
    assert (summary["present"], summary["leave"], summary["quorum_met"]) == (20, 1, False)
    await seats[20].check_in()
    third = Client(live.url, live.creds["clerk"]["token"])
    summary = (await third.connect())["snapshot"]["summary"]
    assert (summary["present"], summary["quorum_met"]) == (21, True)
    await close_all(seats, clerk, again, third)


async def test_all_members_rule_passes_with_21_and_fails_with_20_of_30_present(live: LiveServer) -> None:
    clerk = Client(live.url, live.creds["clerk"]["token"])
    await clerk.connect()
    seats = await seats_of(live, 30)
    await asyncio.gather(*(s.check_in() for s in seats))
    verdicts = []
    for ballot, n_for in (("reg1", 21), ("reg2", 20)):
        await clerk.command("open_ballot", ballot=ballot)
        await asyncio.gather(*(s.cast(ballot, "for" if i < n_for else "against") for i, s in enumerate(seats)))
        await clerk.command("close_ballot", ballot=ballot)
        _, closed = await clerk.next_event("ballot.closed")
        result = closed["result"]
        assert (result["seated"], result["present"], result["voted"]) == (41, 30, 30)
        assert result["lines"][0]["counts"] == {"for": n_for, "against": 30 - n_for, "abstain": 0}
        verdicts.append(result["verdict"])
        await clerk.command("announce_ballot", ballot=ballot)
    assert verdicts == ["passed", "failed"]
    await close_all(seats, clerk)


async def test_a_dropped_display_resumes_without_missing_an_event(live: LiveServer) -> None:
    seen: dict[str, list[tuple[int, str]]] = {"steady": [], "flaky": []}

    def recorder(name: str) -> Any:
        def record(msg: dict[str, Any]) -> None:
            if msg["type"] == "event":
                seen[name].append((msg["seq"], msg["event"]["name"]))

        return record

    clerk = Client(live.url, live.creds["clerk"]["token"])
    steady = Client(live.url, live.creds["display"]["token"], on_message=recorder("steady"))
    flaky = Client(live.url, live.creds["display"]["token"], on_message=recorder("flaky"))
    await asyncio.gather(clerk.connect(), steady.connect(), flaky.connect())
    seats = await seats_of(live, 25)
    await asyncio.gather(*(s.check_in() for s in seats[:12]))
    await clerk.command("open_ballot", ballot="reg1")
    await asyncio.gather(*(s.cast("reg1", "for") for s in seats[:10]))
    await flaky.drop()  # network cut mid-ballot; it reconnects by itself
    await asyncio.gather(*(s.check_in() for s in seats[12:]))
    await asyncio.gather(*(s.cast("reg1", "against") for s in seats[10:]))
    await seats[0].check_out()
    await clerk.command("hold_ballot", ballot="reg1")
    await clerk.command("resume_ballot", ballot="reg1")
    await clerk.command("close_ballot", ballot="reg1")
    await steady.next_event("ballot.closed")
    _, closed = await flaky.next_event("ballot.closed", timeout=15)
    assert flaky.connections == 2 and flaky.welcome["resumed"] is True
    assert closed["result"]["lines"][0]["counts"] == {"for": 10, "against": 15, "abstain": 0}
    # the same events, in the same order, none missed, none doubled
    assert seen["flaky"] == seen["steady"]
    assert [name for _, name in seen["flaky"]].count("attendance.changed") == 26
    await close_all(seats, clerk, steady, flaky)


async def test_a_duplicate_cast_gets_the_same_ack_and_counts_once(live: LiveServer) -> None:
    clerk = Client(live.url, live.creds["clerk"]["token"])
    await clerk.connect()
    seats = await seats_of(live, 3)
    await asyncio.gather(*(s.check_in() for s in seats))
    await clerk.command("open_ballot", ballot="reg1")
    first = await seats[0].cast("reg1", "for", key="k-1")
    again = await seats[0].cast("reg1", "for", key="k-1")
    assert {k: first[k] for k in ("key", "seq", "status", "choice")} == {
        k: again[k] for k in ("key", "seq", "status", "choice")
    }
    await seats[1].cast("reg1", "against")
    await clerk.command("close_ballot", ballot="reg1")
    _, closed = await clerk.next_event("ballot.closed")
    assert closed["result"]["voted"] == 2
    assert closed["result"]["lines"][0]["counts"] == {"for": 1, "against": 1, "abstain": 0}
    await close_all(seats, clerk)


async def test_a_cast_after_close_is_refused_with_ballot_closed(live: LiveServer) -> None:
    clerk = Client(live.url, live.creds["clerk"]["token"])
    await clerk.connect()
    (seat,) = await seats_of(live, 1)
    await seat.check_in()
    await clerk.command("open_ballot", ballot="reg1")
    await clerk.command("close_ballot", ballot="reg1")
    try:
        await seat.cast("reg1", "for")
    except ServerError as exc:
        assert exc.code == "ballot_closed"
    else:
        raise AssertionError("a cast after close was accepted")
    await close_all([seat], clerk)


async def test_a_display_never_receives_a_secret_choice(live: LiveServer) -> None:
    received: list[str] = []
    async with websockets.connect(live.url) as display:
        await display.send(json.dumps({"type": "hello", "token": live.creds["display"]["token"]}))
        received.append(await display.recv())
        clerk = Client(live.url, live.creds["clerk"]["token"])
        await clerk.connect()
        seats = await seats_of(live, 12)
        await asyncio.gather(*(s.check_in() for s in seats))
        await clerk.command("open_ballot", ballot="secret1")
        choices = ["for"] * 7 + ["against"] * 3 + ["abstain"] * 2
        acks = await asyncio.gather(*(s.cast("secret1", ch) for s, ch in zip(seats, choices)))
        assert all("choice" not in a for a in acks)  # not even the ack repeats a secret choice
        while '"voted":12' not in received[-1].replace(" ", ""):  # coalesced progress reaches the display
            received.append(await asyncio.wait_for(display.recv(), 10))
        await clerk.command("close_ballot", ballot="secret1")
        while True:
            text = await asyncio.wait_for(display.recv(), 5)
            received.append(text)
            if '"ballot.closed"' in text:
                break
        await close_all(seats, clerk)
    messages = [json.loads(t) for t in received]
    assert not any(m.get("type") == "event" and m["event"]["name"] == "vote.cast" for m in messages)
    progress = [m for m in messages if m["type"] == "progress"]
    assert progress and all("live" not in p for p in progress)  # live counts hidden for this ballot
    assert progress[-1]["voted"] == 12
    assert not any('"choice"' in t for t in received)
    closed = messages[-1]["event"]
    assert closed["result"]["lines"][0]["counts"] == {"for": 7, "against": 3, "abstain": 2}


async def test_the_clerk_creates_ballots_during_the_sitting_and_a_further_election_round(tmp_path: Any) -> None:
    from tests.support import make_agenda, serving

    async with serving(tmp_path, make_agenda(5, ballots=[])) as srv:  # stopped even when an assertion fails
        clerk = Client(srv.url, srv.creds["clerk"]["token"])
        await clerk.connect()
        seats = await seats_of(srv, 5)
        await asyncio.gather(*(s.check_in() for s in seats))
        spec = {
            "id": "vc",
            "title": "补选副主任",
            "kind": "election",
            "seats": 1,
            "secret": True,
            "candidates": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}, {"id": "c", "name": "丙"}],
        }
        bad = {**spec, "id": "bad", "seats": 0}
        try:
            await clerk.command("create_ballot", item="item1", spec=bad)
        except ServerError as exc:
            assert exc.code == "invalid_ballot" and "seats" in exc.message
        else:
            raise AssertionError("an invalid ad hoc ballot was accepted")
        await clerk.command("create_ballot", item="item1", spec=spec)
        await clerk.command("open_ballot", ballot="vc")
        papers = (
            [{"a": "for", "b": "against", "c": "against"}] * 2
            + [{"a": "against", "b": "for", "c": "against"}] * 2
            + [{"a": "abstain", "b": "abstain", "c": "for"}]
        )
        await asyncio.gather(*(s.cast("vc", p) for s, p in zip(seats, papers)))
        await clerk.command("close_ballot", ballot="vc")
        _, closed = await clerk.next_event("ballot.closed")
        assert closed["result"]["verdict"] == "further_round_needed"
        await clerk.command("create_further_round", ballot="vc")
        _, created = await clerk.next_event("ballot.created")
        assert (
            created["ballot"]["id"] == "vc-r2"
            and created["ballot"]["round"] == 2
            and created["ballot"]["keypad"] is None
        )
        await clerk.command("open_ballot", ballot="vc-r2")
        await asyncio.gather(*(s.cast("vc-r2", {"a": "for"} if i < 3 else {"b": "for"}) for i, s in enumerate(seats)))
        await clerk.command("close_ballot", ballot="vc-r2")
        _, closed = await clerk.next_event("ballot.closed")
        assert closed["result"]["verdict"] == "elected" and closed["result"]["elected"] == ["a"]
        await close_all(seats, clerk)
