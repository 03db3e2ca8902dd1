"""What every keypad should be doing, derived from the sitting as the server reports it.

Pure: snapshots and events in, a :class:`Phase` out; no sockets, no bus, no clock. Kept
apart from the bridge's I/O so the rules of docs/keypads.md ("Following the sitting",
"Epochs") can be read and unit-tested on their own:

* no ballot open -> check-in mode (idle if check-in by keypad is off);
* a ballot open that three keys can vote -> vote mode with its keys and secret flag;
* a ballot open that they cannot vote -> idle, the member is sent to the tablet;
* held -> idle with its own epoch; resumed -> the same vote epoch as before the hold;
* the sitting closed -> idle.

Epochs are a hash of (meeting, ballot, run, phase), so a restarted bridge computes the
same epoch for the same ballot run and recognises the presses made before it restarted.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from device_drivers.messages import MAX_TEXT_BYTES, Key, Mode

log = logging.getLogger("hemicycle.keypads")

MOTION_KEYS = {"for": Key.FOR, "against": Key.AGAINST, "abstain": Key.ABSTAIN}
THREE_KEYS = (Key.FOR, Key.AGAINST, Key.ABSTAIN)
_EPOCH_FLIP = 0x5555
"""XORed into an epoch that collides with the ballot's vote epoch: a held or check-in
phase must never accept the vote presses of the run it follows."""
_STATUS_AFTER = {
    "ballot.held": "held",
    "ballot.resumed": "open",
    "ballot.closed": "closed",
    "ballot.announced": "announced",
    "ballot.voided": "voided",
}


def fit_text(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def key_map(options: list[str]) -> dict[Key, str]:
    """Which key sends which choice: motion options by name, otherwise in key order on the
    three vote keys (e.g. satisfied / basically satisfied / dissatisfied)."""
    if all(o in MOTION_KEYS for o in options):
        return {MOTION_KEYS[o]: o for o in options}
    keys = THREE_KEYS if len(options) <= 3 else tuple(Key.numbered(n) for n in range(1, 13))
    return dict(zip(keys, options))


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
class BallotState:
    """The little the bridge tracks of a ballot: enough to choose the keypads' phase."""

    id: str
    title: str
    kind: str
    secret: bool
    status: str
    run: int
    opened_at: float | None
    keypad: tuple[str, ...] | None
    """The choices the vote keys send, in key order, as the server's ballot view says; None
    when a keypad cannot vote this ballot (the member is sent to the tablet)."""


def ballot_from_view(view: Mapping[str, Any]) -> BallotState:
    """A ballot as the server's view shows it (snapshot or ``ballot.created``)."""
    keypad = view.get("keypad")
    return BallotState(
        id=view["id"],
        title=view.get("title", ""),
        kind=view.get("kind", "motion"),
        secret=bool(view.get("secret")),
        status=view.get("status", "draft"),
        run=int(view.get("run", 0) or 0),
        opened_at=view.get("opened_at"),
        keypad=tuple(str(o) for o in keypad) if isinstance(keypad, list) and keypad else None,
    )


