"""What deciding a command yields: its events, and what the reply to the sender needs.

The adapters never look at the command's type to know how to answer: a decision about
a vote names the idempotency key whose receipt is the answer (``cast``), and one that
the room should hear about carries its warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from . import events as e

Draw = Callable[[], str]
"""A source of fresh random ids (urn entries). Passed in, so the core draws no randomness."""


class Receipt(NamedTuple):
    """What an idempotency key stands for: the vote it recorded, so a resend gets the same
    acknowledgement. ``choice`` is None for a secret ballot: no record links a member to a
    secret choice."""

    seq: int
    ballot: str
    run: int
    key: str
    choice: Any


class Warning(NamedTuple):
    """Something the clerk should know about a command that succeeded."""

    code: str
    seats: tuple[str, ...] = ()


class Decision(NamedTuple):
    """(Tuples, not frozen dataclasses: one is made per vote, and a frozen dataclass costs
    a microsecond more to build.)"""

    events: Sequence[e.Event] = ()
    cast: tuple[str, str] | None = None
    """(member, key) of a vote: the answer is that key's receipt, once it is durable. Set
    for a resend too, which has no events of its own."""
    warnings: tuple[Warning, ...] = ()
