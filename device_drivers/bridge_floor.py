"""The floor on the keypads (protocol 1.1): the request key and the floor lamp.

The server sends the whole floor (every item's queue, the speaker) with each ``speaker.*``
event; the bridge keeps the latest and lights each unit's floor lamp from it — queued on
the current item, speaking, or off — sending only changes (the bus re-sends a lamp to a
unit that lost power, and sends none to a 1.0 unit, which has no such lamp). A press of the
request key asks to speak or, if the member is already waiting, withdraws the request: the
same key toggles, as on conference units. It is an audio system's cue too: docs/floor.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from device_drivers.bridge_outputs import Unit, UnitId
from device_drivers.bus import Line
from device_drivers.messages import FloorLamp


class FloorLamps:
    """The floor as the server reports it, and the lamp each unit should show."""

    def __init__(self, lines: Mapping[str, Line], units: Mapping[UnitId, Unit]) -> None:
        self.lines = lines
        self.units = units
        self.floor: dict[str, Any] = {"queues": {}, "speaker": None}
        self.current_item: str | None = None
        self.shown: dict[UnitId, FloorLamp] = {}

    def load(self, snapshot: Mapping[str, Any]) -> None:
        self.floor = dict(snapshot.get("floor") or {"queues": {}, "speaker": None})
        self.current_item = snapshot.get("current_item")
        self.refresh()

    def follow(self, event: Mapping[str, Any]) -> None:
        """Take in a server event; the lamps follow the floor and the current item."""
        name = event.get("name", "")
        if name.startswith("speaker.") and isinstance(event.get("floor"), dict):
            self.floor = event["floor"]
        elif name == "item.selected":
            self.current_item = event.get("item")
        else:
            return
        self.refresh()

    def queue(self) -> list[str]:
        """Members waiting on the current item, in order."""
        item = self.current_item
        return [r["member"] for r in self.floor.get("queues", {}).get(item, [])] if item else []

    def lamp(self, member: str | None) -> FloorLamp:
        speaker = self.floor.get("speaker")
        if member is None:
            return FloorLamp.OFF
        if speaker and speaker.get("member") == member:
            return FloorLamp.SPEAKING
        return FloorLamp.QUEUED if member in self.queue() else FloorLamp.OFF

    def refresh(self) -> None:
        """Send each unit whose lamp changed its new lamp — every unit, the first time: a
        1.1 unit enables its request key on its first SET_FLOOR (docs/keypad-protocol.md)."""
        for uid, unit in self.units.items():
            lamp = self.lamp(unit.member)
            if self.shown.get(uid) != lamp:
                self.lines[unit.line].set_floor(unit.address, lamp)
                self.shown[uid] = lamp

    def request_for(self, unit: Unit) -> dict[str, Any] | None:
        """What a press of the request key asks: to speak, to withdraw, or (speaking) nothing."""
        lamp = self.lamp(unit.member)
        if lamp is FloorLamp.SPEAKING:
            return None
        kind = "withdraw_floor" if lamp is FloorLamp.QUEUED else "request_floor"
        return {"type": kind, "seat": unit.seat}
