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
- optional ``check_id(ballot_id) -> list[problem]``: what the kind needs of an id beyond the
  grammar (an election's leaves room for the ``-r<n>`` of its further rounds);
- ``check_params(params, rule) -> list["key: problem"]``, which must not raise on any input
  and keeps every value within the bounds of ``server/core/bounds.py``, and
  ``normalize_params(params)``, called only when ``check_params`` found nothing;
- ``normalize_choice(spec, raw) -> choice`` raising ``CommandError("invalid_choice", ...)``
  (or a more precise code); the choice it returns is canonical JSON, stored and hashed;
- ``tally(spec, choices, turnout) -> result`` in the documented result form
  (docs/ballot-kinds.md), which screens and certificates render without rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..chain import canonical
from ..rules import Threshold
from . import appointment, election, evaluation, motion, score, selection
from .common import Turnout


class Kind(Protocol):
    """What every kind module provides (above); ``expand`` and ``further_round`` are optional
    and looked up with ``getattr``."""

    @property
    def PARAM_KEYS(self) -> tuple[str, ...]: ...
    @property
    def DEFAULT_RULE(self) -> Any: ...
    @property
    def SECRET_BY_DEFAULT(self) -> bool: ...
    @property
    def KEYPAD_OK(self) -> bool: ...

    def check_params(self, params: Mapping[str, Any], rule: Threshold) -> list[str]: ...
    def normalize_params(self, params: Mapping[str, Any]) -> dict[str, Any]: ...
    def keypad_ok(self, spec: Any) -> bool: ...
    def keypad_options(self, spec: Any) -> list[str]: ...
    def normalize_choice(self, spec: Any, raw: Any) -> Any: ...
    def tally(self, spec: Any, choices: list[Any], turnout: Turnout) -> dict[str, Any]: ...


KINDS: dict[str, Kind] = {
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


URN_BLOCK = 512  # bytes: the padded size of a secret choice whose possible values are not all known


def urn_block(spec: Any) -> int:
    """The fixed size a secret choice of this ballot is padded to before it is stored
    encrypted (server/store/urn_keys.py): room for its longest possible canonical choice,
    so every row of the ballot has the same size and the rows stay small. Known exactly
    when a keypad can vote the ballot (its choices are the keypad's); otherwise 512 bytes,
    which nearly every choice fits (a longer one takes more blocks: docs/architecture.md)."""
    if not keypad_ok(spec):
        return URN_BLOCK
    kind = KINDS[spec.kind]
    longest = max(len(canonical(kind.normalize_choice(spec, o)).encode()) for o in kind.keypad_options(spec))
    block = 64
    while block < longest + 4:
        block *= 2
    return block
