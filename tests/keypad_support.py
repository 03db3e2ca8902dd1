"""The keypad rig shared by the end-to-end keypad tests: a real server (uvicorn on an
ephemeral port), simulated units on a real pty, optionally behind a network serial server
(RFC 2217 or raw TCP, simulators/keypads/serial_server.py), a clerk client, and bridges.

Helpers compare what the server recorded with what the simulated members pressed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from device_drivers.bridge import Bridge
from device_drivers.bridge_config import config_from_dict
from device_drivers.messages import Key, Mode
from server.core.agenda import agenda_from_dict
from simulators.keypads import Faults, PtySimulator, SimulatedLine
from simulators.keypads.serial_server import SerialServer
from terminal_client.client import Client
from tests.support import LiveServer, agenda_data, start_server

VOTE_KEYS = (Key.FOR, Key.AGAINST, Key.ABSTAIN)
CHOICE = {Key.FOR: "for", Key.AGAINST: "against", Key.ABSTAIN: "abstain"}
WAIT = 20.0
"""Upper bound for a condition to become true: a hang guard, never a performance check."""

BALLOTS = [
    {"id": "reg1", "title": "物业管理条例（草案）"},
    {"id": "chg", "title": "可改票表决", "allow_change": True},
    {"id": "secret1", "title": "无记名表决", "secret": True, "live_counts": False},
    {"id": "sat", "title": "满意度测评", "kind": "evaluation", "subjects": [{"id": "s1", "title": "工作报告"}]},
    {"id": "sc", "title": "打分", "kind": "score", "subjects": [{"id": "a", "title": "甲", "min": 0, "max": 100}]},
]


async def poll_cycles(sim: SimulatedLine, cycles: int = 3) -> None:
    """Wait until the bridge has polled every unit ``cycles`` more times: "nothing happened"
    is then a fact about the line, not about how long the test slept."""
    start = sim.stats.requests
    await wait_for(lambda: sim.stats.requests >= start + cycles * len(sim.addresses), f"{cycles} poll cycles")


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Rig:
    srv: LiveServer
    sim: SimulatedLine
    pty: PtySimulator
    clerk: Client
    config: Any
    box: SerialServer | None = None
    """The network serial server in front of the pty, when the line is served over the network."""
    bridges: list[Bridge] = field(default_factory=list)

    @property
    def meeting(self) -> Any:
        return self.srv.assembly.sitting.meeting

    def seat(self, address: int) -> str:
        return f"S{address:03d}"

    def member(self, address: int) -> str:
        return f"m{address:02d}"

    async def start_bridge(self) -> Bridge:
        bridge = Bridge(self.config, self.srv.url, token=self.srv.creds["device"]["token"])
        await bridge.start()
        self.bridges.append(bridge)
        return bridge

    async def stop_bridge(self, bridge: Bridge) -> None:
        await bridge.stop()
        self.bridges.remove(bridge)

    async def units_in(self, mode: Mode, epoch: int | None = None) -> None:
        def ready() -> bool:
            states = [self.sim.state(a) for a in self.sim.addresses]
            return all(s.mode is mode and (epoch is None or s.epoch == epoch) for s in states)

        await wait_for(ready, f"every unit in {mode.name}")

    async def check_in_all(self, bridge: Bridge) -> None:
        await self.units_in(Mode.CHECK_IN)
        for address in self.sim.addresses:
            assert self.sim.press(address, Key.CHECK_IN)
        await wait_for(
            lambda: all(self.meeting.attendance[self.member(a)] == "present" for a in self.sim.addresses),
            "every member checked in",
        )

    async def open(self, ballot: str, bridge: Bridge) -> int:
        await self.clerk.command("open_ballot", ballot=ballot)
        await wait_for(
            lambda: bridge.phase is not None and bridge.phase.ballot == ballot, f"the bridge to follow {ballot}"
        )
        epoch = bridge.phase.epoch
        await self.units_in(bridge.phase.mode, epoch)
        return epoch

    async def close(self, ballot: str) -> dict[str, Any]:
        await self.clerk.command("close_ballot", ballot=ballot)
        while True:
            _, event = await self.clerk.next_event("ballot.closed", timeout=WAIT)
            if event["ballot"] == ballot:
                return event["result"]

    def vote_casts(self, ballot: str) -> list[dict[str, Any]]:
        """vote.cast events of ``ballot`` as stored in the SQLite file."""
        with contextlib.closing(sqlite3.connect(self.srv.db)) as db:
            rows = db.execute("SELECT body FROM events WHERE name = 'vote.cast' ORDER BY seq").fetchall()
        bodies = [json.loads(body) for (body,) in rows]
        return [b.get("data", b) for b in bodies if b.get("data", b).get("ballot") == ballot]

    async def all_acknowledged(self) -> None:
        await wait_for(
            lambda: all(self.sim.state(a).queued == 0 for a in self.sim.addresses),
            "every unit to drop its acknowledged presses",
        )


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    units: int,
    *,
    faults: Faults | None = None,
    seed: int = 1,
    line: dict[str, Any] | None = None,
    serve: str | None = None,
    **cfg: Any,
) -> AsyncIterator[Rig]:
    """``serve`` ("rfc2217" or "raw") puts a network serial server in front of the pty."""
    srv = await start_server(tmp_path, agenda_from_dict(agenda_data(units, ballots=BALLOTS)))
    sim = SimulatedLine(range(1, units + 1), seed=seed, faults=faults)
    pty = PtySimulator(sim)
    pty.start()
    box = None if serve is None else SerialServer(pty.slave_path, protocol=serve)
    url = pty.slave_path if box is None else box.start()
    config = config_from_dict(
        {"token": srv.creds["device"]["token"], "lines": [{"name": "L1", "url": url, **(line or {})}], **cfg}
    )
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    await clerk.connect()
    r = Rig(srv, sim, pty, clerk, config, box)
    try:
        yield r
    finally:
        for bridge in list(r.bridges):
            await bridge.stop()
        await clerk.close()
        if box is not None:
            box.stop()
        pty.stop()
        await srv.stop()


def press_script(rng: random.Random, addresses: tuple[int, ...], changes: bool = False) -> list[tuple[int, Key]]:
    """Each member presses a vote key; with ``changes`` some change their mind once."""
    script = []
    for address in rng.sample(addresses, len(addresses)):
        for key in rng.sample(VOTE_KEYS, rng.choice((1, 1, 2)) if changes else 1):
            script.append((address, key))
    return script


def final_counts(script: list[tuple[int, Key]]) -> dict[str, int]:
    last = {address: key for address, key in script}
    counts = Counter(CHOICE[k] for k in last.values())
    return {c: counts.get(c, 0) for c in ("for", "against", "abstain")}
