"""How client input is quoted in an error message (server/core/bounds.py, ``shown``).

A clerk or an operator reads these messages; a hostile client chooses the value. The
message names enough to recognise the value and never echoes 60 KB or a 1,000-level nest.
"""

from __future__ import annotations

import pytest

from server.core.bounds import shown


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("abc", 40, "'abc'"),
        ("a" * 40, 40, "'" + "a" * 40 + "'"),  # exactly at the limit: whole
        ("a" * 41, 40, "'" + "a" * 40 + "…'"),  # one over: cut to the limit, marked
        ("abcdef", 3, "'abc…'"),
        ("it's", 40, '"it\'s"'),  # repr's own quoting
        (None, 40, "None"),
        (True, 40, "True"),
        (1.5, 40, "1.5"),
        (7, 40, "7"),
        (-7, 40, "-7"),
        (999, 3, "999"),
        (1000, 3, "a 10-bit number"),
        (-999, 3, "-999"),
        (-1000, 3, "a 10-bit number"),
        (10**40 - 1, 40, "9" * 40),
        (10**40, 40, "a 133-bit number"),
        ([1, 2], 40, "a list of 2"),
        ([], 40, "a list of 0"),
        ({"a": 1}, 40, "a table of 1"),
        ((1,), 40, "tuple"),
        (b"x", 40, "bytes"),
    ],
)
def test_a_value_is_shown_short_and_recognisable(value: object, limit: int, expected: str) -> None:
    assert shown(value, limit) == expected


def test_the_default_limit_is_forty_characters() -> None:
    assert shown("b" * 100) == "'" + "b" * 40 + "…'"
    assert shown(10**40) == "a 133-bit number" and shown(10**39) == "1" + "0" * 39


def test_a_value_that_breaks_repr_is_still_shown() -> None:
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    assert shown(nested) == "a list of 1"
