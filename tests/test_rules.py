"""Thresholds as data: exact arithmetic at the boundaries, presets, parsing."""

from __future__ import annotations

from fractions import Fraction

import pytest

from server.core.rules import (
    BASES,
    COMPARATORS,
    PRESETS,
    QUORUM_PRESET,
    Threshold,
    parse_fraction,
    threshold_from_dict,
    threshold_from_dict_or_preset,
)


def test_more_than_half_of_all_41_needs_21() -> None:
    rule = PRESETS["majority_of_all"]
    assert rule.needed(41) == 21
    assert rule.passes(21, 41) and not rule.passes(20, 41)


def test_exactly_half_is_not_more_than_half() -> None:
    rule = Threshold("for", ">", Fraction(1, 2), "cast")
    assert not rule.passes(15, 30) and rule.passes(16, 30)
    assert rule.needed(30) == 16 and rule.needed(31) == 16


def test_exactly_two_thirds_reaches_a_two_thirds_bar() -> None:
    rule = PRESETS["two_thirds_of_all"]
    assert rule.passes(20, 30) and not rule.passes(19, 30)
    assert rule.needed(30) == 20
    assert rule.needed(41) == 28 and not rule.passes(27, 41)  # 2/3 x 41 = 27.33...


def test_a_third_is_exact_not_rounded() -> None:
    # 0.333 would let 333 of 1000 through; 1/3 must not
    rule = threshold_from_dict({"fraction": "1/3", "cmp": ">="})
    assert not rule.passes(333, 1000) and rule.passes(334, 1000)
    assert rule.passes(1, 3)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_needed_is_the_smallest_passing_count_for_every_preset(name: str) -> None:
    rule = PRESETS[name]
    for base in range(61):
        need = rule.needed(base)
        assert rule.passes(need, base), (name, base, need)
        assert need == 0 or not rule.passes(need - 1, base), (name, base, need)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_votes_never_carry_a_motion(name: str) -> None:
    rule = PRESETS[name]
    for base in (0, 1, 41):
        assert not rule.passes(0, base), (name, base)


def test_a_constant_is_added_to_the_bar() -> None:
    rule = threshold_from_dict({"fraction": "1/2", "base": "present", "cmp": ">=", "constant": 3})
    assert rule.needed(20) == 13
    assert rule.passes(13, 20) and not rule.passes(12, 20)
    flat = threshold_from_dict({"fraction": "0", "cmp": ">=", "constant": 10})  # "at least 10 for"
    assert [flat.needed(b) for b in (0, 10, 100)] == [10, 10, 10]


def test_no_threshold_at_all_lets_zero_through() -> None:
    # fraction 0 with no constant is how a selection says "no minimum": ranking decides
    rule = threshold_from_dict({"fraction": "0", "cmp": ">="})
    assert rule.passes(0, 41) and rule.needed(41) == 0


@pytest.mark.parametrize(("seated", "needed"), [(41, 21), (40, 21), (3, 2), (1, 1)])
def test_quorum_is_more_than_half_of_the_seated(seated: int, needed: int) -> None:
    assert QUORUM_PRESET.needed(seated) == needed
    assert QUORUM_PRESET.passes(needed, seated) and not QUORUM_PRESET.passes(needed - 1, seated)


def test_presets_serialise_to_the_documented_form() -> None:
    assert PRESETS["two_thirds_of_cast"].to_dict() == {
        "option": "for",
        "cmp": ">=",
        "fraction": "2/3",
        "base": "cast",
        "constant": 0,
    }
    assert (
        threshold_from_dict(PRESETS["majority_excluding_abstentions"].to_dict())
        == PRESETS["majority_excluding_abstentions"]
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2/3", Fraction(2, 3)), (" 1/2 ", Fraction(1, 2)), (0.5, Fraction(1, 2)), (1, Fraction(1)), ("0", Fraction(0))],
)
def test_fractions_are_read_exactly(value: object, expected: Fraction) -> None:
    assert parse_fraction(value) == expected


