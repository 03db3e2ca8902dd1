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
