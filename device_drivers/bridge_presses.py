"""Key presses and card slots: from a unit's event to a server request and back.

Exactly once (docs/keypads.md): a press becomes a ``cast`` (or ``check_in``) whose
idempotency key is the press's identity (line, address, boot, seq, epoch). The press is
confirmed to the bus (and so acknowledged to the unit) only after the server's ``ack`` or
a definitive refusal; until then the unit keeps it and, after a bridge restart, delivers
it again with the same identity, which the server answers with the original
acknowledgement. Presses carrying an epoch other than the current ballot run's are
confirmed and dropped.

Secrecy: nothing here logs the key of a press in a secret ballot, nor a secret choice;
errors are logged by exception type only (a message could quote a choice).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from device_drivers.bridge_config import normalize_card
from device_drivers.bridge_floor import FloorLamps
from device_drivers.bridge_outputs import Unit, UnitId, UnitOutputs
from device_drivers.bridge_phase import Phase, SittingPhases
from device_drivers.events import CardEvent, InputEvent, KeyEvent
from device_drivers.messages import Key
from terminal_client.client import Client, ConnectionLost, ServerError

log = logging.getLogger("hemicycle.keypads")

RETRY_CODES = frozenset({"unavailable", "rate_limited", "internal"})
"""Refusals after which nothing was recorded and trying again may succeed."""
MAX_INTERNAL_RETRIES = 5


def idempotency_key(event: InputEvent) -> str:
    """The cast's key: the press's identity, stable across re-deliveries (<= 64 chars).

    The epoch is stable too (it is part of the event) and guards against a unit whose
    boot id repeats (16-bit, random on some hardware) reusing a (boot, seq) pair.
    """
    key = f"kp1:{event.line}:{event.address}:{event.boot:x}:{event.seq}:{event.epoch:x}"
    if len(key) <= 64:
        return key
    return "kp1h:" + hashlib.blake2s(key.encode(), digest_size=24).hexdigest()


class Presses:
    """Handles each unit's presses in order (a changed vote must reach the server after
    the first) and different units in parallel, within the bridge's in-flight limit."""

    def __init__(
        self,
        *,
        client: Client,
        units: Mapping[UnitId, Unit],
        sitting: SittingPhases,
        outputs: UnitOutputs,
        confirm: Callable[[InputEvent], None],
        card_members: Mapping[str, str] | None,
        card_checks_in: bool,
        in_flight: asyncio.Semaphore,
        cast_timeout: float,
        stats: dict[str, int],
        floor: FloorLamps | None = None,
    ) -> None:
        self.client = client
        self.units = units
        self.sitting = sitting
        self.outputs = outputs
        self.confirm = confirm
        """Tells the bus the unit may forget a press: after the server's ack or a final refusal."""
        self.card_members = card_members
        self.card_checks_in = card_checks_in
        self.in_flight = in_flight
        self.cast_timeout = cast_timeout
        self.stats = stats
        self.floor = floor
        self.card_state: dict[UnitId, str | None] = {}
        self._queues: dict[UnitId, deque[InputEvent]] = {}
        self._workers: dict[UnitId, asyncio.Task] = {}

    def submit(self, event: KeyEvent | CardEvent) -> None:
        """Queue a press of a known unit; its unit's worker starts if it is not running."""
        uid = (event.line, event.address)
        self._queues.setdefault(uid, deque()).append(event)
        worker = self._workers.get(uid)
        if worker is None or worker.done():
            self._workers[uid] = asyncio.get_running_loop().create_task(self._unit_worker(uid))

    def workers(self) -> list[asyncio.Task]:
        """The running workers, for the bridge to cancel on stop (their presses stay on the units)."""
        workers, self._workers = list(self._workers.values()), {}
        return workers

    async def send(self, msg: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """Send a cast or check-in until the server answers it: (reply, None) or (None, code).

        Timeouts, drops and ``unavailable``/``rate_limited`` are retried with the same
        message (a cast keeps its key, so a retry counts once); ``internal`` up to
        :data:`MAX_INTERNAL_RETRIES` times; anything else is final.
        """
        delay, internal = 0.05, 0
        while True:
            try:
                async with self.in_flight:
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

    async def _unit_worker(self, uid: UnitId) -> None:
        queue = self._queues[uid]
        while queue:
            event = queue.popleft()
            try:
                if isinstance(event, KeyEvent):
                    await self._key(event)
                else:
                    await self._card(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never the message: it could hold a choice
                log.error(
                    "line %s unit %d: a press could not be handled (%s); the member is told to use the tablet",
                    event.line,
                    event.address,
                    type(exc).__name__,
                )
                self.confirm(event)
                self.outputs.show(self.units[uid], "fault")

    async def _key(self, event: KeyEvent) -> None:
        unit = self.units[(event.line, event.address)]
        if event.key is Key.CHECK_IN:
            await self._check_in_key(unit, event)
            return
        if event.key is Key.REQUEST:
            await self._request_key(unit, event)
            return
        vote = self.sitting.accepting
        if vote is None or event.epoch != vote.epoch or event.key not in vote.choices:
            self.stats["stale"] += 1
            log.info("seat %s: a press from another ballot or mode (epoch %d) was discarded", unit.seat, event.epoch)
            self.confirm(event)
            return
        assert vote.ballot is not None
        if vote.secret:
            log.debug("seat %s: key pressed in secret ballot %s (seq %d)", unit.seat, vote.ballot, event.seq)
        else:
            log.debug("seat %s: %s pressed in ballot %s (seq %d)", unit.seat, event.key.name, vote.ballot, event.seq)
        if self._card_missing(unit):
            self._refused(unit, event, "card_required")
            return
        choice = vote.choices[event.key]
        phase = self.sitting.phase
        ack, code = await self.send(
            {"type": "cast", "ballot": vote.ballot, "choice": choice, "key": idempotency_key(event), "seat": unit.seat},
        )
        if ack is None:
            self._refused(unit, event, code or "refused", pressed_in=phase)
            return
        self.confirm(event)
        self.stats["casts"] += 1
        # The lamps are the member's receipt: one SET_LEDS, no text, so a burst of votes
        # costs the line as few exchanges as possible (a text after a refusal only).
        if vote.secret:
            log.debug("seat %s: vote recorded in secret ballot %s", unit.seat, vote.ballot)
            self.outputs.record_vote(unit, frozenset(), vote.run_key)
        else:
            log.debug("seat %s: vote %s recorded in ballot %s", unit.seat, choice, vote.ballot)
            self.outputs.record_vote(unit, frozenset({event.key}), vote.run_key)

    async def _request_key(self, unit: Unit, event: KeyEvent) -> None:
        """The request key (protocol 1.1) in any mode: ask to speak, or withdraw if waiting.

        A resend after a drop may find the request already made (``already_queued``) or
        already withdrawn (``not_queued``): that is the member's wish done, not a refusal."""
        msg = self.floor.request_for(unit) if self.floor is not None else None
        if msg is None:
            self.confirm(event)
            self.outputs.show(unit, "floor_speaking")
            return
        if self._card_missing(unit):
            self._refused(unit, event, "card_required")
            return
        ok, code = await self.send(msg)
        if ok is None and code not in ("already_queued", "not_queued"):
            self._refused(unit, event, code or "refused")
            return
        self.confirm(event)
        self.stats["floor"] = self.stats.get("floor", 0) + 1
        log.debug("seat %s: %s by keypad", unit.seat, msg["type"])
        self.outputs.show(unit, "floor_requested" if msg["type"] == "request_floor" else "floor_withdrawn")

    async def _check_in_key(self, unit: Unit, event: KeyEvent) -> None:
        """CHECK-IN counts in check-in mode and during a vote (a late member checks in
        and votes); a press from an earlier mode asks the member to press again."""
        valid = {
            p.epoch for p in (self.sitting.phase, self.sitting.accepting) if p is not None and Key.CHECK_IN in p.keys
        }
        if event.epoch not in valid:
            self.stats["stale"] += 1
            log.info("seat %s: a check-in from an earlier mode (epoch %d) was discarded", unit.seat, event.epoch)
            self.confirm(event)
            self.outputs.show(unit, "press_again")
            return
        if self._card_missing(unit):
            self._refused(unit, event, "card_required")
            return
        await self._check_in(unit, event)

    async def _check_in(self, unit: Unit, event: InputEvent) -> None:
        phase = self.sitting.phase
        ok, code = await self.send({"type": "check_in", "seat": unit.seat})
        if ok is None:
            self._refused(unit, event, code or "refused", pressed_in=phase)
            return
        self.confirm(event)
        self.stats["check_ins"] += 1
        log.debug("seat %s: checked in by keypad", unit.seat)
        self._answer(unit, "checked_in", pressed_in=phase)

    async def _card(self, event: CardEvent) -> None:
        """Only the card of the member assigned to the seat enables its keys."""
        unit = self.units[(event.line, event.address)]
        if not event.inserted:
            self.card_state[unit.uid] = None
            log.debug("seat %s: card removed", unit.seat)
            self.confirm(event)
            if unit.card_reader:
                self.outputs.show(unit, "insert_card")
            return
        members = self.card_members
        owner = None if members is None else members.get(normalize_card(event.card_id))
        valid = owner is not None and owner == unit.member
        self.card_state[unit.uid] = owner if valid else None
        log.info("seat %s: card inserted (%s)", unit.seat, "the seat's member" if valid else "not this seat's")
        if not valid:
            self.confirm(event)
            self.outputs.show(unit, "card_wrong")
            return
        if self.card_checks_in and not self.sitting.closed:
            await self._check_in(unit, event)
        else:
            self.confirm(event)
            self.outputs.show(unit, "card_ok")

    def _card_missing(self, unit: Unit) -> bool:
        if not unit.card_reader or self.card_members is None:
            return False
        return self.card_state.get(unit.uid) != unit.member or unit.member is None

    def _refused(self, unit: Unit, event: InputEvent, code: str, pressed_in: Phase | None = None) -> None:
        """A definitive refusal: confirm (it must not be retried forever) and tell the member."""
        self.confirm(event)
        self.stats["refused"] += 1
        log.info("seat %s: refused (%s)", unit.seat, code)
        text_id = self.outputs.refusal_text(code)
        if pressed_in is None:
            self.outputs.show(unit, text_id)
        else:
            self._answer(unit, text_id, pressed_in=pressed_in)

    def _answer(self, unit: Unit, text_id: str, *, pressed_in: Phase | None) -> None:
        """Show the server's answer to a press, unless the sitting moved on while the server
        answered: then the new phase's text (a ballot opened, voting held) is on the unit
        already and is what the member must read, not a stale "checked in"."""
        if self.sitting.phase == pressed_in:
            self.outputs.show(unit, text_id)
