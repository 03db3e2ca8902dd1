"""Numeric scores (测评打分): range and step, mean, median, trimmed mean."""

from __future__ import annotations

from fractions import Fraction

import pytest

from server.core import commands as c
from server.core.agenda import agenda_from_dict
from server.core.chain import canonical
from server.core.errors import AgendaError, CommandError
from server.core.kinds import score
from server.core.kinds.common import Turnout
from tests.test_kinds_common import Sitting, agenda_dict, line


def ballot(**kw: object) -> dict:
    return {
        "id": "sc",
        "title": "述职测评打分",
        "kind": "score",
        "trim": 1,
        "subjects": [
            {"id": "duty", "title": "履职", "min": 0, "max": 100},
            {"id": "stars", "title": "星级", "min": 1, "max": 5, "step": 0.5},
        ],
        **kw,
    }


def test_mean_median_and_trimmed_mean() -> None:
    s = Sitting([ballot()], n=6)
    m = s.members
    result = s.run(
        "sc",
        {
            m[0]: {"duty": 90, "stars": 4.5},
            m[1]: {"duty": 80, "stars": 4},
            m[2]: {"duty": 100, "stars": 5.0},
            m[3]: {"duty": 60},
            m[4]: {"duty": 85},
        },
    )
    duty = line(result, "duty")
    assert duty["count"] == 5 and duty["sum"] == 415 and duty["mean"] == 83
    assert duty["median"] == 85 and duty["lowest"] == 60 and duty["highest"] == 100
    assert duty["trimmed_mean"] == 85 and duty["trimmed_count"] == 3  # 80, 85, 90
    stars = line(result, "stars")
    assert stars["count"] == 3 and stars["unscored"] == 2 and stars["mean"] == 4.5 and stars["median"] == 4.5
    assert stars["trimmed_mean"] == 4.5  # one score left after dropping 4 and 5
    assert s.meeting.ballots["sc"].urn[next(iter(s.meeting.ballots["sc"].urn))] == {"duty": 90, "stars": 4.5}


def test_trimmed_mean_with_fewer_scores_than_trimmed_is_none_with_a_note() -> None:
    spec = Sitting([ballot(trim=2)]).meeting.ballots["sc"].spec
    result = score.tally(spec, [{"duty": 70}, {"duty": 80}, {"duty": 90}, {"duty": 100}], Turnout(5, 5, 4))
    duty = line(result, "duty")
    assert duty["trimmed_mean"] is None and duty["note"] == "too_few_to_trim" and duty["mean"] == 85
    assert result["needed_to_trim"] == 5
    stars = line(result, "stars")
    assert stars["mean"] is None and stars["note"] == "no_scores"


def test_out_of_range_or_off_step_is_refused() -> None:
    s = Sitting([ballot()])
    s.do(c.OpenBallot("sc"))
    for bad in (
        {"duty": 101},
        {"duty": -1},
        {"duty": 50.5},
        {"stars": 4.2},
        {"stars": True},
        {"nope": 1},
        {"duty": "90"},
        90,
        {"duty": float("nan")},
    ):
        with pytest.raises(CommandError) as err:
            s.cast("m01", "sc", bad)
        assert err.value.code == "invalid_choice"
    s.cast("m01", "sc", {"duty": 90.0, "stars": 3.5})
    assert list(s.meeting.ballots["sc"].urn.values()) == [{"duty": 90, "stars": 3.5}]


def test_exact_arithmetic_for_decimal_steps() -> None:
    spec = (
        Sitting([ballot(subjects=[{"id": "x", "title": "x", "min": 0, "max": 1, "step": 0.1}], trim=0)])
        .meeting.ballots["sc"]
        .spec
    )
    assert score.normalize_choice(spec, 0.3) == {"x": 0.3}  # 0.3 is on a 0.1 step, exactly
    result = score.tally(spec, [{"x": 0.1}, {"x": 0.2}], Turnout(3, 3, 2))
    assert result["lines"][0]["sum"] == 0.3 and result["lines"][0]["mean"] == 0.15


def test_an_even_count_has_the_mean_of_the_middle_two_as_median_and_figures_have_two_places() -> None:
    even = score.stats([Fraction(1), Fraction(2), Fraction(3), Fraction(10)], 0)
    assert (even["median"], even["mean"], even["sum"]) == (2.5, 4, 16)
    odd = score.stats([Fraction(1), Fraction(1), Fraction(2)], 0)
    assert (odd["median"], odd["mean"]) == (1, 1.33)
    # a whole figure is printed as a whole number (JSON 4, not 4.0), on screens and certificates
    assert [type(even[k]) for k in ("mean", "sum", "lowest")] == [int, int, int]
    assert canonical(even).count(".") == 1  # only the median 2.5


