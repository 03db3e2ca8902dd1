"""What the bus master remembers about each unit: liveness, event bookkeeping, desired state.

Separated from the line thread so the exactly-once rules can be read (and tested) on their
own. The rules, per unit and per boot id:

* ``delivered`` - last seq handed to the consumer. A polled event is new only if its seq is
  after ``delivered``; anything else is a re-read after a lost reply and is dropped.
* ``confirmed`` - longest prefix of delivered events the consumer has confirmed (made
  durable). Acks are cumulative on the wire, so one unconfirmed event holds back later ones.
* ``acked`` - what the unit has applied. It only moves when a reply to a POLL/ACK carrying
  that value arrives, so a lost reply simply repeats the same (idempotent) request.

A new boot id resets all three: events of the old boot can neither be acknowledged on the
new one (the unit would drop new presses) nor be mistaken for new presses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from device_drivers.messages import (
    Display,
    FloorLamp,
    Key,
    Mode,
    Poll,
    Request,
    SetFloor,
    SetLeds,
    SetMode,
    StatusRequest,
    UnitEvent,
    idle_tag,
    seq_after,
)


class Liveness(Enum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class ModeSpec:
    mode: Mode
    epoch: int
    keys: frozenset[Key]
    secret: bool

    def request(self, address: int) -> SetMode:
        return SetMode(address, self.mode, self.epoch, self.keys, self.secret)


@dataclass
class UnitTracker:
    address: int
    liveness: Liveness = Liveness.UNKNOWN
    reported: bool | None = None
    """What the consumer was last told (UnitOnline True, UnitOffline False): liveness may
    change without news, e.g. units are suspended while their whole line is down."""
    failures: int = 0
    next_probe: float = 0.0
    boot: int | None = None
    delivered: int = 0
    confirmed: int = 0
    acked: int = 0
    clear_reboot_flag: bool = False
    pending: dict[int, bool] = field(default_factory=dict)
    """Delivered, not yet acknowledged seqs (delivery order) -> confirmed by the consumer."""
    mode: ModeSpec | None = None
    mode_verified: bool = True
    leds: SetLeds | None = None
    leds_dirty: bool = False
    text: str | None = None
    text_dirty: bool = False
    status_wanted: bool = False
    floor: FloorLamp | None = None
    """The floor lamp the consumer wants (None: it never set one, so none is sent)."""
    floor_dirty: bool = False
    protocol: int | None = None
    """The unit's protocol minor version from its STATUS (None: not asked yet). The floor
    lamp goes only to 1.1 units; a 1.0 unit (or one that refuses STATUS) counts as 0."""

    # ------------------------------------------------------------------ polling

    def poll_request(self) -> Poll:
        """Short poll when nothing is outstanding; long form to ack, skip seen events or
        clear the unit's reboot flag."""
        if self.boot is not None and (self.clear_reboot_flag or self.acked != self.confirmed or self.pending):
            return Poll(self.address, self.boot, self.confirmed, self.delivered)
        return Poll(self.address)

    def poll_answered(self, request: Poll) -> None:
        """A reply to ``request`` arrived, so the unit applied its ack and saw its boot."""
        if request.boot is not None and request.boot == self.boot:
            self.acked = request.ack
            self.clear_reboot_flag = False

    def new_boot(self, boot: int) -> int | None:
        """Adopt ``boot``; return the previous boot id if this was a power cycle."""
        old = self.boot
        if old == boot:
            return None
        self.boot = boot
        self.delivered = self.confirmed = self.acked = 0
        self.pending.clear()
        self.clear_reboot_flag = True
        if old is None:
            return None
        self.mode_verified = self.mode is None
        self.leds_dirty = self.leds is not None
        self.text_dirty = self.text is not None
        self.protocol = None  # its firmware may have changed with the power cycle
        self.floor_dirty = self.floor is not None  # also re-enables its request key
        return old

    def accept(self, events: tuple[UnitEvent, ...]) -> list[UnitEvent]:
        """The events not delivered before, in order; marks them delivered."""
        fresh = []
        for event in events:
            if seq_after(event.seq, self.delivered):
                self.delivered = event.seq
                self.pending[event.seq] = False
                fresh.append(event)
            elif not seq_after(event.seq, self.confirmed):
                # Re-read of an event already confirmed: the unit has not applied our ack
                # (we took a stale reply for the answer), so the next poll must carry it.
                self.acked = 0
        return fresh

    def confirm(self, boot: int, seq: int) -> bool:
        """Consumer made ``seq`` durable; True if the ack point moved."""
        if boot != self.boot or seq not in self.pending:
            return False
        self.pending[seq] = True
        moved = False
        while self.pending:
            first = next(iter(self.pending))
            if not self.pending[first]:
                break
            del self.pending[first]
            self.confirmed = first
            moved = True
        return moved

    # ------------------------------------------------------------------ desired state

    def expected_tag(self) -> int | None:
        return None if self.mode is None else idle_tag(self.address, self.mode.epoch)

    def check_epoch(self, epoch: int) -> None:
        """A full reply told us the unit's mode epoch; re-send the mode if it is stale."""
        if self.mode is not None and epoch != self.mode.epoch:
            self.mode_verified = False

    def check_tag(self, tag: int) -> None:
        expected = self.expected_tag()
        if expected is not None and tag != expected:
            self.mode_verified = False

    def next_command(self) -> Request:
        """The most urgent unicast command owed to this unit (call only if has_work())."""
        if not self.mode_verified and self.mode is not None:
            return self.mode.request(self.address)
        if self.leds_dirty and self.leds is not None:
            return self.leds
        if self.text_dirty and self.text is not None:
            return Display(self.address, self.text)
        if self.owes_floor and self.protocol is not None and self.floor is not None:
            return SetFloor(self.address, self.floor)
        return StatusRequest(self.address)  # asked, or needed to learn whether it has a floor lamp

    def command_answered(self, request: Request) -> None:
        """The unit answered ``request`` (Done, STATUS or a NAK: never retry a refusal)."""
        if isinstance(request, SetMode):
            self.mode_verified = self.mode is None or request == self.mode.request(self.address)
        elif isinstance(request, SetLeds):
            self.leds_dirty = self.leds != request
        elif isinstance(request, Display):
            self.text_dirty = self.text != request.text
        elif isinstance(request, SetFloor):
            self.floor_dirty = self.floor != request.lamp
        elif isinstance(request, StatusRequest):
            self.status_wanted = False
            if self.protocol is None:
                self.protocol = 0  # refused or unreadable: a 1.0 unit

    @property
    def owes_floor(self) -> bool:
        """A floor lamp change is owed, to a unit that has (or may have) the lamp."""
        return self.floor_dirty and self.protocol != 0

    def has_work(self) -> bool:
        return (not self.mode_verified) or self.leds_dirty or self.text_dirty or self.status_wanted or self.owes_floor
