"""The keypad bridge: RS-485 keypad lines on one side, the Hemicycle server on the other.

It is a client of the WebSocket protocol in the ``device`` role (docs/protocol.md) and the
consumer of the bus master (device_drivers/bus.py). Behaviour: docs/keypads.md. This
module is the wiring and the lifecycle; the rules live beside it:

* ``bridge_phase`` - the sitting as the server reports it -> what every keypad should do
  (mode, keys, epoch, text). Pure.
* ``bridge_outputs`` - modes, texts and lamps written to the units.
* ``bridge_presses`` - presses and cards -> casts and check-ins, exactly once.
* here - connecting, following the server's events, pumping the bus's events from the
  line threads onto the event loop, and reporting units that go offline or come back
  (``keypad_status``) and whole lines that go down or come back (``keypad_line``: one
  notice with its reason and seats, instead of a marker per unit without a cause).

Secrecy: the bridge keeps the ``websockets`` loggers at INFO or above, because their DEBUG
output prints frames (a cast names its seat and choice); the line threads' sink never
raises, because the bus would then log the event's repr, which names its key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from device_drivers.bridge_config import BridgeConfig
from device_drivers.bridge_floor import FloorLamps
from device_drivers.bridge_outputs import Unit, UnitId, UnitOutputs, keypad_texts
from device_drivers.bridge_phase import Phase, SittingPhases
from device_drivers.bridge_presses import RETRY_CODES, Presses
from device_drivers.bus import BusMaster, Line
from device_drivers.events import (
    BusEvent,
    CardEvent,
    InputEvent,
    KeyEvent,
    LineDown,
    LineUp,
    UnitOffline,
    UnitOnline,
    UnitRebooted,
)
from terminal_client.client import Client, ConnectionLost, ServerError

log = logging.getLogger("hemicycle.keypads")

MAX_IN_FLIGHT = 200
"""Casts, check-ins and status reports outstanding at once (the server allows 256 per connection)."""
MAX_DETAIL = 200
"""Characters of a line's error text sent to the server (the protocol's limit)."""

LineReport = tuple[bool, str, str]
"""(online, reason code, detail) of a whole line, as the ``keypad_line`` message says it."""


class Bridge:
    """Runs the keypad lines of one configuration against one server."""

    def __init__(
        self,
        config: BridgeConfig,
        server: str | Sequence[str] | None = None,
        *,
        token: str | None = None,
        cast_timeout: float = 10.0,
    ) -> None:
        self.config = config
        given = [server] if isinstance(server, str) else list(server or ())
        # several URLs (a leader and its standbys; commas or repeated --server): tried in turn
        self.servers = [u.strip() for s in (given or [config.server or ""]) for u in s.split(",") if u.strip()]
        if not self.servers:
            raise ValueError("no server URL: pass --server or set `server` in the configuration")
        self.server: str = ", ".join(self.servers)
        self.token = token or config.device_token()
        self.cast_timeout = cast_timeout
        self.client: Client | None = None
        self.master: BusMaster | None = None
        self.units: dict[UnitId, Unit] = {}
        self.by_seat: dict[str, Unit] = {}
        self.sitting = SittingPhases(checkin=config.checkin, texts=keypad_texts("zh-CN"))
        self.outputs: UnitOutputs | None = None
        self.presses: Presses | None = None
        self.floor: FloorLamps | None = None
        self.stats = {"casts": 0, "check_ins": 0, "refused": 0, "stale": 0, "retries": 0}
        self._liveness: dict[str, bool] = {}
        self._reported: dict[str, bool] = {}
        self._line_state: dict[str, LineReport] = {}
        self._line_reported: dict[str, LineReport] = {}
        self._line_seats: dict[str, list[str]] = {}
        self._status_dirty = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._bus_events: asyncio.Queue[BusEvent] = asyncio.Queue()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def phase(self) -> Phase | None:
        """What the keypads are doing now."""
        return self.sitting.phase

    @property
    def accepting(self) -> Phase | None:
        """The vote phase of the most recently opened ballot: presses with its epoch are sent."""
        return self.sitting.accepting

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        quiet_wire_loggers()
        self._loop = asyncio.get_running_loop()
        self.client = Client(self.servers, self.token)
        welcome = await self.client.connect()
        if not self.client.events.empty():
            self.client.events.get_nowait()  # the welcome's snapshot, read just below
        if welcome.get("role") != "device":
            await self.client.close()
            raise ValueError(f"the token is for a {welcome.get('role')!r}, not a keypad bridge (device)")
        snapshot = self.client.snapshot or {}
        try:
            card_members = self.config.card_members(snapshot.get("cards"))
        except Exception:
            await self.client.close()
            raise
        self._load_snapshot(snapshot)
        members = snapshot.get("members", [])
        seat_member = {m["seat"]: m["id"] for m in members}
        mapping = self.config.resolve_units([m["seat"] for m in members])
        self.master = BusMaster(self._sink)
        for spec in self.config.lines:
            addresses = mapping[spec.name]
            self._line_seats[spec.name] = [addresses[a] for a in sorted(addresses)]
            for address, seat in addresses.items():
                unit = Unit(spec.name, address, seat, seat_member.get(seat), spec.card_readers)
                self.units[unit.uid] = unit
                self.by_seat[seat] = unit
            self.master.add_line(spec.name, spec.url, addresses, spec.line_config())
        self.outputs = UnitOutputs(self.master.lines, self.sitting.texts)
        self.floor = FloorLamps(self.master.lines, self.units)
        self.presses = Presses(
            client=self.client,
            units=self.units,
            sitting=self.sitting,
            outputs=self.outputs,
            # looked up on every call, so that wrapping Bridge._confirm (tests, bench) takes effect
            confirm=lambda event: self._confirm(event),
            card_members=card_members,
            card_checks_in=self.config.card_checks_in,
            in_flight=self._in_flight,
            cast_timeout=self.cast_timeout,
            stats=self.stats,
            floor=self.floor,
        )
        self._start_afresh(snapshot)
        try:
            self.master.start()
        except Exception:
            await self.stop()
            raise
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump(), name="keypad-bus-events"),
            loop.create_task(self._follow(), name="keypad-server-events"),
            loop.create_task(self._report_status(), name="keypad-status"),
        ]
        log.info(
            "keypad bridge started: %d lines, %d units, server %s", len(self.config.lines), len(self.units), self.server
        )

    async def stop(self) -> None:
        """Stop polling and disconnect. Presses in flight stay on their units (unconfirmed)
        and are delivered again, with the same identity, to the next bridge."""
        self._stopping = True
        tasks = [*self._tasks, *(self.presses.workers() if self.presses is not None else ())]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []
        if self.master is not None:
            await asyncio.to_thread(self.master.stop)
        if self.client is not None:
            await self.client.close()
        log.info("keypad bridge stopped")

    async def __aenter__(self) -> Bridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def line(self, name: str) -> Line:
        assert self.master is not None
        return self.master.lines[name]

    # ------------------------------------------------------------------ bus side

    def _sink(self, event: BusEvent) -> None:
        """Called from line threads. Never raises: the bus would log the event's repr,
        and a key event's repr names its key."""
        loop = self._loop
        if loop is None or self._stopping:
            return
        try:
            loop.call_soon_threadsafe(self._bus_events.put_nowait, event)
        except RuntimeError:
            pass  # the loop is closing; the unit keeps the unconfirmed press

    async def _pump(self) -> None:
        assert self.presses is not None
        while True:
            event = await self._bus_events.get()
            if isinstance(event, (KeyEvent, CardEvent)):
                if (event.line, event.address) in self.units:
                    self.presses.submit(event)
            elif isinstance(event, (UnitOnline, UnitOffline)):
                unit = self.units.get((event.line, event.address))
                if unit is not None:
                    online = isinstance(event, UnitOnline)
                    log.log(
                        logging.INFO if not online or self._liveness.get(unit.seat) is False else logging.DEBUG,
                        "line %s unit %d (seat %s) %s",
                        event.line,
                        event.address,
                        unit.seat,
                        "online" if online else "OFFLINE",
                    )
                    self._liveness[unit.seat] = online
                    self._status_dirty.set()
            elif isinstance(event, UnitRebooted):
                log.warning(
                    "line %s unit %d lost power (boot %04x -> %04x): its mode was restored; "
                    "presses it had not delivered are gone and must be made again",
                    event.line,
                    event.address,
                    event.old_boot,
                    event.new_boot,
                )
                self.presses.card_state.pop((event.line, event.address), None)
            elif isinstance(event, (LineDown, LineUp)):
                # the bus logged it, once per change; the clerk gets one notice per line
                if isinstance(event, LineDown):
                    self._line_state[event.line] = (False, event.reason, event.detail[:MAX_DETAIL])
                else:
                    self._line_state[event.line] = (True, "", "")
                self._status_dirty.set()

    def _confirm(self, event: InputEvent) -> None:
        """The server acknowledged (or definitively refused) ``event``: the unit may forget it."""
        assert self.master is not None
        self.master.confirm(event)

    # ------------------------------------------------------------------ server side

    async def _follow(self) -> None:
        assert self.client is not None
        while True:
            _, event = await self.client.events.get()
            name = event.get("name", "")
            if self.floor is not None:
                self.floor.follow(event)  # the floor lamps: speaker.* and item.selected
            if name == "snapshot":  # a reconnection the server could not resume: start afresh
                self._load_snapshot(event["snapshot"])
                self._start_afresh(event["snapshot"])
            elif name == "keypad.status":
                self._reported[event["seat"]] = bool(event["online"])
            elif name == "keypad.line":
                self._line_reported[event["line"]] = (bool(event["online"]), event["reason"], event["detail"])
            elif self.sitting.fold(event):
                before = self.sitting.phase
                phase = self.sitting.refresh()
                if phase != before:
                    self._outputs().apply(phase)

    def _load_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        language = self.config.language or snapshot.get("meeting", {}).get("language") or "zh-CN"
        self.sitting.load(snapshot, keypad_texts(language))
        if self.outputs is not None:
            self.outputs.texts = self.sitting.texts
        self._reported = {seat: bool(v) for seat, v in snapshot.get("keypads", {}).items()}
        self._line_reported = {
            name: (bool(v["online"]), v["reason"], v["detail"]) for name, v in snapshot.get("keypad_lines", {}).items()
        }
        self._status_dirty.set()

    def _start_afresh(self, snapshot: Mapping[str, Any]) -> None:
        """Light again the lamps of members who already voted, then put every unit into
        the phase the snapshot implies, even if it is the one they had."""
        outputs = self._outputs()
        run_key, lamps = self.sitting.recorded_lamps(snapshot)
        if run_key is not None:
            outputs.restore_lamps(run_key, {self.by_seat[s].uid: lit for s, lit in lamps.items() if s in self.by_seat})
        outputs.apply(self.sitting.refresh())
        if self.floor is not None:
            self.floor.load(snapshot)

    def _outputs(self) -> UnitOutputs:
        assert self.outputs is not None
        return self.outputs

    # ------------------------------------------------------------------ liveness

    async def _report_status(self) -> None:
        """Tell the server what changed (lines first: they explain their units), until it knows."""
        assert self.client is not None
        while True:
            await self._status_dirty.wait()
            self._status_dirty.clear()
            lines = [(n, v) for n, v in self._line_state.items() if self._line_reported.get(n) != v]
            seats = [(s, v) for s, v in self._liveness.items() if self._reported.get(s) != v]
            results = [await self._report_line(n, v) for n, v in lines]
            results += await asyncio.gather(*(self._report_one(s, v) for s, v in seats))
            if not all(results):
                await asyncio.sleep(1.0)
                self._status_dirty.set()

    async def _report_line(self, name: str, state: LineReport) -> bool:
        online, reason, detail = state
        msg = {"type": "keypad_line", "line": name, "online": online, "reason": reason, "detail": detail}
        if await self._report(dict(msg, seats=self._line_seats[name]), f"line {name}"):
            if self._line_state.get(name) == state:
                self._line_reported[name] = state
            return True
        return False

    async def _report_one(self, seat: str, online: bool) -> bool:
        if await self._report({"type": "keypad_status", "seat": seat, "online": online}, f"seat {seat}"):
            if self._liveness.get(seat) == online:
                self._reported[seat] = online
            return True
        return False

    async def _report(self, msg: dict[str, Any], what: str) -> bool:
        """Send one report; False if it must be tried again (a refusal is final: logged)."""
        assert self.client is not None
        try:
            async with self._in_flight:
                await self.client.request(msg, resend=True, timeout=self.cast_timeout)
        except ServerError as exc:
            if exc.code in RETRY_CODES:
                return False
            log.warning("%s: keypad report refused (%s)", what, exc.code)
        except (TimeoutError, ConnectionLost):
            return False
        return True


def quiet_wire_loggers() -> None:
    """websockets logs whole frames at DEBUG; a cast frame names its seat and choice."""
    for name in ("websockets", "websockets.client", "websockets.server", "websockets.protocol"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


@contextlib.asynccontextmanager
async def running_bridge(config: BridgeConfig, server: str | None = None, **kw: Any) -> AsyncIterator[Bridge]:
    bridge = Bridge(config, server, **kw)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()
