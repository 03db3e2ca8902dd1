"""Selection (评选): at most k of n, ranked, minimum, ties reported."""

from __future__ import annotations

import pytest

from server.core import commands as c
from server.core.errors import CommandError
from server.core.kinds import selection
from server.core.kinds.common import Turnout
from tests.test_kinds_common import Sitting, line

CANDIDATES = [{"id": x, "name": n} for x, n in zip("abcd", "甲乙丙丁")]


def ballot(**kw: object) -> dict:
    return {"id": "sel", "title": "评选优秀代表", "kind": "selection", "seats": 2, "candidates": CANDIDATES, **kw}


def test_ranked_by_votes_top_k_selected() -> None:
    s = Sitting([ballot()], n=6)
    m = s.members
    result = s.run("sel", {m[0]: ["a", "b"], m[1]: ["b", "a"], m[2]: ["b", "c"], m[3]: ["c"], m[4]: []})
    assert [r["id"] for r in result["lines"]] == ["b", "a", "c", "d"]
    assert [r["rank"] for r in result["lines"]] == [1, 2, 2, 4]
    assert result["verdict"] == "tie" and result["selected"] == ["b"]
    assert result["tie"] == {"seats": 1, "candidates": ["a", "c"]}
    assert line(result, "a")["verdict"] == "tie" and line(result, "d")["verdict"] == "not_selected"
    assert s.meeting.ballots["sel"].urn_digest  # secret by default


def test_minimum_and_choice_order_is_canonical() -> None:
    spec = Sitting([ballot(minimum=2)]).meeting.ballots["sel"].spec
    assert selection.normalize_choice(spec, ["c", "a"]) == ["a", "c"]
    result = selection.tally(spec, [["a", "c"], ["a"], ["a", "b"]], Turnout(6, 6, 3))
    assert result["selected"] == ["a"] and result["verdict"] == "decided"  # b and c below the minimum of 2
    assert line(result, "b")["needed"] == 2 and line(result, "b")["eligible"] is False


def test_too_many_marks_refused_at_cast_time_and_exact_enforced() -> None:
    s = Sitting([ballot(exact=True)])
    s.do(c.OpenBallot("sel"))
    for bad in (["a", "b", "c"], ["a"], ["a", "a"], ["a", "z"], "a"):
        with pytest.raises(CommandError) as err:
            s.cast("m01", "sel", bad)
        assert err.value.code == "invalid_choice"
    s.cast("m01", "sel", ["a", "b"])


def test_a_rule_can_demand_a_majority_of_all() -> None:
    s = Sitting([ballot(rule="majority_of_all")], n=5)
    m = s.members
    result = s.run("sel", {m[0]: ["a", "b"], m[1]: ["a", "b"], m[2]: ["a"], m[3]: ["c"]})
    assert result["selected"] == ["a"]  # b has 2 of 5 seated: not more than half
    assert line(result, "b")["needed"] == 3


def test_the_result_has_the_documented_form_and_a_minimum_is_reached_at_it() -> None:
    spec = Sitting([ballot(minimum=2)], n=6).meeting.ballots["sel"].spec
    result = selection.tally(spec, [["a", "b"], ["b", "a"], ["b", "c"], ["c"], []], Turnout(9, 6, 5))
    row = {"base_value": 9, "needed": 2}
    assert result == {
        "kind": "selection",
        "seated": 9,
        "present": 6,
        "voted": 5,
        "not_voted": 1,
        "invalid": 0,
        "rule": {"option": "for", "cmp": ">=", "fraction": "0/1", "base": "seated", "constant": 0},
        "seats": 2,
        "minimum": 2,
        "lines": [
            {
                "id": "b",
                "label": "乙",
                "counts": {"for": 3},
                "rank": 1,
                **row,
                "eligible": True,
                "selected": True,
                "tied": False,
                "verdict": "selected",
            },
            {
                "id": "a",
                "label": "甲",
                "counts": {"for": 2},
                "rank": 2,
                **row,
                "eligible": True,
                "selected": False,
                "tied": True,
                "verdict": "tie",
            },
            {
                "id": "c",
                "label": "丙",
                "counts": {"for": 2},
                "rank": 2,
                **row,
                "eligible": True,
                "selected": False,
                "tied": True,
                "verdict": "tie",
            },
            {
                "id": "d",
                "label": "丁",
                "counts": {"for": 0},
                "rank": 4,
                **row,
                "eligible": False,
                "selected": False,
                "tied": False,
                "verdict": "not_selected",
            },
        ],
        "selected": ["b"],
        "tie": {"seats": 1, "candidates": ["a", "c"]},  # 2 votes reach the minimum of 2
        "verdict": "tie",
    }
    clear = selection.tally(spec, [["a", "b"], ["a", "b"]], Turnout(9, 6, 2))
    assert clear["selected"] == ["a", "b"] and clear["tie"] is None and clear["verdict"] == "decided"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a", "choice must be a list of candidate ids"),
        (["a", "zz"], "no candidate 'zz' on this ballot"),
        (["a", "a"], "'a' is chosen twice"),
        (["a", "b", "c"], "choose at most 2, not 3"),
    ],
)
def test_a_refused_selection_paper_says_why(raw: object, message: str) -> None:
    spec = Sitting([ballot()]).meeting.ballots["sel"].spec
    with pytest.raises(CommandError) as err:
        selection.normalize_choice(spec, raw)
    assert (err.value.code, err.value.message) == ("invalid_choice", message)
    exact = Sitting([ballot(exact=True)]).meeting.ballots["sel"].spec
    with pytest.raises(CommandError) as err:
        selection.normalize_choice(exact, ["a"])
    assert err.value.message == "choose exactly 2, not 1"


def test_the_highest_counts_are_selected_and_a_rule_may_count_papers_cast() -> None:
    spec = Sitting([ballot(rule={"fraction": "1/4", "cmp": ">=", "base": "cast"})], n=8).meeting.ballots["sel"].spec
    papers = [["a", "b"]] * 3 + [["a", "c"]] * 2 + [["b", "d"]] * 2 + [["a"]]
    result = selection.tally(spec, papers, Turnout(9, 9, 8))
    assert [line(result, x)["counts"]["for"] for x in "abcd"] == [6, 5, 2, 2]
    assert line(result, "a")["base_value"] == 8 and line(result, "a")["needed"] == 2  # a quarter of 8 papers
    assert result["selected"] == ["a", "b"] and result["tie"] is None


def test_a_selection_without_options_chooses_at_most_its_seats_with_no_minimum() -> None:
    assert Sitting([ballot()]).meeting.ballots["sel"].spec.params == {
        "seats": 2,
        "exact": False,
        "minimum": 0,
        "candidates": CANDIDATES,
    }