@pytest.mark.parametrize("value", ["3/2", "-1/2", "1/0", "half", True, None, [1, 2]])
def test_bad_fractions_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_fraction(value)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"cmp": "="}, "cmp must be one of"),
        ({"base": "everyone"}, "base must be one of"),
        ({"constant": 1.5}, "constant must be a whole number"),
        ({"constant": True}, "constant must be a whole number"),
        ({"option": 3}, "option must be an id"),
        ({"share": "1/2"}, "unknown key(s) share"),
    ],
)
def test_bad_rule_tables_say_what_is_wrong(data: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        threshold_from_dict(data)


def test_presets_by_name_and_unknown_names() -> None:
    assert threshold_from_dict_or_preset(None, "simple_majority") is PRESETS["simple_majority"]
    assert threshold_from_dict_or_preset("majority_of_present", "simple_majority") is PRESETS["majority_of_present"]
    with pytest.raises(ValueError, match="unknown rule preset 'most'; presets: majority_of_all"):
        threshold_from_dict_or_preset("most", "simple_majority")
    with pytest.raises(ValueError, match="preset name or a table"):
        threshold_from_dict_or_preset(3, "simple_majority")


def test_unknown_rule_keys_are_named_first_five_each_cut_to_forty_characters() -> None:
    """The message an agenda author reads: which keys are wrong, bounded however many there are
    (a mutation run showed nothing pinned the list's form)."""
    keys = {f"{c * 50}": 1 for c in "gfedcba"}
    with pytest.raises(ValueError) as info:
        threshold_from_dict({"fraction": "1/2", **keys})
    assert str(info.value) == "unknown key(s) " + ", ".join(c * 40 for c in "abcde")


@pytest.mark.parametrize(("key", "value"), [("cmp", "=>"), ("base", "everyone")])
def test_a_wrong_comparator_or_base_is_named_with_the_choices_and_the_value_given(key: str, value: str) -> None:
    with pytest.raises(ValueError) as info:
        threshold_from_dict({"fraction": "1/2", key: value})
    choices = ", ".join(COMPARATORS if key == "cmp" else BASES)
    assert str(info.value) == f"{key} must be one of {choices}, not {value!r}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1, 1),
        (0.0, 0),
        (1.0, 1),
        (0.5, Fraction(1, 2)),
        (0.6667, Fraction(2, 3)),
        (0.667, Fraction(667, 1000)),
        ("1/1", 1),
        ("0/3", 0),
        ("2/3", Fraction(2, 3)),
        ("0.5", Fraction(1, 2)),
    ],
)
def test_fractions_at_and_inside_the_bounds_are_read_exactly(value: object, expected: Fraction) -> None:
    assert parse_fraction(value) == expected


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (True, "fraction"),
        (2, "must lie between 0 and 1"),
        (-1, "must lie between 0 and 1"),
        (1.5, "must lie between 0 and 1"),
        (float("inf"), "must lie between 0 and 1"),
        (float("nan"), "between 0 and 1"),
        ("1e-5000", "at most"),
        ("1/0", "at most"),
        (None, "fraction"),
    ],
)
def test_fractions_outside_the_bounds_are_refused_as_value_errors_that_say_why(value: object, said: str) -> None:
    """Always a ValueError with a message (the agenda checker turns it into a problem), never
    another exception escaping from Fraction() itself."""
    with pytest.raises(ValueError, match=said):
        parse_fraction(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2, "2 must lie between 0 and 1"),
        ("3/2", "'3/2' must lie between 0 and 1"),
        ("1e-5000", '\'1e-5000\' must be a fraction such as "1/2" or "0.5" (at most 6 digits a part)'),
        (None, 'must be a fraction such as "1/2" or "0.5"'),
    ],
)
def test_a_refused_fraction_says_what_was_given(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_fraction(value)
    assert str(info.value) == message


def test_a_rule_that_is_neither_a_preset_nor_a_table_is_named() -> None:
    with pytest.raises(ValueError) as info:
        threshold_from_dict_or_preset("two_thirds", "for")
    assert str(info.value) == f"unknown rule preset 'two_thirds'; presets: {', '.join(PRESETS)}"
    with pytest.raises(ValueError) as info:
        threshold_from_dict_or_preset(3, "for")
    assert str(info.value) == "rule must be a preset name or a table"