def test_a_paper_that_is_not_a_table_of_scores_is_refused_saying_what_it_must_be() -> None:
    s = Sitting([ballot()])
    s.do(c.OpenBallot("sc"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "sc", 90)
    assert (err.value.code, err.value.message) == ("invalid_choice", "choice must map subject ids to numbers")


def test_a_score_is_on_its_subjects_grid_counted_from_its_minimum() -> None:
    subjects = [
        {"id": "duty", "title": "t", "min": 1, "max": 9, "step": 4},
        {"id": "x", "title": "u", "min": 0, "max": 5},
    ]
    spec = Sitting([ballot(subjects=subjects)]).meeting.ballots["sc"].spec
    assert score.normalize_choice(spec, {"duty": 5}) == {"duty": 5}  # 1, 5, 9
    assert score.normalize_choice(spec, {"duty": None, "x": 3}) == {"x": 3}  # a subject left out
    for raw, message in (
        ({"duty": 4}, "the score for 'duty' must be a number from 1 to 9 in steps of 4"),
        ({"nope": 1}, "no subject 'nope' on this ballot"),
    ):
        with pytest.raises(CommandError) as err:
            score.normalize_choice(spec, raw)
        assert (err.value.code, err.value.message) == ("invalid_choice", message)


def test_the_result_has_the_documented_form_figure_by_figure() -> None:
    """docs/ballot-kinds.md, score: screens and certificates print these keys as they are."""
    spec = Sitting([ballot()]).meeting.ballots["sc"].spec
    result = score.tally(spec, [{"duty": 90}, {"duty": 80}, {"duty": 70}, {}], Turnout(9, 6, 4))
    assert result == {
        "kind": "score",
        "seated": 9,
        "present": 6,
        "voted": 4,
        "not_voted": 2,
        "invalid": 1,  # the empty paper
        "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0},
        "trim": 1,
        "needed_to_trim": 3,
        "verdict": None,
        "lines": [
            {
                "id": "duty",
                "label": "履职",
                "counts": {"scored": 3},
                "unscored": 1,
                "min": 0,
                "max": 100,
                "count": 3,
                "sum": 240,
                "mean": 80,
                "median": 80,
                "lowest": 70,
                "highest": 90,
                "trimmed_mean": 80,  # 70 and 90 dropped
                "trimmed_count": 1,
            },
            {
                "id": "stars",
                "label": "星级",
                "counts": {"scored": 0},
                "unscored": 4,
                "min": 1,
                "max": 5,
                "count": 0,
                "sum": 0,
                "mean": None,
                "median": None,
                "lowest": None,
                "highest": None,
                "trimmed_mean": None,
                "trimmed_count": 0,
                "note": "no_scores",
            },
        ],
    }
    few = score.stats([Fraction(1), Fraction(2)], 1)
    assert (few["trimmed_mean"], few["trimmed_count"], few["note"]) == (None, 0, "too_few_to_trim")


@pytest.mark.parametrize(
    ("subjects", "problems"),
    [
        ([{"id": "s", "title": "t", "min": 5, "max": 5}], ["subjects[0].max: must be greater than min"]),
        ([{"id": "s", "title": "t", "min": 0, "max": 5, "step": 0}], ["subjects[0].step: must be greater than 0"]),
        ([{"id": "s", "title": "t", "max": 5}], ["subjects[0].min: must be a number"]),
        ([{"id": "s", "title": "t", "min": 0, "max": 5, "step": "a"}], ["subjects[0].step: must be a number"]),
        (
            [{"id": "s", "title": "t", "min": 0, "max": "x"}, {"id": "u", "title": "u", "min": 0, "max": 5, "step": 0}],
            [
                "subjects[0].max: must be a number",
                "subjects[1].step: must be greater than 0",
            ],  # every subject's problems
        ),
        (
            [{"id": f"s{i}", "title": "t", "min": 0, "max": 5} for i in range(501)],
            ["subjects: may hold at most 500 entries, not 501"],
        ),
    ],
)
def test_a_subject_the_count_cannot_use_is_refused_naming_it(subjects: list, problems: list) -> None:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(agenda_dict([ballot(subjects=subjects)]))
    assert info.value.problems == [f"items[0].ballots[0].{p}" for p in problems]


def test_trim_defaults_to_no_trimming_and_is_bounded_by_the_largest_sitting() -> None:
    plain_ballot = {k: v for k, v in ballot().items() if k != "trim"}
    spec = agenda_from_dict(agenda_dict([plain_ballot])).ballots["sc"]
    assert spec.params["trim"] == 0 and spec.params["subjects"][0] == {
        "id": "duty",
        "title": "履职",
        "min": 0,
        "max": 100,
        "step": 1,
    }
    assert agenda_from_dict(agenda_dict([ballot(trim=10_000)])).ballots["sc"].params["trim"] == 10_000
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(agenda_dict([ballot(trim=10_001)]))
    assert info.value.problems == ["items[0].ballots[0].trim: must be a whole number from 0 to 10000"]
