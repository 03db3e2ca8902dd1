"""The keypad bridge: RS-485 keypad lines on one side, the Hemicycle server on the other.

It is a client of the WebSocket protocol in the ``device`` role (docs/protocol.md) and the
consumer of the bus master (device_drivers/bus.py). Behaviour (docs/keypads.md):

* **Follows the server's ballots.** A ballot that opens puts every unit into vote mode
  with the keys :func:`server.core.kinds.keypad_options` names and the ballot's secret
  flag; hold, close and void put them back into idle or check-in mode. A ballot three keys
  cannot vote leaves keypads idle with a text sending the member to the tablet.
  Mode epochs are derived from (meeting, ballot, run, phase), so a restarted bridge
  computes the same epoch for the same ballot and recognises presses made before it
  restarted.
* **Exactly once.** A press becomes a ``cast`` (or ``check_in``) whose idempotency key is
  the press's identity (line, address, boot, seq, epoch). The press is confirmed to the bus
  (and so acknowledged to the unit) only after the server's ``ack`` or a definitive refusal;
  until then the unit keeps it and, after a bridge restart, delivers it again with the same
  identity, which the server answers with the original acknowledgement.
* **Stale presses** (an epoch that is not the current ballot's) are confirmed and dropped.
* **Cards.** On a line with card readers a seat votes only while the card of the member
  assigned to that seat is in its slot; inserting it can also check the member in.
* **Liveness.** Units going offline or coming back are reported as ``keypad_status``.
* **Secrecy.** Nothing here logs the key of a press in a secret ballot, nor a secret
  choice: presses are logged without their key, acks without their choice, errors by
  type. The bridge also keeps the ``websockets`` logger at INFO or above, because its
  DEBUG output prints frames (a cast names its seat and choice).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import SimpleNamespace
from typing import Any

from device_drivers.bridge_config import BridgeConfig, normalize_card
from device_drivers.bus import BusMaster, Line
from device_drivers.events import (
    BusEvent,
    CardEvent,
    InputEvent,
    KeyEvent,
    LineDown,
    UnitOffline,
    UnitOnline,
    UnitRebooted,
)
from device_drivers.messages import MAX_TEXT_BYTES, Key, Mode
from terminal_client.client import Client, ConnectionLost, ServerError

log = logging.getLogger("hemicycle.keypads")

UnitId = tuple[str, int]

RETRY_CODES = frozenset({"unavailable", "rate_limited", "internal"})
"""Refusals after which nothing was recorded and trying again may succeed."""
MAX_INTERNAL_RETRIES = 5
MAX_IN_FLIGHT = 200
"""Casts and check-ins outstanding at once (the server allows 256 per connection)."""
MOTION_KEYS = {"for": Key.FOR, "against": Key.AGAINST, "abstain": Key.ABSTAIN}
THREE_KEYS = (Key.FOR, Key.AGAINST, Key.ABSTAIN)

def keypad_texts(language: str) -> dict[str, str]:
    """What a keypad's small display says, from the catalogue of the meeting's language."""
    folder = resources.files("device_drivers") / "i18n"
    name = f"{language}.json" if (folder / f"{language}.json").is_file() else "en.json"
    return json.loads((folder / name).read_text(encoding="utf-8"))
_REFUSAL_TEXT = {"ballot_not_open": "ballot_closed", "vote_locked": "already_voted"}


def fit_text(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def idempotency_key(event: InputEvent) -> str:
    """The cast's key: the press's identity, stable across re-deliveries (<= 64 chars).

    The epoch is stable too (it is part of the event) and guards against a unit whose
    boot id repeats (16-bit, random on some hardware) reusing a (boot, seq) pair.
    """
    key = f"kp1:{event.line}:{event.address}:{event.boot:x}:{event.seq}:{event.epoch:x}"
    if len(key) <= 64:
        return key
    return "kp1h:" + hashlib.blake2s(key.encode(), digest_size=24).hexdigest()


def key_map(options: list[str]) -> dict[Key, str]:
    """Which key sends which choice: motion options by name, otherwise in key order on the
    three vote keys (e.g. satisfied / basically satisfied / dissatisfied)."""
    if all(o in MOTION_KEYS for o in options):
        return {MOTION_KEYS[o]: o for o in options}
    keys = THREE_KEYS if len(options) <= 3 else tuple(Key.numbered(n) for n in range(1, 13))
    return dict(zip(keys, options))


@dataclass(frozen=True)
class Unit:
    line: str
    address: int
    seat: str
    member: str | None
    card_reader: bool

    @property
    def uid(self) -> UnitId:
        return (self.line, self.address)


@dataclass(frozen=True)
class Phase:
    """What every keypad should be doing now."""

    mode: Mode
    epoch: int
    keys: frozenset[Key] = frozenset()
    secret: bool = False
    text: str = ""
    ballot: str | None = None
    run: int = 0
    choices: Mapping[Key, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def run_key(self) -> tuple[str, int] | None:
        return None if self.ballot is None else (self.ballot, self.run)


@dataclass
class _Ballot:
    id: str
    title: str
    kind: str
    secret: bool
    status: str
    run: int
    opened_at: float | None
    spec: Any
    """Enough of a BallotSpec for keypad_ok/keypad_options: ``kind`` and ``params``."""


def _spec_from_view(view: Mapping[str, Any]) -> Any:
    from server.core.kinds import KINDS

    kind = KINDS.get(view.get("kind", "motion"))
    if kind is None:
        return None
    raw = {k: view[k] for k in kind.PARAM_KEYS if k in view}
    try:
        params = kind.normalize_params(raw)
    except Exception:  # an unexpected definition: treat the ballot as not keyable
        return None
    return SimpleNamespace(kind=view.get("kind", "motion"), params=params)


def _ballot_from_view(view: Mapping[str, Any]) -> _Ballot:
    return _Ballot(
        id=view["id"], title=view.get("title", ""), kind=view.get("kind", "motion"), secret=bool(view.get("secret")),
        status=view.get("status", "draft"), run=int(view.get("run", 0) or 0), opened_at=view.get("opened_at"),
        spec=_spec_from_view(view),
    )


def _ballot_from_created(event: Mapping[str, Any]) -> _Ballot | None:
    from server.core.agenda import ballot_from_dict

    try:
        spec = ballot_from_dict(event["spec"], "ballot", event.get("item", ""))
    except Exception:
        log.warning("ballot.created: a definition the bridge cannot read; keypads will not vote it")
        raw = event.get("spec") or {}
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            return None
        return _Ballot(raw["id"], str(raw.get("title", "")), "?", True, "draft", 0, None, None)
    return _ballot_from_view({**spec.public(), "status": "draft", "run": 0})


class Bridge:
    """Runs the keypad lines of one configuration against one server."""

    def __init__(self, config: BridgeConfig, server: str | None = None, *, token: str | None = None,
                 cast_timeout: float = 10.0) -> None:
        self.config = config
        self.server = server or config.server
        if not self.server:
            raise ValueError("no server URL: pass --server or set `server` in the configuration")
        self.token = token or config.device_token()
        self.cast_timeout = cast_timeout
        self.client: Client | None = None
        self.master: BusMaster | None = None
        self.units: dict[UnitId, Unit] = {}
        self.by_seat: dict[str, Unit] = {}
        self.phase: Phase | None = None
        self.accepting: Phase | None = None
        """The vote phase of the most recently opened ballot: presses with its epoch are sent."""
        self.stats = {"casts": 0, "check_ins": 0, "refused": 0, "stale": 0, "retries": 0}
        self._texts = keypad_texts("zh-CN")
        self._meeting_tag = ""
        self._ballots: dict[str, _Ballot] = {}
        self._closed = False
        self._card_members: dict[str, str] | None = None
        self._card_state: dict[UnitId, str | None] = {}
        self._leds: dict[UnitId, tuple[frozenset[Key], bool]] = {}
        self._leds_run: tuple[str, int] | None = None
        self._leds_shown = False
        self._liveness: dict[str, bool] = {}
        self._reported: dict[str, bool] = {}
        self._status_dirty = asyncio.Event()
        self._queues: dict[UnitId, deque[InputEvent]] = {}
        self._workers: dict[UnitId, asyncio.Task] = {}
        self._tasks: list[asyncio.Task] = []
        self._bus_events: asyncio.Queue[BusEvent] = asyncio.Queue()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        quiet_wire_loggers()
        self._loop = asyncio.get_running_loop()
        self._card_members = self.config.card_members()
        self.client = Client(self.server, self.token)
        welcome = await self.client.connect()
        if not self.client.events.empty():
            self.client.events.get_nowait()  # the welcome's snapshot, read just below
        if welcome.get("role") != "device":
            await self.client.close()
            raise ValueError(f"the token is for a {welcome.get('role')!r}, not a keypad bridge (device)")
        snapshot = self.client.snapshot or {}
        self._load_snapshot(snapshot)
        members = snapshot.get("members", [])
        seat_member = {m["seat"]: m["id"] for m in members}
        mapping = self.config.resolve_units([m["seat"] for m in members])
        self.master = BusMaster(self._sink)
        for spec in self.config.lines:
            addresses = mapping[spec.name]
            for address, seat in addresses.items():
                unit = Unit(spec.name, address, seat, seat_member.get(seat), spec.card_readers)
                self.units[unit.uid] = unit
                self.by_seat[seat] = unit
            self.master.add_line(spec.name, spec.url, addresses, spec.line_config())
        self._restore_leds(snapshot)
        self._apply_phase(self._compute_phase(), force=True)
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
        log.info("keypad bridge started: %d lines, %d units, server %s",
                 len(self.config.lines), len(self.units), self.server)

    async def stop(self) -> None:
        """Stop polling and disconnect. Presses in flight stay on their units (unconfirmed)
        and are delivered again, with the same identity, to the next bridge."""
        self._stopping = True
        tasks = [*self._tasks, *self._workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._workers = [], {}
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
        while True:
            event = await self._bus_events.get()
            if isinstance(event, (KeyEvent, CardEvent)):
                uid = (event.line, event.address)
                if uid not in self.units:
                    continue
                self._queues.setdefault(uid, deque()).append(event)
                worker = self._workers.get(uid)
                if worker is None or worker.done():
                    self._workers[uid] = asyncio.get_running_loop().create_task(self._unit_worker(uid))
            elif isinstance(event, (UnitOnline, UnitOffline)):
                unit = self.units.get((event.line, event.address))
                if unit is not None:
                    online = isinstance(event, UnitOnline)
                    log.log(logging.INFO if not online or self._liveness.get(unit.seat) is False else logging.DEBUG,
                            "line %s unit %d (seat %s) %s", event.line, event.address, unit.seat,
                            "online" if online else "OFFLINE")
                    self._liveness[unit.seat] = online
                    self._status_dirty.set()
            elif isinstance(event, UnitRebooted):
                uid = (event.line, event.address)
                log.warning("line %s unit %d lost power (boot %04x -> %04x): its mode was restored; "
                            "presses it had not delivered are gone and must be made again",
                            event.line, event.address, event.old_boot, event.new_boot)
                self._card_state.pop(uid, None)
            elif isinstance(event, LineDown):
                log.error("line %s is down: %s (retrying)", event.line, event.error)

    async def _unit_worker(self, uid: UnitId) -> None:
        """One unit's presses, in order: a changed vote must reach the server after the first."""
        queue = self._queues[uid]
        while queue:
            event = queue.popleft()
            try:
                if isinstance(event, KeyEvent):
                    await self._handle_key(event)
                else:
                    await self._handle_card(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never the message: it could hold a choice
                log.error("line %s unit %d: a press could not be handled (%s); the member is told to use "
                          "the tablet", event.line, event.address, type(exc).__name__)
                self._confirm(event)
                self._show(self.units[uid], "fault")

    def _confirm(self, event: InputEvent) -> None:
        """The server acknowledged (or definitively refused) ``event``: the unit may forget it."""
        assert self.master is not None
        self.master.confirm(event)

    # ------------------------------------------------------------------ presses

    async def _handle_key(self, event: KeyEvent) -> None:
        unit = self.units[(event.line, event.address)]
        if event.key is Key.CHECK_IN:
            await self._handle_check_in_key(unit, event)
            return
        vote = self.accepting
        if vote is None or event.epoch != vote.epoch or event.key not in vote.choices:
            self.stats["stale"] += 1
            log.info("seat %s: a press from another ballot or mode (epoch %d) was discarded", unit.seat, event.epoch)
            self._confirm(event)
            return
        assert vote.ballot is not None
        if vote.secret:
            log.debug("seat %s: key pressed in secret ballot %s (seq %d)", unit.seat, vote.ballot, event.seq)
        else:
            log.debug("seat %s: %s pressed in ballot %s (seq %d)", unit.seat, event.key.name, vote.ballot, event.seq)
        if self._card_missing(unit):
            self._refused(unit, event, "card_required", vote.secret)
            return
        choice = vote.choices[event.key]
        phase = self.phase
        ack, code = await self._send(
            {"type": "cast", "ballot": vote.ballot, "choice": choice, "key": idempotency_key(event), "seat": unit.seat},
        )
        if ack is None:
            self._refused(unit, event, code or "refused", vote.secret, pressed_in=phase)
            return
        self._confirm(event)
        self.stats["casts"] += 1
        # The lamps are the member's receipt: one SET_LEDS, no text, so a burst of votes
        # costs the line as few exchanges as possible (a text after a refusal only).
        if vote.secret:
            log.debug("seat %s: vote recorded in secret ballot %s", unit.seat, vote.ballot)
            self._set_leds(unit, frozenset(), vote.run_key)
        else:
            log.debug("seat %s: vote %s recorded in ballot %s", unit.seat, choice, vote.ballot)
            self._set_leds(unit, frozenset({event.key}), vote.run_key)

    async def _handle_check_in_key(self, unit: Unit, event: KeyEvent) -> None:
        current = self.phase
        valid = {p.epoch for p in (current, self.accepting) if p is not None and Key.CHECK_IN in p.keys}
        if event.epoch not in valid:
            self.stats["stale"] += 1
            log.info("seat %s: a check-in from an earlier mode (epoch %d) was discarded", unit.seat, event.epoch)
            self._confirm(event)
            self._show(unit, "press_again")
            return
        if self._card_missing(unit):
            self._refused(unit, event, "card_required", False)
            return
        await self._check_in(unit, event)

    async def _check_in(self, unit: Unit, event: InputEvent) -> None:
        phase = self.phase
        ok, code = await self._send({"type": "check_in", "seat": unit.seat})
        if ok is None:
            self._refused(unit, event, code or "refused", False, pressed_in=phase)
            return
        self._confirm(event)
        self.stats["check_ins"] += 1
        log.debug("seat %s: checked in by keypad", unit.seat)
        self._answer(unit, "checked_in", pressed_in=phase)

    async def _handle_card(self, event: CardEvent) -> None:
        unit = self.units[(event.line, event.address)]
        if not event.inserted:
            self._card_state[unit.uid] = None
            log.debug("seat %s: card removed", unit.seat)
            self._confirm(event)
            if unit.card_reader:
                self._show(unit, "insert_card")
            return
        members = self._card_members
        owner = None if members is None else members.get(normalize_card(event.card_id))
        valid = owner is not None and owner == unit.member
        self._card_state[unit.uid] = owner if valid else None
        log.info("seat %s: card inserted (%s)", unit.seat, "the seat's member" if valid else "not this seat's")
        if not valid:
            self._confirm(event)
            self._show(unit, "card_wrong")
            return
        if self.config.card_checks_in and not self._closed:
            await self._check_in(unit, event)
        else:
            self._confirm(event)
            self._show(unit, "card_ok")

    def _card_missing(self, unit: Unit) -> bool:
        if not unit.card_reader or self._card_members is None:
            return False
        return self._card_state.get(unit.uid) != unit.member or unit.member is None

    def _refused(
        self, unit: Unit, event: InputEvent, code: str, secret: bool, pressed_in: Phase | None = None
    ) -> None:
        """A definitive refusal: confirm (it must not be retried forever) and tell the member."""
        self._confirm(event)
        self.stats["refused"] += 1
        log.info("seat %s: refused (%s)", unit.seat, code)
        text_id = _REFUSAL_TEXT.get(code, code)
        text_id = text_id if text_id in self._texts else "refused"
        if pressed_in is None:
            self._show(unit, text_id)
        else:
            self._answer(unit, text_id, pressed_in=pressed_in)

    def _answer(self, unit: Unit, text_id: str, *, pressed_in: Phase | None) -> None:
        """Show the server's answer to a press, unless the sitting moved on while the server
        answered: then the new phase's text (a ballot opened, voting held) is on the unit
        already and is what the member must read, not a stale "checked in"."""
        if self.phase == pressed_in:
            self._show(unit, text_id)

    async def _send(self, msg: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """Send a cast or check-in until the server answers it: (reply, None) or (None, code).

        Timeouts, drops and ``unavailable``/``rate_limited`` are retried with the same
        message (a cast keeps its key, so a retry counts once); anything else is final.
        """
        assert self.client is not None
        delay, internal = 0.05, 0
        while True:
            try:
                async with self._in_flight:
                    reply = await self.client.request(msg, resend=True, timeout=self.cast_timeout)
                return reply, None
            except ServerError as exc:
                if exc.code not in RETRY_CODES:
                    return None, exc.code
                if exc.code == "internal":
                    internal += 1
                    if internal >= MAX_INTERNAL_RETRIES:
                        return None, "fault"
                log.warning("seat %s: server answered %s; retrying", msg.get("seat"), exc.code)
            except (TimeoutError, ConnectionLost):
                log.warning("seat %s: no answer from the server yet; retrying", msg.get("seat"))
            self.stats["retries"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    # ------------------------------------------------------------------ unit display

    def _show(self, unit: Unit, text_id: str, **fields: str) -> None:
        text = fit_text(self._texts.get(text_id, text_id).format(**fields))
        self.line(unit.line).display(text, unit.address)

    def _set_leds(self, unit: Unit, lit: frozenset[Key], run_key: tuple[str, int] | None) -> None:
        if run_key != self._leds_run:
            return  # the ballot closed meanwhile; its lamps are already off
        self._leds[unit.uid] = (lit, True)
        if self._leds_shown:
            self.line(unit.line).set_leds(unit.address, lit, recorded=True)

    # ------------------------------------------------------------------ server side

    async def _follow(self) -> None:
        assert self.client is not None
        while True:
            _, event = await self.client.events.get()
            name = event.get("name", "")
            if name == "snapshot":  # a reconnection the server could not resume: start afresh
                self._load_snapshot(event["snapshot"])
                self._restore_leds(event["snapshot"])
                self._apply_phase(self._compute_phase(), force=True)
                continue
            elif name == "ballot.created":
                ballot = _ballot_from_created(event)
                if ballot is not None:
                    self._ballots[ballot.id] = ballot
            elif name.startswith("ballot.") and event.get("ballot") in self._ballots:
                b = self._ballots[event["ballot"]]
                if name == "ballot.opened":
                    b.status, b.run, b.opened_at = "open", event["run"], event["at"]
                elif name in ("ballot.held", "ballot.resumed", "ballot.closed", "ballot.announced", "ballot.voided"):
                    b.status = {"ballot.held": "held", "ballot.resumed": "open", "ballot.closed": "closed",
                                "ballot.announced": "announced", "ballot.voided": "voided"}[name]
            elif name == "sitting.closed":
                self._closed = True
            elif name == "keypad.status":
                self._reported[event["seat"]] = bool(event["online"])
                continue
            else:
                continue
            self._apply_phase(self._compute_phase())

    def _load_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        meeting = snapshot.get("meeting", {})
        language = self.config.language or meeting.get("language") or "zh-CN"
        self._texts = keypad_texts(language)
        self._meeting_tag = "\x1f".join(str(meeting.get(k, "")) for k in ("body", "term", "session", "title", "date"))
        self._ballots = {view["id"]: _ballot_from_view(view) for view in snapshot.get("ballots", [])}
        self._closed = bool(snapshot.get("closed"))
        self._reported = {seat: bool(v) for seat, v in snapshot.get("keypads", {}).items()}
        self._status_dirty.set()

    def _restore_leds(self, snapshot: Mapping[str, Any]) -> None:
        """After a (re)start, light the lamps of members who already voted in the open ballot."""
        vote = self._vote_phase(self._latest_ballot())
        if vote is None:
            return
        self._leds, self._leds_run = {}, vote.run_key
        inverse = {choice: key for key, choice in vote.choices.items()}
        seat_of = {m["id"]: m["seat"] for m in snapshot.get("members", [])}
        view = next((v for v in snapshot.get("ballots", []) if v["id"] == vote.ballot), {})
        for member, mine in (view.get("mine") or {}).items():
            unit = self.by_seat.get(seat_of.get(member, ""))
            if unit is None or not mine.get("recorded"):
                continue
            lit: frozenset[Key] = frozenset()
            if not vote.secret:
                choice = mine.get("choice")
                if isinstance(choice, Mapping) and len(choice) == 1:
                    choice = next(iter(choice.values()))
                lit = frozenset({inverse[choice]}) if isinstance(choice, str) and choice in inverse else frozenset()
            self._leds[unit.uid] = (lit, True)

    def _epoch(self, *parts: object) -> int:
        text = "\x1f".join([self._meeting_tag, *map(str, parts)])
        value = int.from_bytes(hashlib.blake2s(text.encode(), digest_size=2).digest(), "little")
        return value or 1

    def _latest_ballot(self) -> _Ballot | None:
        opened = [b for b in self._ballots.values() if b.opened_at is not None and b.run > 0]
        return max(opened, key=lambda b: b.opened_at or 0.0) if opened else None

    def _vote_phase(self, ballot: _Ballot | None) -> Phase | None:
        from server.core.kinds import keypad_ok, keypad_options

        if ballot is None or ballot.spec is None or not keypad_ok(ballot.spec):
            return None
        choices = key_map(keypad_options(ballot.spec))
        keys = frozenset(choices) | ({Key.CHECK_IN} if self.config.checkin else frozenset())
        text = self._texts["vote"].format(title=ballot.title)
        return Phase(Mode.VOTE, self._epoch("vote", ballot.id, ballot.run), keys, ballot.secret, fit_text(text),
                     ballot.id, ballot.run, choices)

    def _compute_phase(self) -> Phase:
        if self._closed:
            return Phase(Mode.IDLE, self._epoch("closed"), text=self._texts["closed"])
        latest = self._latest_ballot()
        vote = self._vote_phase(latest)
        self.accepting = vote
        current = latest if latest is not None and latest.status in ("open", "held") else None
        if current is not None:
            if vote is None:
                return Phase(Mode.IDLE, self._other_epoch("tablet", current), text=self._texts["tablet"],
                             ballot=current.id, run=current.run)
            if current.status == "held":
                return Phase(Mode.IDLE, self._other_epoch("held", current), secret=current.secret,
                             text=self._texts["held"], ballot=current.id, run=current.run)
            return vote
        tag = ("after", latest.id, latest.run) if latest is not None else ("start",)
        epoch = self._epoch(*tag)
        if vote is not None and epoch == vote.epoch:
            epoch ^= 0x5555
        if self.config.checkin:
            return Phase(Mode.CHECK_IN, epoch, frozenset({Key.CHECK_IN}), text=self._texts["checkin"])
        return Phase(Mode.IDLE, epoch, text=self._texts["idle"])

    def _other_epoch(self, what: str, ballot: _Ballot) -> int:
        epoch = self._epoch(what, ballot.id, ballot.run)
        return epoch ^ 0x5555 if epoch == self._epoch("vote", ballot.id, ballot.run) else epoch

    def _apply_phase(self, phase: Phase, *, force: bool = False) -> None:
        if phase == self.phase and not force:
            return
        assert self.master is not None
        self.phase = phase
        log.info("keypads: %s mode, epoch %d%s", phase.mode.name.lower(), phase.epoch,
                 f" (ballot {phase.ballot} run {phase.run})" if phase.ballot else "")
        lines = self.master.lines
        for line in lines.values():
            line.set_mode(phase.mode, phase.epoch, phase.keys, secret=phase.secret)
            line.display(phase.text)
        if phase.mode is Mode.VOTE:
            if phase.run_key != self._leds_run:
                self._clear_leds()
                self._leds, self._leds_run = {}, phase.run_key
            # A new epoch blanks a unit's lamps: light again those already recorded (resume, restart).
            for (name, address), (lit, recorded) in self._leds.items():
                lines[name].set_leds(address, lit, recorded=recorded)
            self._leds_shown = True
        else:
            self._clear_leds()
            if phase.run_key != self._leds_run:
                self._leds, self._leds_run = {}, None

    def _clear_leds(self) -> None:
        """Keep the bus's memory of each unit's lamps in step with the unit (which blanks
        them itself on a new epoch), so a power cycle cannot bring back an old lamp."""
        if not self._leds_shown:
            return
        assert self.master is not None
        lines = self.master.lines
        for name, address in self._leds:
            lines[name].set_leds(address, (), recorded=False)
        self._leds_shown = False

    # ------------------------------------------------------------------ liveness

    async def _report_status(self) -> None:
        assert self.client is not None
        while True:
            await self._status_dirty.wait()
            self._status_dirty.clear()
            todo = [(s, v) for s, v in self._liveness.items() if self._reported.get(s) != v]
            if not todo:
                continue
            results = await asyncio.gather(*(self._report_one(s, v) for s, v in todo))
            if not all(results):
                await asyncio.sleep(1.0)
                self._status_dirty.set()

    async def _report_one(self, seat: str, online: bool) -> bool:
        assert self.client is not None
        try:
            async with self._in_flight:
                await self.client.request({"type": "keypad_status", "seat": seat, "online": online},
                                          resend=True, timeout=self.cast_timeout)
        except ServerError as exc:
            if exc.code in RETRY_CODES:
                return False
            log.warning("seat %s: keypad status refused (%s)", seat, exc.code)
        except (TimeoutError, ConnectionLost):
            return False
        if self._liveness.get(seat) == online:
            self._reported[seat] = online
        return True


def quiet_wire_loggers() -> None:
    """websockets logs whole frames at DEBUG; a cast frame names its seat and choice."""
    for name in ("websockets", "websockets.client", "websockets.server", "websockets.protocol"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


@contextlib.asynccontextmanager
async def running_bridge(config: BridgeConfig, server: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    bridge = Bridge(config, server, **kw)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()