class SittingPhases:
    """The sitting folded from the server's snapshot and events, and the phase it implies.

    ``phase`` is what the keypads should be doing; ``accepting`` is the vote phase of the
    most recently opened ballot run: only vote presses with its epoch are sent to the
    server (a press made just before a hold still counts once the ballot resumes).
    """

    def __init__(self, *, checkin: bool, texts: Mapping[str, str]) -> None:
        self.checkin = checkin
        self.texts: Mapping[str, str] = texts
        self.closed = False
        self.ballots: dict[str, BallotState] = {}
        self.phase: Phase | None = None
        self.accepting: Phase | None = None
        self._meeting_tag = ""

    def load(self, snapshot: Mapping[str, Any], texts: Mapping[str, str]) -> None:
        """Start afresh from a snapshot (at connection, or when the server could not resume)."""
        meeting = snapshot.get("meeting", {})
        self.texts = texts
        self._meeting_tag = "\x1f".join(str(meeting.get(k, "")) for k in ("body", "term", "session", "title", "date"))
        self.ballots = {view["id"]: ballot_from_view(view) for view in snapshot.get("ballots", [])}
        self.closed = bool(snapshot.get("closed"))

    def fold(self, event: Mapping[str, Any]) -> bool:
        """Take one server event; True if it may change the phase."""
        name = event.get("name", "")
        if name == "ballot.created":
            view = event.get("ballot")
            if isinstance(view, Mapping) and isinstance(view.get("id"), str):
                self.ballots[view["id"]] = ballot_from_view(view)
        elif name.startswith("ballot.") and event.get("ballot") in self.ballots:
            b = self.ballots[event["ballot"]]
            if name == "ballot.opened":
                b.status, b.run, b.opened_at = "open", event["run"], event["at"]
            elif name in _STATUS_AFTER:
                b.status = _STATUS_AFTER[name]
        elif name == "sitting.closed":
            self.closed = True
        else:
            return False
        return True

    def refresh(self) -> Phase:
        """Derive ``phase`` and ``accepting`` again from what has been loaded and folded."""
        self.phase = self._derive()
        return self.phase

    def _derive(self) -> Phase:
        if self.closed:
            # ``accepting`` is left as it was: a late press of the last ballot reaches the
            # server, which refuses it in words (ballot closed) rather than in silence.
            return Phase(Mode.IDLE, self._epoch("closed"), text=self.texts["closed"])
        latest = self.latest_ballot()
        vote = self.vote_phase(latest)
        self.accepting = vote
        current = latest if latest is not None and latest.status in ("open", "held") else None
        if current is not None:
            if vote is None:
                return Phase(
                    Mode.IDLE,
                    self._other_epoch("tablet", current),
                    text=self.texts["tablet"],
                    ballot=current.id,
                    run=current.run,
                )
            if current.status == "held":
                return Phase(
                    Mode.IDLE,
                    self._other_epoch("held", current),
                    secret=current.secret,
                    text=self.texts["held"],
                    ballot=current.id,
                    run=current.run,
                )
            return vote
        tag = ("after", latest.id, latest.run) if latest is not None else ("start",)
        epoch = self._epoch(*tag)
        if vote is not None and epoch == vote.epoch:
            epoch ^= _EPOCH_FLIP
        if self.checkin:
            return Phase(Mode.CHECK_IN, epoch, frozenset({Key.CHECK_IN}), text=self.texts["checkin"])
        return Phase(Mode.IDLE, epoch, text=self.texts["idle"])

    def latest_ballot(self) -> BallotState | None:
        """The ballot opened most recently (whatever its status now)."""
        opened = [b for b in self.ballots.values() if b.opened_at is not None and b.run > 0]
        return max(opened, key=lambda b: b.opened_at or 0.0) if opened else None

    def vote_phase(self, ballot: BallotState | None) -> Phase | None:
        """The vote phase of ``ballot``'s current run, or None if keypads cannot vote it."""
        if ballot is None or ballot.keypad is None:
            return None
        choices = key_map(list(ballot.keypad))
        keys = frozenset(choices) | ({Key.CHECK_IN} if self.checkin else frozenset())
        text = self.texts["vote"].format(title=ballot.title)
        return Phase(
            Mode.VOTE,
            self._epoch("vote", ballot.id, ballot.run),
            keys,
            ballot.secret,
            fit_text(text),
            ballot.id,
            ballot.run,
            choices,
        )

    def recorded_lamps(self, snapshot: Mapping[str, Any]) -> tuple[tuple[str, int] | None, dict[str, frozenset[Key]]]:
        """The lamps of members who already voted in the latest keyable run, by seat:
        after a (re)start the bridge lights them again. A secret ballot lights only the
        "recorded" lamp, so its keys are empty. Returns (run key, lamps) or (None, {})."""
        vote = self.vote_phase(self.latest_ballot())
        if vote is None:
            return None, {}
        inverse = {choice: key for key, choice in vote.choices.items()}
        seat_of = {m["id"]: m["seat"] for m in snapshot.get("members", [])}
        view: Mapping[str, Any] = next((v for v in snapshot.get("ballots", []) if v["id"] == vote.ballot), {})
        lamps: dict[str, frozenset[Key]] = {}
        for member, mine in (view.get("mine") or {}).items():
            seat = seat_of.get(member)
            if seat is None or not mine.get("recorded"):
                continue
            lit: frozenset[Key] = frozenset()
            if not vote.secret:
                choice = mine.get("choice")
                if isinstance(choice, Mapping) and len(choice) == 1:
                    choice = next(iter(choice.values()))
                lit = frozenset({inverse[choice]}) if isinstance(choice, str) and choice in inverse else frozenset()
            lamps[seat] = lit
        return vote.run_key, lamps

    def _epoch(self, *parts: object) -> int:
        text = "\x1f".join([self._meeting_tag, *map(str, parts)])
        value = int.from_bytes(hashlib.blake2s(text.encode(), digest_size=2).digest(), "little")
        return value or 1

    def _other_epoch(self, what: str, ballot: BallotState) -> int:
        epoch = self._epoch(what, ballot.id, ballot.run)
        return epoch ^ _EPOCH_FLIP if epoch == self._epoch("vote", ballot.id, ballot.run) else epoch
