"""What a definition may hold: the id grammar, text lengths, how many of each thing, numbers.

Everything an agenda file or a clerk's ad hoc ballot says passes these checks before it
becomes part of the sitting, so whatever passes can be shown, tallied, printed, hashed and
encoded: orjson refuses integers beyond 64 bits, the chain's ``canonical`` refuses NaN,
Python refuses to print integers of more than 4,300 digits, and a file name or an HTTP
header must not be steered by what a client typed. docs/agendas.md states the same limits.

Each check returns ``None`` when the value is fine, else the problem in words, so callers
collect every problem with its key path instead of stopping at the first.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

#: one grammar for every id: members, seats, cards, items, ballots, documents, candidates,
#: subjects, nominees, a rule's option. ASCII letters and digits first, then also ``_ . -``.
#: No ``/``, ``\``, ``:``, spaces or control characters: an id is safe in a path segment,
#: a header, a log line and a CSV cell, and ``write_in:<name>`` lines never clash with it.
MAX_ID = 64
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
ID_RULE = "1 to 64 characters from A-Z a-z 0-9 _ . - starting with a letter or a digit"

#: an election's id leaves room for the ``-r<round>`` of its further rounds (round <= 99)
MAX_ROUND = 99
ROUND_SUFFIX = len(f"-r{MAX_ROUND}")

MAX_TITLE = 300  # meeting, item, ballot, document and subject titles
MAX_NAME = 100  # names, posts, groups, verdict labels, meeting body/term/session/date
MAX_MEMBERS = 10_000
MAX_ITEMS = 500
MAX_BALLOTS = 1_000  # in the agenda (after splitting appointments) and ad hoc, together
MAX_DOCUMENTS = 1_000
MAX_ENTRIES = 500  # candidates, nominees or subjects on one ballot
MAX_VERDICTS = 10  # rows of an evaluation's verdict table
MAX_COUNT = MAX_MEMBERS  # a whole number that counts votes or members: minimum, trim, |constant|

#: score bounds: numbers within +-MAX_SCORE with at most SCORE_PLACES decimal places
MAX_SCORE = 1_000_000
SCORE_PLACES = 4

#: a fraction written as text: "n/d" or a decimal, with at most this many digits per part
FRACTION_DIGITS = 6

# bidirectional overrides and isolates would let a title print differently from what it says
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def id_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an id ({ID_RULE}), not {type(value).__name__}"
    if not value.strip():
        return "must not be empty"
    if not ID_PATTERN.fullmatch(value):
        return f"{shown(value)} is not an id: {ID_RULE}"
    return None


def text_problem(value: str, limit: int) -> str | None:
    """A string that people read: bounded, without control or direction-override characters."""
    if len(value) > limit:
        return f"must be at most {limit} characters, not {len(value)}"
    for ch in value:
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs"):
            return f"must not contain the control character U+{ord(ch):04X}"
    return None


def whole_problem(value: Any, low: int, high: int, unit: str = "") -> str | None:
    """A whole number (not a bool) within ``low..high``, of ``unit`` (named in the message)."""
    what = f"a whole number of {unit}" if unit else "a whole number"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be {what} from {low} to {high}"
    if not low <= value <= high:
        return f"must be {what} from {low} to {high}, not {shown(value)}"
    return None


def number_problem(value: Any, limit: int = MAX_SCORE, places: int = SCORE_PLACES) -> str | None:
    """A finite number within ``-limit..limit`` with at most ``places`` decimal places."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if not -limit <= value <= limit:
        return f"must lie between {-limit} and {limit}"
    if isinstance(value, float):
        decimals = repr(value).partition(".")[2]
        if "e" in repr(value) or len(decimals) > places:
            return f"may have at most {places} decimal places"
    return None


def shown(value: Any, limit: int = 40) -> str:
    """A short, safe rendering of client input for an error message.

    ``repr`` of a value a client sent may be 60 KB long or nested 1,000 levels deep (which
    makes ``repr`` itself raise); a message needs only enough to recognise it.
    """
    if isinstance(value, str):
        text = repr(value[:limit])
        return text if len(value) <= limit else text[:-1] + "…" + text[-1]
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        digits = str(value) if -(10**limit) < value < 10**limit else f"a {value.bit_length()}-bit number"
        return digits
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"a table of {len(value)}"
    return type(value).__name__


def at(path: str, key: str) -> str:
    """The key path of ``key`` inside ``path`` ("" is the top of the file: no leading dot)."""
    return f"{path}.{key}" if path else key


class Checker:
    """Collects problems with their key paths instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def table(
        self, data: Any, path: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
    ) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.fail(path, f"must be a table, not {type(data).__name__}")
            return {}
        for key in sorted(map(str, set(data) - allowed))[:20]:
            meant = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.7)
            self.fail(at(path, key[:40]), f"unknown key ({meant[0]}?)" if meant else "unknown key")
        for key in sorted(required - set(data)):
            self.fail(at(path, key), "is required")
        return dict(data)

    def typed(
        self, data: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], default: Any = None
    ) -> Any:
        if key not in data:
            return default
        value = data[key]
        bad_bool = kind is int and isinstance(value, bool)
        if not isinstance(value, kind) or bad_bool:
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(at(path, key), f"must be {_TYPE_WORDS.get(names, names)}, not {type(value).__name__}")
            return default
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, default: str = "", limit: int = MAX_TITLE) -> str:
        """A string that, when given, must say something (names, titles), bounded in length
        and free of control characters."""
        value: str = self.typed(data, key, path, str, default)
        if key in data and isinstance(data[key], str) and not data[key].strip():
            self.fail(at(path, key), "must not be empty")
        return self.bounded(data, key, path, value, limit)

    def optional_text(self, data: Mapping[str, Any], key: str, path: str, limit: int = MAX_NAME) -> str:
        """A string that may be empty (a group, a meeting's session), bounded in length."""
        return self.bounded(data, key, path, self.typed(data, key, path, str, ""), limit)

    def bounded(self, data: Mapping[str, Any], key: str, path: str, value: str, limit: int) -> str:
        problem = text_problem(value, limit) if key in data and isinstance(data[key], str) else None
        if problem:
            self.fail(at(path, key), problem)
        return value

    def ident(self, data: Mapping[str, Any], key: str, path: str, default: str = "?") -> str:
        """An id following the one grammar (``ID_PATTERN``); ``default`` when absent."""
        if key not in data:
            return default
        problem = id_problem(data[key])
        if problem:
            self.fail(at(path, key), problem)
            return data[key] if isinstance(data[key], str) else default
        return str(data[key])

    def sized(self, data: Mapping[str, Any], key: str, path: str, limit: int) -> list[Any]:
        """A list of at most ``limit`` entries (``[]`` when absent or not a list)."""
        value: list[Any] = self.typed(data, key, path, list, [])
        if len(value) > limit:
            self.fail(at(path, key), f"may hold at most {limit} entries, not {len(value)}")
            return value[:limit]
        return value


_TYPE_WORDS = {"str": "a string", "int": "a whole number", "bool": "true or false", "list": "a list"}
