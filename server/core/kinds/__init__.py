"""Ballot kinds: each module says what a valid choice is and how a tally is computed.

A kind module provides:

- ``PARAM_KEYS``: the extra agenda keys it accepts; ``DEFAULT_RULE`` (preset name, a rule
  table, or None for the meeting's default); ``SECRET_BY_DEFAULT``;
- ``keypad_ok(spec) -> bool``: whether a three-key keypad can vote THIS ballot (a
  single-nominee appointment can, a three-nominee one cannot), and
  ``keypad_options(spec) -> list[str]``: the plain choices its keys send, in key order.
  ``KEYPAD_OK`` stays as a per-kind upper bound ("some ballot of this kind can be
  keyed"); adapters should ask ``keypad_ok(spec)``;
- optional ``expand(raw) -> list[raw]``: one agenda definition becoming several ballots;
- ``check_params(params, rule) -> list["key: problem"]`` and ``normalize_params(params)``
  (called even when problems were found, so it must not raise on bad input);
- ``normalize_choice(spec, raw) -> choice`` raising ``CommandError("invalid_choice", ...)``
  (or a more precise code); the choice it returns is canonical JSON, stored and hashed;
- ``tally(spec, choices, turnout) -> result`` in the documented result form
  (docs/ballot-kinds.md), which screens and certificates render without rules.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import appointment, election, evaluation, motion, score, selection

KINDS: dict[str, ModuleType] = {
    "motion": motion,
    "appointment": appointment,
    "election": election,
    "selection": selection,
    "evaluation": evaluation,
    "score": score,
}


def keypad_ok(spec: Any) -> bool:
    """Whether a three-key keypad can vote this ballot."""
    return bool(KINDS[spec.kind].keypad_ok(spec))


def keypad_options(spec: Any) -> list[str]:
    """The plain choices a keypad's keys send for this ballot (empty when it cannot)."""
    return list(KINDS[spec.kind].keypad_options(spec))
