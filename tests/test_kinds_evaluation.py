"""Satisfaction evaluation (满意度测评): grades per subject, per-item invalid, verdict table."""

from __future__ import annotations

import pytest

from server.core import commands as c
from server.core.agenda import agenda_from_dict
from server.core.errors import AgendaError, CommandError
from server.core.kinds import evaluation
from server.core.kinds.common import Turnout
from tests.test_kinds_common import Sitting, agenda_dict, line

S, B, D = "satisfied", "basically_satisfied", "dissatisfied"
ASPECTS = [{"id": f"a{i}", "title": f"方面{i}"} for i in range(1, 10)]


def ballot(**kw: object) -> dict:
    return {
        "id": "ev",
        "title": "对市政府工作的满意度测评",
        "kind": "evaluation",
        "subjects": [{"id": "work", "title": "工作报告"}],
        **kw,
    }


def test_exactly_half_satisfied_is_not_satisfied_under_the_preset() -> None:
    s = Sitting([ballot()], n=10)
    m = s.members
    result = s.run("ev", {**{x: S for x in m[:5]}, **{x: B for x in m[5:8]}, m[8]: D})
    row = result["lines"][0]
    assert row["counts"] == {S: 5, B: 3, D: 1}
    assert row["verdict"] == B and result["verdict"] == B  # 5 of 10 seated is not MORE than half
    assert row["needed"] == 6 and row["base_value"] == 10
    assert row["percent"] == {S: 55.56, B: 33.33, D: 11.11, "invalid": 0.0}  # default base: papers cast


def test_one_more_satisfied_makes_it_satisfied_and_too_few_is_dissatisfied() -> None:
    s = Sitting([ballot(), {**ballot(), "id": "ev2"}], n=10)
    m = s.members
    assert s.run("ev", {x: S for x in m[:6]})["verdict"] == S
    assert s.run("ev2", {**{x: S for x in m[:3]}, **{x: B for x in m[3:5]}, **{x: D for x in m[5:]}})["verdict"] == D


def test_keypad_grade_string_for_a_single_subject_only() -> None:
    s = Sitting([ballot(), ballot(id="many", subjects=ASPECTS)])
    s.do(c.OpenBallot("ev"))
    s.cast("m01", "ev", B)
    s.do(c.CloseBallot("ev"))
    s.do(c.OpenBallot("many"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "many", S)
    assert err.value.code == "invalid_choice"


def test_nine_aspects_with_missing_and_double_grades_invalid_per_item() -> None:
    s = Sitting([ballot(subjects=ASPECTS, percent_base="seated")], n=4)
    m = s.members
    full = {a["id"]: S for a in ASPECTS}
    result = s.run(
        "ev",
        {
            m[0]: full,
            m[1]: {**full, "a2": [S, D]},  # two grades: a2 invalid on this paper
            m[2]: {k: v for k, v in full.items() if k != "a3"},  # a3 missing
            m[3]: {},  # a blank paper: every item invalid
        },
    )
    assert line(result, "a1")["counts"][S] == 3 and line(result, "a1")["invalid"] == 1
    assert line(result, "a2")["counts"][S] == 2 and line(result, "a2")["invalid"] == 2
    assert line(result, "a2")["percent"] == {S: 50.0, B: 0.0, D: 0.0, "invalid": 50.0}
    assert line(result, "a2")["verdict"] == D  # 2 of 4 is not more than half, even with basics
    assert line(result, "a1")["verdict"] == S
    assert result["invalid"] == 1 and result["summary"] == {S: 7, D: 2} and result["verdict"] == "mixed"
    assert s.meeting.ballots["ev"].urn_digest


def test_unknown_grades_and_subjects_are_refused() -> None:
    spec = Sitting([ballot(subjects=ASPECTS)]).meeting.ballots["ev"].spec
    for bad in ({"a1": "good"}, {"zz": S}, {"a1": [S, "meh"]}, ["satisfied"]):
        with pytest.raises(CommandError):
            evaluation.normalize_choice(spec, bad)
    assert evaluation.normalize_choice(spec, {"a2": [D, S, S], "a1": [B], "a3": None}) == {"a1": B, "a2": [S, D]}


def test_custom_verdict_table_counted_against_present_members() -> None:
    verdicts = [
        {"verdict": "excellent", "grades": [S], "fraction": "2/3", "cmp": ">=", "base": "present"},
        {"verdict": "acceptable", "grades": [S, B]},
        {"verdict": "report_again"},
    ]
    spec = Sitting([ballot(verdicts=verdicts)], n=12).meeting.ballots["ev"].spec
    choices = [{"work": S}] * 6 + [{"work": B}] * 2 + [{"work": D}]
    result = evaluation.tally(spec, choices, Turnout(12, 9, 9))
    assert result["lines"][0]["verdict"] == "excellent" and result["lines"][0]["needed"] == 6
    result = evaluation.tally(spec, choices[1:], Turnout(12, 9, 8))
    assert result["lines"][0]["verdict"] == "acceptable"  # 7 of 12 seated > 1/2 (inherited rule)
    with pytest.raises(AgendaError):
        agenda_from_dict(agenda_dict([ballot(verdicts=[{"verdict": "x"}, {"verdict": "y", "grades": [S]}])]))


def test_the_result_has_the_documented_form_with_percentages_of_the_chosen_base() -> None:
    spec = Sitting([ballot(percent_base="present")], n=6).meeting.ballots["ev"].spec
    papers = [
        {"work": "satisfied"},
        {"work": "satisfied"},
        {"work": "basically_satisfied"},
        {"work": "dissatisfied"},
        {},
    ]
    result = evaluation.tally(spec, papers, Turnout(9, 6, 5))
    assert result == {
        "kind": "evaluation",
        "seated": 9,
        "present": 6,
        "voted": 5,
        "not_voted": 1,
        "invalid": 1,
        "rule": {"option": "satisfied", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0},
        "percent_base": "present",
        "percent_base_value": 6,
        "lines": [
            {
                "id": "work",
                "label": "工作报告",
                "counts": {"satisfied": 2, "basically_satisfied": 1, "dissatisfied": 1},
                "invalid": 1,
                "percent": {"satisfied": 33.33, "basically_satisfied": 16.67, "dissatisfied": 16.67, "invalid": 16.67},
                "base_value": 9,
                "needed": 5,
                "verdict": "dissatisfied",
            }
        ],
        "summary": {"dissatisfied": 1},
        "verdict": "dissatisfied",
    }
    seated = Sitting([ballot(percent_base="seated")], n=6).meeting.ballots["ev"].spec
    assert evaluation.tally(seated, papers, Turnout(9, 6, 5))["percent_base_value"] == 9
    voted = Sitting([ballot()], n=6).meeting.ballots["ev"].spec
    assert evaluation.tally(voted, papers, Turnout(9, 6, 5))["percent_base_value"] == 5


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"work": "meh"}, "the grade for 'work' must be one of satisfied, basically_satisfied, dissatisfied"),
        ({"zz": "satisfied"}, "no subject 'zz' on this ballot"),
        (7, "choice must map subject ids to satisfied, basically_satisfied or dissatisfied"),
    ],
)
def test_a_refused_evaluation_paper_says_why(raw: object, message: str) -> None:
    spec = Sitting([ballot()]).meeting.ballots["ev"].spec
    with pytest.raises(CommandError) as err:
        evaluation.normalize_choice(spec, raw)
    assert (err.value.code, err.value.message) == ("invalid_choice", message)


