"""Ballot kinds: each module says what a valid choice is and how a tally is computed.

A kind module provides:

- ``PARAM_KEYS``: the extra agenda keys it accepts; ``DEFAULT_RULE`` (preset name or None);
  ``SECRET_BY_DEFAULT``; ``KEYPAD_OK`` (whether a three-key keypad can vote it);
- optional ``expand(raw) -> list[raw]``: one agenda definition becoming several ballots;
- ``check_params(params, rule) -> list["key: problem"]`` and ``normalize_params(params)``;
- ``normalize_choice(spec, raw) -> choice`` raising ``CommandError("invalid_choice", ...)``;
- ``tally(spec, choices, turnout) -> result`` in the documented result form
  (docs/protocol.md, "Results"), which screens and certificates render without rules.
"""
from __future__ import annotations

from types import ModuleType

from . import motion

KINDS: dict[str, ModuleType] = {
    "motion": motion,
}
