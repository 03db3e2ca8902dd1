"""The problems an agenda author reads when a ballot's entry list — candidates, nominees,
subjects — or an evaluation's verdict table is refused, compared whole (key path and
message), and the edges that are accepted (server/core/kinds/common.py ``check_entries``,
evaluation's ``_check_verdicts``, score's per-subject checks, appointment's ``expand``).

A later entry is still checked after a bad one, each field after a missing one, a title
may be as long as a title (300) and a name only as long as a name (100); a definition too
broken to split per nominee is reported against the line as written, never split under an
id it does not have, and never crashes the checker."""

from __future__ import annotations

from typing import Any

import pytest

from server.core.agenda import agenda_from_dict
from server.core.bounds import ID_RULE
from server.core.errors import AgendaError
from server.core.kinds import KINDS
from server.core.rules import threshold_from_dict
from tests.test_kinds_common import agenda_dict

AT = "items[0].ballots[0]"
GRADES_RULE = "must be a list drawn from satisfied, basically_satisfied, dissatisfied without repeats"


def ballot(kind: str, **params: Any) -> dict[str, Any]:
    return {"id": "b1", "title": "表决", "kind": kind, **params}


def problems(definition: dict[str, Any]) -> list[str]:
    try:
        agenda_from_dict(agenda_dict([definition]))
    except AgendaError as err:
        return err.problems
    return []


REFUSALS = [
    # a missing field is named, and the fields after it are still checked
    (ballot("evaluation", subjects=[{"id": "a"}]), [f"{AT}.subjects[0].title: is required"]),
    (
        ballot("election", seats=1, candidates=[{"name": "甲"}, {"id": "b"}]),
        [f"{AT}.candidates[0].id: is required", f"{AT}.candidates[1].name: is required"],
    ),
    (
        ballot("appointment", mode="together", nominees=[{"id": "z", "post": "", "action": "appoint"}]),
        [f"{AT}.nominees[0].name: is required", f"{AT}.nominees[0].post: must be a non-empty string"],
    ),
    (
        ballot("election", seats=1, candidates=[{"id": "a", "name": 5}, {"id": "b", "name": "  "}]),
        [
            f"{AT}.candidates[0].name: must be a non-empty string",
            f"{AT}.candidates[1].name: must be a non-empty string",
        ],
    ),
    # a title as long as a title, a name or a post as long as a name
    (ballot("evaluation", subjects=[{"id": "a", "title": "题" * 300}]), []),
    (
        ballot("evaluation", subjects=[{"id": "a", "title": "题" * 301}]),
        [f"{AT}.subjects[0].title: must be at most 300 characters, not 301"],
    ),
    (ballot("election", seats=1, candidates=[{"id": "a", "name": "名" * 100}]), []),
    (
        ballot("election", seats=1, candidates=[{"id": "a", "name": "名" * 101}]),
        [f"{AT}.candidates[0].name: must be at most 100 characters, not 101"],
    ),
    (
        ballot("appointment", nominees=[{"id": "z", "name": "张三", "post": "职" * 101}]),
        [f"{AT}.nominees[0].post: must be at most 100 characters, not 101"],
    ),
    (
        ballot("score", subjects=[{"id": "a", "title": "t\u202e", "min": 0, "max": 10}]),
        [f"{AT}.subjects[0].title: must not contain the control character U+202E"],
    ),
    # an appointment too broken to split is reported as written, not split or crashed
    (ballot("appointment"), [f"{AT}.nominees: must be a non-empty list of tables"]),
    (ballot("appointment", nominees=5), [f"{AT}.nominees: must be a non-empty list of tables"]),
    (ballot("appointment", nominees=[]), [f"{AT}.nominees: must be a non-empty list of tables"]),
    (ballot("appointment", nominees=["张三"]), [f"{AT}.nominees[0]: must be a table"]),
    (
        ballot("appointment", nominees=[{"id": 7, "name": "张三", "post": "主任"}]),
        [f"{AT}.nominees[0].id: must be an id ({ID_RULE}), not int"],
    ),
    (
        {**ballot("appointment", nominees=[{"id": "z", "name": "张三", "post": "主任"}]), "id": 7},
        [f"{AT}.id: must be an id ({ID_RULE}), not int"],
    ),
    (
        {"title": "任免", "kind": "appointment", "nominees": [{"id": "z", "name": "张三", "post": "主任"}]},
        [f"{AT}.id: is required"],
    ),
    # an evaluation's verdict table
    (ballot("evaluation", subjects=[{"id": "a", "title": "t"}], verdicts=[{"verdict": "好" * 100}]), []),
    (
        ballot("evaluation", subjects=[{"id": "a", "title": "t"}], verdicts=[{"verdict": "好" * 101}]),
        [f"{AT}.verdicts[0].verdict: must be at most 100 characters, not 101"],
    ),
    (
        ballot(
            "evaluation",
            subjects=[{"id": "a", "title": "t"}],
            verdicts=[{"verdict": "好"}, {"verdict": "中", "grades": ["excellent"]}, {"verdict": "差", "grades": []}],
        ),
        [
            f"{AT}.verdicts[0].grades: only the last row (the fallback) may omit grades",
            f"{AT}.verdicts[1].grades: {GRADES_RULE}",
            f"{AT}.verdicts[2].grades: {GRADES_RULE}",
        ],
    ),
    (
        ballot(
            "evaluation",
            subjects=[{"id": "a", "title": "t"}],
            verdicts=[{"verdict": "好", "grades": 5}, {"verdict": "中", "grades": "satisfied"}, {"verdict": "差"}],
        ),
        [f"{AT}.verdicts[0].grades: {GRADES_RULE}", f"{AT}.verdicts[1].grades: {GRADES_RULE}"],
    ),
]


@pytest.mark.parametrize(("definition", "expected"), REFUSALS)
def test_an_entry_list_or_verdict_table_is_refused_with_every_problem_as_the_author_reads_it(
    definition: dict[str, Any], expected: list[str]
) -> None:
    assert problems(definition) == expected


def test_every_one_of_five_hundred_subjects_is_checked_to_the_last() -> None:
    many = [{"id": f"s{i}", "title": "t", "min": 0, "max": 10} for i in range(500)]
    assert problems(ballot("score", subjects=many)) == []
    many[-1] = {"id": "s499", "title": "t", "min": 0, "max": 10, "step": 3}
    assert problems(ballot("score", subjects=many)) == [
        f"{AT}.subjects[499].step: must divide max - min into whole steps"
    ]


def test_entry_keys_that_are_not_strings_are_reported_not_raised() -> None:
    """``check_params`` must not raise on any input (server/core/kinds/__init__.py): a
    Python caller's entry with an integer key beside string keys is reported, in order."""
    entry = {"id": "a", "name": "甲", 2: "x", "b": 1, 10: "y"}
    assert KINDS["election"].check_params({"seats": 1, "candidates": [entry]}, threshold_from_dict({})) == [
        "candidates[0].10: unknown key",
        "candidates[0].2: unknown key",
        "candidates[0].b: unknown key",
    ]
