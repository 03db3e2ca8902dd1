"""What the bridge puts on its units: mode, display texts and lamps.

The lamps are the member's receipt for a vote, so the bridge remembers which unit shows
which lamps for which ballot run: a new epoch blanks a unit's lamps (resume after a hold,
a bridge restart), and the bridge lights the recorded ones again; when a run ends it
clears them on the bus too, so a unit that later loses power is not lit again with an
old vote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from device_drivers.bridge_phase import Phase, fit_text
from device_drivers.bus import Line
from device_drivers.messages import Key, Mode

log = logging.getLogger("hemicycle.keypads")

UnitId = tuple[str, int]
RunKey = tuple[str, int]

_REFUSAL_TEXT = {"ballot_not_open": "ballot_closed", "vote_locked": "already_voted"}
"""Server error codes that share a display text with another code."""


def keypad_texts(language: str) -> dict[str, str]:
    """What a keypad's small display says, from the catalogue of the meeting's language."""
    folder = resources.files("device_drivers") / "i18n"
    name = f"{language}.json" if (folder / f"{language}.json").is_file() else "en.json"
    return json.loads((folder / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Unit:
    """One keypad as the bridge knows it: where it is on the bus and whose seat it serves."""

    line: str
    address: int
    seat: str
    member: str | None
    card_reader: bool

    @property
    def uid(self) -> UnitId:
        return (self.line, self.address)


class UnitOutputs:
    """Writes phases, texts and lamps to the lines (the bus sends them when it can)."""

    def __init__(self, lines: Mapping[str, Line], texts: Mapping[str, str]) -> None:
        self.lines = lines
        self.texts = texts
        self._leds: dict[UnitId, tuple[frozenset[Key], bool]] = {}
        self._leds_run: RunKey | None = None
        self._leds_shown = False

    def show(self, unit: Unit, text_id: str, **fields: str) -> None:
        text = fit_text(self.texts.get(text_id, text_id).format(**fields))
        self.lines[unit.line].display(text, unit.address)

    def refusal_text(self, code: str) -> str:
        """The text id that explains the server's refusal ``code`` (a generic one if none)."""
        text_id = _REFUSAL_TEXT.get(code, code)
        return text_id if text_id in self.texts else "refused"

    def record_vote(self, unit: Unit, lit: frozenset[Key], run_key: RunKey | None) -> None:
        """Light ``unit``'s receipt for a vote acknowledged in ``run_key``."""
        if run_key != self._leds_run:
            return  # the ballot closed meanwhile; its lamps are already off
        self._leds[unit.uid] = (lit, True)
        if self._leds_shown:
            self.lines[unit.line].set_leds(unit.address, lit, recorded=True)

    def restore_lamps(self, run_key: RunKey, lamps: Mapping[UnitId, frozenset[Key]]) -> None:
        """After a (re)start: the lamps of members who already voted in ``run_key``, lit
        when the vote phase is applied."""
        self._leds, self._leds_run = {uid: (lit, True) for uid, lit in lamps.items()}, run_key

    def apply(self, phase: Phase) -> None:
        log.info(
            "keypads: %s mode, epoch %d%s",
            phase.mode.name.lower(),
            phase.epoch,
            f" (ballot {phase.ballot} run {phase.run})" if phase.ballot else "",
        )
        for line in self.lines.values():
            line.set_mode(phase.mode, phase.epoch, phase.keys, secret=phase.secret)
            line.display(phase.text)
        if phase.mode is Mode.VOTE:
            if phase.run_key != self._leds_run:
                self._clear_leds()
                self._leds, self._leds_run = {}, phase.run_key
            # A new epoch blanks a unit's lamps: light again those already recorded (resume, restart).
            for (name, address), (lit, recorded) in self._leds.items():
                self.lines[name].set_leds(address, lit, recorded=recorded)
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
        for name, address in self._leds:
            self.lines[name].set_leds(address, (), recorded=False)
        self._leds_shown = False
