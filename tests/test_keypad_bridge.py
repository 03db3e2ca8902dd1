"""The keypad bridge end to end: simulated units on a real pty -> bus master -> bridge ->
a real server (uvicorn on an ephemeral port) -> the record.

Every test compares what the server recorded with what the simulated members pressed:
nothing lost, nothing invented, nothing counted twice, and for secret ballots nothing that
links a seat to its choice, neither in the bridge's log nor in the database file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from device_drivers.bridge_config import ConfigError, config_from_dict
from device_drivers.bridge_phase import fit_text, key_map
from device_drivers.bridge_presses import idempotency_key
from device_drivers.bus import Line
from device_drivers.events import KeyEvent
from device_drivers.messages import Key, Mode
from simulators.keypads import Faults
from terminal_client.client import Client
from tests.keypad_support import CHOICE, WAIT, final_counts, poll_cycles, press_script, rig, wait_for

# ---------------------------------------------------------------------------- end to end


async def test_forty_keypads_check_in_and_vote_a_motion(tmp_path: Path) -> None:
    async with rig(tmp_path, 40, seed=5) as r:
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        await wait_for(lambda: all(r.sim.state(a).text == "已签到" for a in r.sim.addresses), "已签到 on every unit")
        epoch = await r.open("reg1", bridge)
        state = r.sim.state(1)
        assert state.keys == {Key.FOR, Key.AGAINST, Key.ABSTAIN, Key.CHECK_IN} and not state.secret
        script = press_script(random.Random(7), r.sim.addresses)
        for address, key in script:
            assert r.sim.press(address, key)
        await wait_for(lambda: len(r.meeting.ballots["reg1"].voters) == 40, "40 votes")
        await r.all_acknowledged()
        # named ballot: the chosen key is lit, the "recorded" lamp on
        await wait_for(
            lambda: all(r.sim.state(a).lit == {k} and r.sim.state(a).recorded for a, k in script), "the chosen keys lit"
        )
        result = await r.close("reg1")
        assert result["lines"][0]["counts"] == final_counts(script)
        assert result["voted"] == 40
        casts = r.vote_casts("reg1")
        assert len(casts) == 40 and {c["member"] for c in casts} == {r.member(a) for a in r.sim.addresses}
        assert {(c["member"], c["choice"]) for c in casts} == {(r.member(a), CHOICE[k]) for a, k in script}
        # back to check-in mode with a new epoch; the lamps are off
        await r.units_in(Mode.CHECK_IN)
        assert r.sim.state(1).epoch != epoch and not r.sim.state(1).recorded
        assert bridge.stats["refused"] == 0 and bridge.stats["stale"] == 0


async def test_noisy_line_of_128_loses_invents_and_doubles_nothing(tmp_path: Path) -> None:
    faults = Faults(garble=0.05, lose_reply=0.02)
    async with rig(tmp_path, 128, faults=faults, seed=3) as r:
        r.sim.set_latency(17, 0.002)  # a slow unit, still inside the reply timeout
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        await r.open("chg", bridge)
        script = press_script(random.Random(11), r.sim.addresses, changes=True)
        for address, key in script:
            assert r.sim.press(address, key)
        await wait_for(lambda: len(r.vote_casts("chg")) >= len(script), f"{len(script)} casts")
        await r.all_acknowledged()
        result = await r.close("chg")
        assert result["lines"][0]["counts"] == final_counts(script)
        casts = r.vote_casts("chg")
        assert len(casts) == len(script)  # one recorded cast per press: none lost, none doubled
        assert [(c["member"], c["choice"]) for c in casts if c["member"] == "m42"] == [
            ("m42", CHOICE[k]) for a, k in script if a == 42
        ]
        stats = r.sim.stats
        assert stats.lost_replies > 0 and stats.garbled_replies > 0 and stats.garbled_requests > 0
        assert bridge.stats["refused"] == 0


async def test_silent_unit_is_reported_offline_and_back(tmp_path: Path) -> None:
    async with rig(tmp_path, 10, line={"offline_probe_interval": 0.05}) as r:
        await r.start_bridge()
        await wait_for(lambda: len(r.meeting.keypads) == 10 and all(r.meeting.keypads.values()), "all units online")
        r.sim.set_silent(6)
        await wait_for(lambda: r.meeting.keypads.get("S006") is False, "S006 reported offline")
        clerk2 = Client(r.srv.url, r.srv.creds["clerk"]["token"])
        await clerk2.connect()
        try:
            keypads = clerk2.snapshot["keypads"]
            assert keypads["S006"] is False and sum(keypads.values()) == 9
        finally:
            await clerk2.close()
        r.sim.set_silent(6, False)
        await wait_for(lambda: r.meeting.keypads.get("S006") is True, "S006 back online")
        statuses: list[bool] = []
        while statuses[-1:] != [True] or len(statuses) < 3:  # the clerk saw it come, go and come back
            _, event = await r.clerk.next_event("keypad.status", timeout=WAIT)
            if event["seat"] == "S006":
                statuses.append(event["online"])
        assert statuses == [True, False, True]


async def test_power_cycled_unit_does_not_replay_old_presses(tmp_path: Path) -> None:
    async with rig(tmp_path, 8) as r:
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        epoch = await r.open("chg", bridge)
        assert r.sim.press(5, Key.FOR)  # seq 2 of this boot (check-in was seq 1)
        await wait_for(lambda: len(r.vote_casts("chg")) == 1, "the first vote")
        await r.all_acknowledged()
        old_boot = r.sim.state(5).boot
        r.sim.power_cycle(5)
        await wait_for(
            lambda: r.sim.state(5).epoch == epoch and r.sim.state(5).mode is Mode.VOTE,
            "the unit's mode restored after the power cycle",
        )
        assert r.sim.state(5).boot != old_boot
        await poll_cycles(r.sim)  # nothing may be replayed
        assert len(r.vote_casts("chg")) == 1
        # new boot: seq numbers restart at 1, the second press reuses seq 2 - a different press
        assert r.sim.press(5, Key.AGAINST) and r.sim.press(5, Key.ABSTAIN)
        await wait_for(lambda: len(r.vote_casts("chg")) == 3, "the two new votes")
        await r.all_acknowledged()
        await poll_cycles(r.sim)
        result = await r.close("chg")
        assert result["lines"][0]["counts"] == {"for": 0, "against": 0, "abstain": 1}
        assert [c["choice"] for c in r.vote_casts("chg")] == ["for", "against", "abstain"]


async def test_secret_ballot_leaves_no_seat_choice_link_in_log_or_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with rig(tmp_path, 20, seed=9) as r:
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        await r.open("secret1", bridge)
        state = r.sim.state(3)
        assert state.secret
        script = press_script(random.Random(21), r.sim.addresses)
        caplog.clear()
        for address, key in script:
            assert r.sim.press(address, key)
        await wait_for(lambda: len(r.meeting.ballots["secret1"].voters) == 20, "20 secret votes")
        await r.all_acknowledged()
        await wait_for(lambda: all(r.sim.state(a).recorded for a in r.sim.addresses), "the recorded lamps")
        assert all(r.sim.state(a).lit == frozenset() for a in r.sim.addresses)  # never the chosen key
        result = await r.close("secret1")
        assert result["lines"][0]["counts"] == final_counts(script)
        records = list(caplog.records)

    # the bridge did log the presses (so the capture works) ...
    messages = [rec.getMessage() for rec in records]
    assert sum("secret ballot secret1" in m for m in messages) >= 40
    # ... but no line of any logger links a seat, member or unit to a choice
    choice_words = (
        "FOR",
        "AGAINST",
        "ABSTAIN",
        "against",
        "abstain",
        '"for"',
        "'for'",
        "赞成",
        "反对",
        "弃权",
        "choice",
    )
    for rec, message in zip(records, messages):
        text = message + (rec.exc_text or "")
        assert not any(w in text for w in choice_words), f"{rec.name}: {message}"
    # the database file: vote.cast of the secret ballot carries no choice; the urn no member
    with contextlib.closing(sqlite3.connect(r.srv.db)) as db:
        casts = [json.loads(b) for (b,) in db.execute("SELECT body FROM events WHERE name = 'vote.cast'")]
        urn_columns = [row[1] for row in db.execute("PRAGMA table_info(urn)")]
        urn = db.execute("SELECT * FROM urn WHERE ballot = 'secret1'").fetchall()
        bodies = " ".join(b for (b,) in db.execute("SELECT body FROM events"))
    casts = [c.get("data", c) for c in casts if c.get("data", c).get("ballot") == "secret1"]
    assert len(casts) == 20 and all(c["choice"] is None for c in casts)
    assert set(urn_columns) == {"entry", "ballot", "run", "choice"} and len(urn) == 20
    members = {r.member(a) for a in r.sim.addresses} | {r.seat(a) for a in r.sim.addresses}
    for row in urn:
        assert not any(str(value) in members for value in row)
        assert row[urn_columns.index("entry")] not in bodies  # no event points at an urn entry
    assert Counter(json.loads(row[urn_columns.index("choice")]) for row in urn) == Counter(CHOICE[k] for _, k in script)


async def test_bridge_restart_mid_vote_loses_and_doubles_nothing(tmp_path: Path) -> None:
    async with rig(tmp_path, 40, seed=13) as r:
        first = await r.start_bridge()
        await r.check_in_all(first)
        await r.open("reg1", first)
        script = press_script(random.Random(17), r.sim.addresses)
        before, after = script[:20], script[20:]
        # The first bridge gets every vote acknowledged by the server but dies before it
        # confirms any of them to the bus: the units still hold those presses.
        first._confirm = lambda event: None  # type: ignore[method-assign]
        for address, key in before:
            assert r.sim.press(address, key)
        await wait_for(lambda: len(r.meeting.ballots["reg1"].voters) == 20, "20 acknowledged votes")
        await r.stop_bridge(first)
        assert sum(r.sim.state(a).queued for a, _ in before) == 20
        for address, key in after:  # members keep voting while no bridge runs
            assert r.sim.press(address, key)
        second = await r.start_bridge()
        await wait_for(lambda: len(r.meeting.ballots["reg1"].voters) == 40, "40 votes")
        await r.all_acknowledged()
        await poll_cycles(r.sim)  # the re-sent presses had their chance to be counted twice
        assert len(r.vote_casts("reg1")) == 40
        assert second.stats["casts"] == 40 and second.stats["refused"] == 0  # 20 re-sent, answered once
        result = await r.close("reg1")
        assert result["lines"][0]["counts"] == final_counts(script)


async def test_ballots_keypads_cannot_vote_and_ballot_lifecycle(tmp_path: Path) -> None:
    async with rig(tmp_path, 6, language="en") as r:
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        # a score ballot needs more than three keys: idle, with a text sending members to the tablet
        await r.clerk.command("open_ballot", ballot="sc")
        await wait_for(lambda: bridge.phase is not None and bridge.phase.ballot == "sc", "the score ballot")
        await r.units_in(Mode.IDLE, bridge.phase.epoch)
        await wait_for(lambda: r.sim.state(1).text == "Please vote on your tablet", "the tablet text")
        await r.close("sc")
        # a one-subject evaluation: the three keys send the three grades
        await r.open("sat", bridge)
        assert r.sim.press(1, Key.FOR) and r.sim.press(2, Key.ABSTAIN)
        await wait_for(lambda: len(r.meeting.ballots["sat"].voters) == 2, "two grades")
        # hold: idle, resume: vote again with the same epoch, lamps restored
        epoch = bridge.phase.epoch
        await r.clerk.command("hold_ballot", ballot="sat")
        await r.units_in(Mode.IDLE)
        await wait_for(lambda: r.sim.state(1).text == "Voting on hold", "the hold text")
        assert not r.sim.press(3, Key.FOR)
        await r.clerk.command("resume_ballot", ballot="sat")
        await r.units_in(Mode.VOTE, epoch)
        await wait_for(lambda: r.sim.state(1).recorded and r.sim.state(2).recorded, "lamps after resume")
        # a member who is not checked in is told so, and the press is not retried
        await r.clerk.command("set_attendance", member="m04", status="absent")
        assert r.sim.press(4, Key.AGAINST)
        await wait_for(lambda: r.sim.state(4).text == "Check in first", "the refusal on the unit")
        await r.all_acknowledged()
        result = await r.close("sat")
        assert result["lines"][0]["counts"] == {"satisfied": 1, "basically_satisfied": 0, "dissatisfied": 1}
        assert bridge.stats["refused"] == 1


async def test_card_slot_seat_votes_only_with_its_members_card(tmp_path: Path) -> None:
    cards = {"04A1B2C3": "m01", "04A1B2C4": "m02"}
    async with rig(tmp_path, 3, language="en", cards=cards, line={"card_readers": True}) as r:
        bridge = await r.start_bridge()
        await r.units_in(Mode.CHECK_IN)
        assert r.sim.press(1, Key.CHECK_IN)  # no card: refused, and not retried
        await wait_for(lambda: r.sim.state(1).text == "Insert your own card", "the card request")
        assert r.meeting.attendance["m01"] == "absent"
        assert r.sim.insert_card(1, bytes.fromhex("04a1b2c4"))  # m02's card in m01's seat
        await wait_for(lambda: r.sim.state(1).text == "Not this seat's card", "the wrong-card text")
        assert r.sim.remove_card(1) and r.sim.insert_card(1, bytes.fromhex("04a1b2c3"))
        await wait_for(lambda: r.meeting.attendance["m01"] == "present", "check-in by card")
        await r.open("reg1", bridge)
        assert r.sim.press(1, Key.FOR)
        await wait_for(lambda: len(r.meeting.ballots["reg1"].voters) == 1, "the card holder's vote")
        assert r.sim.remove_card(1)
        await r.all_acknowledged()
        assert r.sim.press(1, Key.AGAINST)  # card gone: the seat's keys no longer vote
        await wait_for(lambda: r.sim.state(1).text == "Insert your own card", "the card request")
        await r.all_acknowledged()
        result = await r.close("reg1")
        assert result["lines"][0]["counts"] == {"for": 1, "against": 0, "abstain": 0}


# ---------------------------------------------------------------------------- pieces


def test_idempotency_key_is_the_press_identity() -> None:
    a = KeyEvent("east", 7, 0x0102, 5, 42, Key.FOR)
    assert idempotency_key(a) == idempotency_key(KeyEvent("east", 7, 0x0102, 5, 42, Key.FOR))
    assert idempotency_key(a) != idempotency_key(KeyEvent("east", 7, 0x0103, 5, 42, Key.FOR))
    assert idempotency_key(a) != idempotency_key(KeyEvent("west", 7, 0x0102, 5, 42, Key.FOR))
    assert len(idempotency_key(KeyEvent("x" * 80, 7, 1, 5, 42, Key.FOR))) <= 64


def test_key_map_and_display_text() -> None:
    assert key_map(["for", "against"]) == {Key.FOR: "for", Key.AGAINST: "against"}
    assert key_map(["for", "abstain"]) == {Key.FOR: "for", Key.ABSTAIN: "abstain"}
    assert key_map(["satisfied", "basically_satisfied", "dissatisfied"]) == {
        Key.FOR: "satisfied",
        Key.AGAINST: "basically_satisfied",
        Key.ABSTAIN: "dissatisfied",
    }
    text = fit_text("表决：" + "很长的标题" * 10)
    assert len(text.encode()) <= 64 and text.startswith("表决：")


def test_config_lists_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(
            {
                "lines": [{"url": "", "baud": -1, "units": {"0": "S001"}, "card_readers": True, "colour": "red"}],
                "cards": 5,
            }
        )
    text = " ".join(info.value.problems)
    for fragment in ("token", "url", "baud", "address must be", "card readers need", "colour", "cards"):
        assert fragment in text
    with pytest.raises(ConfigError) as info:
        config_from_dict(
            {
                "token": "t",
                "lines": [
                    {"url": "/dev/ttyUSB0", "baud": 7, "latency_allowance": 2, "offline_after": 0},
                    {"url": "rfc2217://10.0.0.20:4001", "rs485": {}, "offline_probe_interval": 0},
                ],
            }
        )
    assert sorted(info.value.problems) == [
        "lines[0].baud: must be a standard rate: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, "
        "460800, 921600",
        "lines[0].latency_allowance: must be 0 to 0.5 seconds",
        "lines[0].offline_after: must be 1 to 50 exchanges",
        "lines[1].offline_probe_interval: must be 0.01 to 60 seconds",
        "lines[1].rs485: applies to a local port only: set RS-485 mode on the serial server itself",
    ]
    network = config_from_dict(
        {
            "token": "t",
            "lines": [
                {"url": "rfc2217://10.0.0.20:4001", "baud": 57600},
                {"name": "far", "url": "socket://10.0.0.21:4001", "latency_allowance": 0.05},
                {"name": "usb", "url": "/dev/ttyUSB0"},
            ],
        }
    )
    timings = [Line(s.name, s.url, [1], print, s.line_config()).timing for s in network.lines]
    assert [(t.baudrate, t.latency_allowance) for t in timings] == [(57600, 0.015), (115200, 0.05), (115200, 0.003)]
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"device": {"token": "tok"}}))
    config = config_from_dict(
        {
            "credentials": "credentials.json",
            "cards": {"04:a1:b2:c3": "m01"},
            "lines": [
                {"url": "/dev/null", "units": "agenda", "first_address": 3, "count": 2},
                {"name": "west", "url": "/dev/null", "units": {"1": "S009"}},
            ],
        },
        base_dir=tmp_path,
    )
    assert config.device_token() == "tok"
    assert config.card_members() == {"04A1B2C3": "m01"}
    seats = [f"S{i:03d}" for i in range(1, 11)]
    assert config.resolve_units(seats) == {"line1": {3: "S001", 4: "S002"}, "west": {1: "S009"}}
    with pytest.raises(ConfigError, match="also served"):
        config.resolve_units(["S009", "S002"])
