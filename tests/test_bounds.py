"""The bounds every value from a client or an agenda file is held to, and how a refused
value is quoted (server/core/bounds.py).

A clerk or an operator reads these messages; a hostile client chooses the value. Each
bound is tested at its edge, and the message names enough to recognise the value without
echoing 60 KB or a 1,000-level nest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from server.core.bounds import ID_RULE, Checker, id_problem, number_problem, shown, text_problem, whole_problem


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("m01", None),
        ("a" * 64, None),
        ("a" * 65, f"{shown('a' * 65)} is not an id: {ID_RULE}"),
        ("-x", f"'-x' is not an id: {ID_RULE}"),
        ("  ", "must not be empty"),
        (7, f"must be an id ({ID_RULE}), not int"),
        (None, f"must be an id ({ID_RULE}), not NoneType"),
    ],
)
def test_ids(value: object, expected: str | None) -> None:
    assert id_problem(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("议程 ok", None),
        ("x" * 10, None),
        ("x" * 11, "must be at most 10 characters, not 11"),
        ("a\u202eb", "must not contain the control character U+202E"),  # a bidi override alone
        ("a\x07b", "must not contain the control character U+0007"),  # Cc
        ("a\ud800b", "must not contain the control character U+D800"),  # a lone surrogate, Cs
        ("tab\there", "must not contain the control character U+0009"),
    ],
)
def test_texts_people_read(value: str, expected: str | None) -> None:
    assert text_problem(value, 10) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, None),
        (5, None),
        (0, "must be a whole number from 1 to 5, not 0"),
        (6, "must be a whole number from 1 to 5, not 6"),
        (True, "must be a whole number from 1 to 5"),
        (2.0, "must be a whole number from 1 to 5"),
    ],
)
def test_whole_numbers_at_their_edges(value: object, expected: str | None) -> None:
    assert whole_problem(value, 1, 5) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100, None),
        (-100, None),
        (99.5, None),
        (-100.0, None),
        (101, "must lie between -100 and 100"),
        (-101, "must lie between -100 and 100"),
        (1.25, None),  # exactly two places
        (1.255, "may have at most 2 decimal places"),
        (1e-05, "may have at most 2 decimal places"),  # repr in exponent form
        (1e16, "must lie between -100 and 100"),
        (float("nan"), "must be a finite number"),
        (False, "must be a number"),
        ("1", "must be a number"),
    ],
)
def test_scores_at_their_edges(value: object, expected: str | None) -> None:
    assert number_problem(value, 100, 2) == expected


# -- the agenda checker: every problem with its key path, none stopping the others -------------


def checked(run: Callable[[Checker], Any]) -> tuple[Any, list[str]]:
    checker = Checker()
    return run(checker), checker.problems


def test_a_table_names_unknown_keys_with_one_suggestion_at_most_twenty_and_the_missing_ones() -> None:
    assert checked(lambda c: c.table(["x"], "meeting", {"title"})) == ({}, ["meeting: must be a table, not list"])
    data = {"titel": 1, **{f"zz{i:02d}": i for i in range(25)}}
    _, problems = checked(lambda c: c.table(data, "meeting", {"title", "language"}, {"title", "language"}))
    assert problems[0] == "meeting.titel: unknown key (title?)"
    assert problems[1:20] == [f"meeting.zz{i:02d}: unknown key" for i in range(19)]  # twenty in all
    assert problems[20:] == ["meeting.language: is required", "meeting.title: is required"]


def test_a_value_of_the_wrong_type_is_named_in_words() -> None:
    assert checked(lambda c: c.typed({"n": "3"}, "n", "items[1]", int, 0)) == (
        0,
        ["items[1].n: must be a whole number, not str"],
    )
    assert checked(lambda c: c.typed({"n": True}, "n", "x", int, 0))[1] == ["x.n: must be a whole number, not bool"]
    assert checked(lambda c: c.typed({"n": []}, "n", "x", (int, float), 0))[1] == [
        "x.n: must be int or float, not list"
    ]
    assert checked(lambda c: c.typed({}, "n", "x", int, 5)) == (5, [])


def test_texts_are_bounded_free_of_control_characters_and_named_by_their_path() -> None:
    assert checked(lambda c: c.text({}, "title", "meeting")) == ("", [])
    assert checked(lambda c: c.text({"title": "  "}, "title", "meeting"))[1] == ["meeting.title: must not be empty"]
    assert checked(lambda c: c.text({"title": "a\u202eb"}, "title", "meeting"))[1] == [
        "meeting.title: must not contain the control character U+202E"
    ]
    assert checked(lambda c: c.text({"title": "x" * 11}, "title", "meeting", limit=10))[1] == [
        "meeting.title: must be at most 10 characters, not 11"
    ]
    assert checked(lambda c: c.optional_text({}, "group", "members[2]")) == ("", [])
    assert checked(lambda c: c.optional_text({"group": "g\x07"}, "group", "members[2]"))[1] == [
        "members[2].group: must not contain the control character U+0007"
    ]


def test_ids_default_when_absent_and_lists_are_cut_at_their_limit() -> None:
    assert checked(lambda c: c.ident({}, "id", "items[1]")) == ("?", [])
    assert checked(lambda c: c.ident({"id": "-x"}, "id", "items[1]"))[1] == [
        f"items[1].id: '-x' is not an id: {ID_RULE}"
    ]
    assert checked(lambda c: c.sized({"m": [1, 2, 3]}, "m", "", 3)) == ([1, 2, 3], [])
    assert checked(lambda c: c.sized({"m": [1, 2, 3, 4]}, "m", "", 3)) == (
        [1, 2, 3],
        ["m: may hold at most 3 entries, not 4"],
    )


def test_a_suggestion_only_for_a_close_key_and_long_keys_are_cut() -> None:
    # 'tiel' is two thirds like 'title': below the 0.7 the checker asks for, so no guess
    assert checked(lambda c: c.table({"tiel": 1}, "meeting", {"title"}))[1] == ["meeting.tiel: unknown key"]
    long_key = "k" * 60
    assert checked(lambda c: c.table({long_key: 1}, "meeting", {"title"}))[1] == [f"meeting.{'k' * 40}: unknown key"]


def test_wrong_types_and_long_lists_are_named_by_their_path() -> None:
    assert checked(lambda c: c.optional_text({"group": 5}, "group", "members[2]")) == (
        "",
        ["members[2].group: must be a string, not int"],
    )
    assert checked(lambda c: c.ident({"id": "-x"}, "id", "items[1]"))[0] == "-x"  # kept, and reported
    assert checked(lambda c: c.sized({"m": [1, 2]}, "m", "items[1]", 1))[1] == [
        "items[1].m: may hold at most 1 entries, not 2"
    ]
