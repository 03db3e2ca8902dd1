"""Keypad lines behind a network serial server, end to end: simulated units on a real pty
-> a real RFC 2217 server (pyserial's own ``serial.rfc2217.PortManager``) or a raw TCP one
-> ``rfc2217://`` / ``socket://`` -> bus master -> bridge -> a real server -> the record.

What the clerk and the members would notice: the tallies equal what was pressed, whatever
the serial server does (restarted mid-vote, refusing the baud rate, a stalled network);
the clerk gets one notice per line with its reason, not a marker per keypad without a
cause; the keypads answer again within two poll cycles of the line's return.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from device_drivers.bridge import Bridge
from device_drivers.messages import Key
from tests.keypad_support import CHOICE, Rig, final_counts, press_script, rig, wait_for

UNITS = 12


def line_state(r: Rig) -> dict | None:
    """The line as the server (and so the clerk's console) knows it."""
    return r.meeting.keypad_lines.get("L1")


def seats_all_online(r: Rig) -> bool:
    """No seat of the line marked offline on its own: a line outage is one notice."""
    return all(r.meeting.keypads.get(r.seat(a)) is not False for a in r.sim.addresses)


async def keypads_back(r: Rig, bridge: Bridge) -> None:
    """The clerk sees the line back, and every unit answered within two poll cycles."""
    line = bridge.line("L1")
    await wait_for(lambda: (line_state(r) or {}).get("online") is True, "the line reported back")
    await wait_for(lambda: line.stats.returned_in is not None, "every unit to answer again")
    assert line.stats.returned_in <= 2, f"units back after {line.stats.returned_in} poll cycles"


async def vote_in_two_halves(r: Rig, bridge: Bridge, seed: int, between) -> None:  # type: ignore[no-untyped-def]
    """Half the members vote, ``between`` happens (members keep pressing), the rest vote;
    then the record must equal the script: nothing lost, nothing doubled."""
    await r.check_in_all(bridge)
    await r.open("chg", bridge)
    script = press_script(random.Random(seed), r.sim.addresses, changes=True)
    half = len(script) // 2
    for address, key in script[:half]:
        assert r.sim.press(address, key)
    await wait_for(lambda: len(r.vote_casts("chg")) >= half // 2, "some votes before the fault")
    await between(script[half:])
    await wait_for(lambda: len(r.vote_casts("chg")) >= len(script), f"{len(script)} casts")
    await r.all_acknowledged()
    result = await r.close("chg")
    assert result["lines"][0]["counts"] == final_counts(script)
    casts = r.vote_casts("chg")
    assert len(casts) == len(script)  # one recorded cast per press: none lost, none doubled
    assert [(c["member"], c["choice"]) for c in casts if c["member"] == "m05"] == [
        ("m05", CHOICE[k]) for a, k in script if a == 5
    ]
    assert bridge.stats["refused"] == 0


@pytest.mark.parametrize("serve", ["rfc2217", "raw"])
async def test_check_in_and_vote_over_a_network_serial_server(tmp_path: Path, serve: str) -> None:
    async with rig(tmp_path, 30, seed=4, serve=serve) as r:
        bridge = await r.start_bridge()
        assert bridge.line("L1").url.startswith("rfc2217://" if serve == "rfc2217" else "socket://")
        await r.check_in_all(bridge)
        await r.open("reg1", bridge)
        script = press_script(random.Random(9), r.sim.addresses)
        for address, key in script:
            assert r.sim.press(address, key)
        await wait_for(lambda: len(r.meeting.ballots["reg1"].voters) == 30, "30 votes")
        await r.all_acknowledged()
        await wait_for(lambda: all(r.sim.state(a).lit == {k} for a, k in script), "the chosen keys lit")
        result = await r.close("reg1")
        assert result["lines"][0]["counts"] == final_counts(script)
        assert len(r.vote_casts("reg1")) == 30
        assert line_state(r) == {"online": True, "reason": "", "detail": "", "seats": [r.seat(a) for a in range(1, 31)]}
        stats = bridge.line("L1").stats
        await wait_for(lambda: stats.transactions > 1000, "a thousand exchanges")
        assert r.box is not None and r.box.stats.connections == 1
        if serve == "rfc2217":
            # Settings are negotiated once per connection, and no exchange costs a round
            # trip to the serial server: the purges are the two of pyserial's open().
            assert r.box.stats.baud_requests == 1 and r.box.stats.purges == 2


async def test_serial_server_restarted_mid_vote(tmp_path: Path) -> None:
    async with rig(tmp_path, UNITS, seed=6, serve="rfc2217") as r:
        bridge = await r.start_bridge()
        assert r.box is not None
        box = r.box

        async def restart(rest: list[tuple[int, Key]]) -> None:
            box.stop()  # the box loses power: the connection drops, reconnecting is refused
            await wait_for(lambda: (line_state(r) or {}).get("online") is False, "the line reported down")
            assert line_state(r)["reason"] == "port_failed" and line_state(r)["detail"]
            assert seats_all_online(r)  # one line notice, not a keypad marker per seat
            for address, key in rest:  # members keep voting while the line is down
                assert r.sim.press(address, key)
            box.start()
            await keypads_back(r, bridge)

        await vote_in_two_halves(r, bridge, 21, restart)
        assert box.stats.connections >= 2 and seats_all_online(r)


async def test_refused_baud_rate_during_reconnect(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="device_drivers")
    async with rig(tmp_path, UNITS, seed=8, serve="rfc2217") as r:
        bridge = await r.start_bridge()
        assert r.box is not None
        box = r.box

        async def refuse(rest: list[tuple[int, Key]]) -> None:
            box.stop()
            box.max_baud = 57600  # the box comes back configured for at most 57600 Bd
            box.start()
            await wait_for(
                lambda: (line_state(r) or {}).get("reason") == "setting_refused", "the refusal reported with its reason"
            )
            assert "baudrate" in line_state(r)["detail"] and not line_state(r)["online"]
            for address, key in rest:
                assert r.sim.press(address, key)
            refused = box.stats.refused
            await wait_for(lambda: box.stats.refused >= refused + 2, "the line retrying")
            box.max_baud = None  # the installer fixes the box
            await keypads_back(r, bridge)

        await vote_in_two_halves(r, bridge, 22, refuse)
        assert seats_all_online(r)
    # one log line per change of state, not one per retry
    changes = [rec for rec in caplog.records if rec.name == "device_drivers.line_state" and rec.levelno >= logging.INFO]
    text = [rec.getMessage() for rec in changes]
    assert any("line L1 down" in t for t in text) and any("baudrate" in t for t in text) and "line L1 back" in text
    assert len(text) <= 5, text


async def test_network_stall_is_one_line_notice_and_loses_nothing(tmp_path: Path) -> None:
    async with rig(tmp_path, UNITS, seed=10, serve="raw") as r:
        bridge = await r.start_bridge()
        assert r.box is not None
        box = r.box

        async def stall(rest: list[tuple[int, Key]]) -> None:
            box.stall()  # bytes are held both ways, as TCP holds them, and delivered late
            await wait_for(lambda: (line_state(r) or {}).get("reason") == "no_answer", "the silent line reported")
            assert seats_all_online(r)
            for address, key in rest:
                assert r.sim.press(address, key)
            box.resume()
            await keypads_back(r, bridge)

        await vote_in_two_halves(r, bridge, 23, stall)
        assert box.stats.connections == 1  # the connection survived the stall