@pytest.mark.parametrize(
    ("verdicts", "problem"),
    [
        ([], "verdicts: must be a non-empty list of tables"),
        (
            [{"verdict": f"v{i}", "grades": ["satisfied"]} for i in range(11)],
            "verdicts: may hold at most 10 rows, not 11",
        ),
        ([7], "verdicts[0]: must be a table"),
        ([{"verdict": "ok", "grades": ["satisfied"], "x": 1}, {"verdict": "no"}], "verdicts[0].x: unknown key"),
        ([{"verdict": " ", "grades": ["satisfied"]}], "verdicts[0].verdict: must be a non-empty string"),
        ([{"verdict": "a"}, {"verdict": "b"}], "verdicts[0].grades: only the last row (the fallback) may omit grades"),
        (
            [{"verdict": "a", "grades": ["satisfied", "satisfied"]}],
            "verdicts[0].grades: must be a list drawn from satisfied, basically_satisfied, dissatisfied without repeats",
        ),
        ([{"verdict": "a", "grades": ["satisfied"], "fraction": "3/2"}], "verdicts[0]: '3/2' must lie between 0 and 1"),
    ],
)
def test_a_verdict_table_the_count_cannot_use_is_refused_naming_the_row(verdicts: object, problem: str) -> None:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(agenda_dict([ballot(verdicts=verdicts)]))
    assert info.value.problems == [f"items[0].ballots[0].{problem}"]


def test_without_a_fallback_row_a_subject_no_row_passes_is_dissatisfied_and_a_row_may_count_valid_papers() -> None:
    rows = [{"verdict": "优秀", "grades": ["satisfied"], "fraction": "1/2", "base": "cast"}]
    spec = Sitting([ballot(verdicts=rows)], n=6).meeting.ballots["ev"].spec
    papers = [{"work": "satisfied"}] * 2 + [{"work": "dissatisfied"}] * 2 + [{}]
    result = evaluation.tally(spec, papers, Turnout(9, 6, 5))
    assert (line(result, "work")["base_value"], line(result, "work")["verdict"]) == (
        4,
        "dissatisfied",
    )  # 2 of 4 valid: not more than half
    papers[2] = {"work": "satisfied"}
    assert line(evaluation.tally(spec, papers, Turnout(9, 6, 5)), "work")["verdict"] == "优秀"
