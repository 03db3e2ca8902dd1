"""The request key through the simulator and the bridge (keypad protocol 1.1).

Simulated units on a real pty, the real bus master and bridge, a real server: a member
presses the request key and is queued on the current item; the unit's floor lamp shows
queued, then speaking when the clerk gives the floor, then off; the same key withdraws a
waiting request; a 1.0 unit on the same line gets no floor command and keeps working.
"""

from __future__ import annotations

from pathlib import Path

from device_drivers.messages import FloorLamp, Key, Mode
from tests.keypad_support import rig, wait_for


def queue(r, item: str = "item1") -> list[str]:  # type: ignore[no-untyped-def]
    return [q.member for q in r.meeting.floor.queue(item)]


async def test_request_key_queues_lights_the_lamp_and_withdraws(tmp_path: Path) -> None:
    async with rig(tmp_path, 4) as r:
        r.sim.set_protocol(4, 0)  # a 1.0 unit: no request key, no floor lamp
        bridge = await r.start_bridge()
        await r.check_in_all(bridge)
        # a press of the request key, in check-in mode, once the bridge enabled the key
        await wait_for(lambda: r.sim.press(2, Key.REQUEST), "unit 2's request key to work")
        await wait_for(lambda: queue(r) == ["m02"], "m02 queued by keypad")
        await wait_for(lambda: r.sim.state(2).floor is FloorLamp.QUEUED, "unit 2's lamp to show queued")
        await wait_for(lambda: r.sim.state(2).text == "已申请发言", "unit 2 to say the request was sent")
        assert r.sim.press(3, Key.REQUEST)
        await wait_for(lambda: queue(r) == ["m02", "m03"], "m03 queued after m02")
        # the clerk gives the floor: unit 2 shows speaking, unit 3 still queued
        await r.clerk.command("grant_floor")
        await wait_for(lambda: r.sim.state(2).floor is FloorLamp.SPEAKING, "unit 2's lamp to show speaking")
        assert r.sim.state(3).floor is FloorLamp.QUEUED
        # the request key toggles: unit 3 withdraws
        assert r.sim.press(3, Key.REQUEST)
        await wait_for(lambda: queue(r) == [], "m03's request withdrawn")
        await wait_for(lambda: r.sim.state(3).floor is FloorLamp.OFF, "unit 3's lamp off")
        # a press while speaking asks nothing
        assert r.sim.press(2, Key.REQUEST)
        await r.all_acknowledged()
        assert queue(r) == [] and r.meeting.floor.speaker is not None
        await r.clerk.command("end_floor")
        await wait_for(lambda: r.sim.state(2).floor is FloorLamp.OFF, "unit 2's lamp off after the speech")
        # the lamp survives a ballot opening (a new epoch blanks only the vote lamps)
        assert r.sim.press(1, Key.REQUEST)
        await wait_for(lambda: r.sim.state(1).floor is FloorLamp.QUEUED, "unit 1 queued")
        await r.open("reg1", bridge)
        await r.units_in(Mode.VOTE)
        assert r.sim.state(1).floor is FloorLamp.QUEUED
        # the 1.0 unit: its request key does nothing, and it still votes
        assert not r.sim.press(4, Key.REQUEST)
        assert r.sim.press(4, Key.FOR)
        await wait_for(lambda: "m04" in r.meeting.ballots["reg1"].voters, "the 1.0 unit's vote")
        # the clerk queues the 1.0 unit's member: the master learns from STATUS that the
        # unit has no floor lamp and sends it none (the unit would refuse the command)
        await r.clerk.command("add_speaker", member="m04")
        await wait_for(lambda: bridge.line("L1")._units[4].protocol == 0, "the master to read unit 4's version")
        assert r.sim.state(4).floor is FloorLamp.OFF
        assert not bridge.line("L1")._units[4].has_work()
        assert bridge.stats.get("floor") == 4  # m02, m03, m03 withdrawing, m01


def test_a_unit_enables_its_request_key_on_the_first_set_floor_only() -> None:
    from device_drivers.messages import Done, Nak, SetFloor, StatusReply, StatusRequest
    from simulators.keypads.unit import VirtualUnit

    unit = VirtualUnit(5)
    assert not unit.press(Key.REQUEST)  # no master has shown it reads 1.1 events
    assert isinstance(unit.handle(SetFloor(5, FloorLamp.OFF)), Done)
    assert unit.press(Key.REQUEST)
    unit.power_cycle()
    assert unit.floor is FloorLamp.OFF and not unit.press(Key.REQUEST)
    reply = unit.handle(StatusRequest(5))
    assert isinstance(reply, StatusReply) and reply.protocol == 1
    old = VirtualUnit(6, protocol=0)
    assert isinstance(old.handle(SetFloor(6, FloorLamp.QUEUED)), Nak)
    assert not old.press(Key.REQUEST)
    reply = old.handle(StatusRequest(6))
    assert isinstance(reply, StatusReply) and reply.protocol == 0
