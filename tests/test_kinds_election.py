"""Election (选举): write-ins, spoilt papers, thresholds, ties and further rounds."""

from __future__ import annotations

import pytest

from server.core import commands as c
from server.core.errors import CommandError
from server.core.kinds import election
from server.core.kinds.common import Turnout
from tests.test_kinds_common import Sitting, line

CANDIDATES = [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}, {"id": "c", "name": "丙"}]


def ballot(**kw: object) -> dict:
    return {"id": "el", "title": "选举副主任", "kind": "election", "seats": 2, "candidates": CANDIDATES, **kw}


def test_write_in_by_a_voter_who_abstained_is_refused_with_a_clear_code() -> None:
    s = Sitting([ballot()])
    s.do(c.OpenBallot("el"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "el", {"a": {"mark": "abstain", "write_in": "王五"}})
    assert err.value.code == "write_in_not_allowed"
    assert "against" in err.value.message
    with pytest.raises(CommandError) as err:
        s.cast("m01", "el", {"a": {"mark": "for", "write_in": "王五"}})
    assert err.value.code == "write_in_not_allowed"
    assert s.meeting.ballots["el"].voters == set()
    s.cast("m01", "el", {"a": {"mark": "against", "write_in": "王五"}})  # against: allowed
    assert s.meeting.ballots["el"].voters == {"m01"}


def test_write_ins_refused_when_the_election_takes_none() -> None:
    s = Sitting([ballot(write_ins=False)])
    s.do(c.OpenBallot("el"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "el", {"a": {"mark": "against", "write_in": "王五"}})
    assert err.value.code == "write_in_not_allowed"


def test_write_in_names_are_normalised_for_width_and_spaces() -> None:
    spec = Sitting([ballot(secret=False)]).meeting.ballots["el"].spec
    one = election.normalize_choice(spec, {"a": {"mark": "against", "write_in": "  Ｗａｎｇ　 Wu "}})
    two = election.normalize_choice(spec, {"b": {"mark": "against", "write_in": "Wang Wu"}})
    assert one == {"a": {"mark": "against", "write_in": "Wang Wu"}}
    result = election.tally(spec, [one, two], Turnout(5, 5, 2))
    assert line(result, "write_in:Wang Wu")["counts"] == {"for": 2}
    with pytest.raises(CommandError):  # a candidate's own name is a "for", not a write-in
        election.normalize_choice(spec, {"a": {"mark": "against", "write_in": " 乙 "}})
    with pytest.raises(CommandError):  # the same person twice on one paper
        election.normalize_choice(
            spec, {"a": {"mark": "against", "write_in": "丁"}, "b": {"mark": "against", "write_in": "丁"}}
        )


def test_over_vote_is_accepted_recorded_and_counted_invalid() -> None:
    s = Sitting([ballot()], n=5)
    m = s.members
    s.do(c.OpenBallot("el"))
    s.cast(m[0], "el", {"a": "for", "b": "for", "c": "for"})  # three "for" for two seats
    s.cast(m[1], "el", {"a": "for", "b": "for", "c": {"mark": "against", "write_in": "丁"}})  # write-in makes three
    s.cast(m[2], "el", {"a": "for", "b": "for", "c": "against"})
    assert len(s.meeting.ballots["el"].urn) == 3  # nothing refused, nothing lost
    s.do(c.CloseBallot("el"))
    result = s.meeting.ballots["el"].result
    assert result["voted"] == 3 and result["invalid"] == 2 and result["valid"] == 1
    assert line(result, "a")["counts"] == {"for": 1, "against": 0, "abstain": 0}
    assert not any(row["write_in"] for row in result["lines"])  # the spoilt paper's write-in is not counted


def test_elected_needs_more_than_half_of_all_seated_and_highest_win() -> None:
    # 7 seated, 2 seats, threshold: for > 3.5, i.e. 4. a=6, b=5, c=4: all pass, a and b win.
    s = Sitting([ballot()], n=7)
    m = s.members
    papers = [{"a": "for", "b": "for"}] * 3 + [{"a": "for", "c": "for"}] * 2 + [{"b": "for", "c": "for"}] * 2
    result = s.run("el", dict(zip(m, papers)))
    assert result["elected"] == ["a", "b"] and result["verdict"] == "elected"
    assert result["further_round"] is None and result["contest"] == "competitive"
    assert line(result, "c")["passed"] is True and line(result, "c")["elected"] is False
    assert line(result, "a")["needed"] == 4 and line(result, "a")["rank"] == 1


def test_equal_counts_below_the_threshold_are_not_a_tie() -> None:
    s = Sitting([ballot()], n=7)
    m = s.members
    papers = (
        [{"a": "for", "b": "for"}] * 2
        + [{"a": "for", "c": "for"}] * 2
        + [{"b": "for", "c": "for"}, {"a": "for"}, {"a": "for"}]
    )
    result = s.run("el", dict(zip(m, papers)))
    assert [line(result, x)["counts"]["for"] for x in "abc"] == [6, 3, 3]
    assert result["elected"] == ["a"] and result["verdict"] == "further_round_needed"
    assert result["further_round"]["reason"] == "too_few_elected"  # b, c below 4: not a tie


def test_equal_counts_that_both_fit_the_seats_are_both_elected() -> None:
    s = Sitting([ballot()], n=7)
    papers = [{"a": "for", "b": "for"}] * 2 + [{"a": "for", "c": "for"}] * 2 + [{"b": "for", "c": "for"}] * 3
    result = s.run("el", dict(zip(s.members, papers)))
    assert [line(result, x)["counts"]["for"] for x in "abc"] == [4, 5, 5]
    assert result["elected"] == ["b", "c"]  # 5 and 5 fill both seats; a's 4 comes third


def test_tie_at_the_last_seat_yields_further_round_needed_among_the_tied() -> None:
    papers = [{"a": "for", "b": "for"}] * 3 + [{"a": "for", "c": "for"}] * 3 + [{"b": "for", "c": "for"}]
    s2 = Sitting([ballot()], n=7)
    result = s2.run("el", dict(zip(s2.members, papers)))
    assert [line(result, x)["counts"]["for"] for x in "abc"] == [6, 4, 4]
    assert result["elected"] == ["a"] and result["verdict"] == "further_round_needed"
    assert result["further_round"] == {
        "reason": "tie_at_last_seat",
        "seats": 1,
        "candidates": [{"id": "b", "name": "乙"}, {"id": "c", "name": "丙"}],
    }
    assert line(result, "b")["verdict"] == "tie" and line(result, "b")["tied"] is True

    nxt = election.further_round(s2.meeting.ballots["el"].spec, result)
    assert nxt["id"] == "el-r2" and nxt["round"] == 2 and nxt["seats"] == 1
    assert nxt["title"] == "选举副主任（第2轮）" and nxt["secret"] is True
    assert [x["id"] for x in nxt["candidates"]] == ["b", "c"]
    # the clerk creates it with the existing command, and it runs like any election
    s2.do(c.CreateBallot("item1", nxt))
    result2 = s2.run("el-r2", {x: {"b": "for"} for x in s2.members[:4]})
    assert result2["elected"] == ["b"] and result2["round"] == 2 and result2["contest"] == "competitive"
    assert (
        election.further_round(
            s2.meeting.ballots["el-r2"].spec,
            {**result2, "further_round": {"reason": "tie_at_last_seat", "seats": 1, "candidates": nxt["candidates"]}},
        )["id"]
        == "el-r3"
    )


def test_too_few_elected_sends_remaining_seats_to_another_round() -> None:
    s = Sitting([ballot(seats=2, candidates=CANDIDATES[:2])], n=5)  # 等额: 2 for 2
    m = s.members
    result = s.run(
        "el",
        {
            m[0]: {"a": "for", "b": "for"},
            m[1]: {"a": "for", "b": "against"},
            m[2]: {"a": "for", "b": "abstain"},
            m[3]: {"a": "against"},
        },
    )
    assert result["contest"] == "uncontested"
    assert result["elected"] == ["a"] and result["seats_filled"] == 1
    assert result["further_round"] == {
        "reason": "too_few_elected",
        "seats": 1,
        "candidates": [{"id": "b", "name": "乙"}],
    }
    assert line(result, "b")["unmarked"] == 1
    with pytest.raises(ValueError):
        election.further_round(s.meeting.ballots["el"].spec, {"further_round": None})


def test_write_in_can_be_elected_when_past_the_threshold() -> None:
    s = Sitting([ballot(seats=1, candidates=CANDIDATES[:1])], n=5)
    votes = {x: {"a": {"mark": "against", "write_in": "王五"}} for x in s.members[:3]}
    result = s.run("el", votes)
    assert result["elected"] == ["write_in:王五"]
    assert line(result, "a")["counts"]["against"] == 3 and line(result, "a")["elected"] is False


def test_two_tied_write_ins_become_w1_and_w2_in_the_next_round() -> None:
    s = Sitting(
        [
            ballot(
                seats=1, candidates=[{"id": "a", "name": "甲"}], rule={"fraction": "1/3", "cmp": ">=", "base": "cast"}
            )
        ],
        n=4,
    )
    papers = [{"a": {"mark": "against", "write_in": name}} for name in ("张三", "张三", "李四", "李四")]
    result = s.run("el", dict(zip(s.members, papers, strict=True)))
    assert result["further_round"]["reason"] == "tie_at_last_seat"
    nxt = election.further_round(s.meeting.ballots["el"].spec, result)
    assert nxt["candidates"] == [{"id": "w1", "name": "张三"}, {"id": "w2", "name": "李四"}]


@pytest.mark.parametrize(
    ("paper", "message"),
    [
        ({"a": {"mark": "against", "write_in": 7}}, "the write-in next to 'a' must be a name"),
        (
            {"a": {"mark": "against", "write_in": "丁"}, "b": {"mark": "against", "write_in": "丁"}},
            "丁 is written in twice",
        ),
        (
            {"a": {"mark": "against", "write_in": " 乙 "}},
            '乙 is a candidate on this ballot: mark them "for" instead of writing them in',
        ),
    ],
)
def test_a_spoilt_paper_is_refused_as_an_invalid_choice_saying_why(paper: dict, message: str) -> None:
    s = Sitting([ballot()])
    s.do(c.OpenBallot("el"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "el", paper)
    assert (err.value.code, err.value.message) == ("invalid_choice", message)


def tied(title: str, **kw: object) -> tuple[object, dict]:
    """A closed election (``title``) that needs a further round: b and c tied for the last seat."""
    papers = [{"a": "for", "b": "for"}] * 3 + [{"a": "for", "c": "for"}] * 3 + [{"b": "for", "c": "for"}]
    s = Sitting([ballot(title=title, **kw)], n=7)
    result = s.run("el", dict(zip(s.members, papers, strict=True)))
    return s.meeting.ballots["el"].spec, result


@pytest.mark.parametrize(
    ("title", "second", "third"),
    [
        ("选举副主任", "选举副主任（第2轮）", "选举副主任（第3轮）"),
        ("Vice-chair", "Vice-chair — round 2", "Vice-chair — round 3"),
    ],
)
def test_a_further_rounds_title_counts_the_rounds_in_the_papers_language(title: str, second: str, third: str) -> None:
    spec, result = tied(title)
    nxt = election.further_round(spec, result)
    assert nxt["title"] == second
    s = Sitting([ballot(**{**nxt, "id": "el"})], n=7)  # the second round, tied again
    papers = [{"b": "for"}] * 3 + [{"c": "for"}] * 3
    again = s.run("el", dict(zip(s.members, papers, strict=False)))
    assert election.further_round(s.meeting.ballots["el"].spec, again)["title"] == third


def test_a_long_title_is_cut_to_fit_its_round_and_the_countdown_carries_over() -> None:
    fits = "选" * (300 - len("（第2轮）"))
    spec, result = tied(fits, countdown=60)
    nxt = election.further_round(spec, result)
    assert nxt["title"] == fits + "（第2轮）" and nxt["countdown"] == 60  # exactly 300: kept whole
    spec, result = tied("选" * 300)
    title = election.further_round(spec, result)["title"]
    assert len(title) == 300 and title == "选" * (300 - len("（第2轮）") - 1) + "…（第2轮）"
    assert "countdown" not in election.further_round(spec, result)


def paper(raw: object) -> object:
    """The paper as stored, or the refusal's message."""
    spec = Sitting([ballot()]).meeting.ballots["el"].spec
    try:
        return election.normalize_choice(spec, raw)
    except CommandError as err:
        assert err.code == "invalid_choice"
        return err.message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ({"a": None, "b": "for"}, {"b": "for"}),  # a blank line does not end the paper
        ({"a": {"mark": None}, "c": "against"}, {"c": "against"}),
        ({"a": {"mark": "for", "write_in": None}}, {"a": "for"}),
        ({"a": {"mark": "for"}}, {"a": "for"}),
        ({"a": {"mark": "against", "write_in": "W" * 40}}, {"a": {"mark": "against", "write_in": "W" * 40}}),
        ("for", "choice must map candidate ids to for, against or abstain"),  # three candidates: which?
        ({"a": "maybe", "zz": "for"}, "no candidate 'zz' on this ballot"),  # unknown ids are named first
        ({"a": {"mark": "for", "x": 1}}, "the choice for 'a' may only hold mark and write_in"),
        ({"b": "maybe"}, "the mark for 'b' must be one of for, against, abstain"),
        ({"a": {"mark": "against", "write_in": "W" * 41}}, "the write-in next to 'a' is not a plausible name"),
        ({"a": {"mark": "against", "write_in": "张\u200b三"}}, "the write-in next to 'a' is not a plausible name"),
        ({"a": {"mark": "against", "write_in": "张\x07三"}}, "the write-in next to 'a' is not a plausible name"),
    ],
)
def test_a_paper_is_stored_in_one_form_or_refused_naming_the_line(raw: object, stored: object) -> None:
    assert paper(raw) == stored


def test_a_single_candidate_paper_may_be_a_bare_mark() -> None:
    spec = Sitting([ballot(seats=1, candidates=CANDIDATES[:1])]).meeting.ballots["el"].spec
    assert election.normalize_choice(spec, "against") == {"a": "against"}


def test_write_in_refusals_name_the_candidate_line() -> None:
    s = Sitting([ballot(write_ins=False)])
    s.do(c.OpenBallot("el"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "el", {"b": {"mark": "against", "write_in": "王五"}})
    assert err.value.message == "this election takes no write-ins"
    s = Sitting([ballot()])
    s.do(c.OpenBallot("el"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "el", {"b": {"mark": "for", "write_in": "王五"}})
    assert err.value.message == "only a voter against 'b' may write in another person (另选他人), not one who votes for"


PAPERS = [{"a": "for"}, {"a": "for", "b": "abstain"}, {"b": "against"}, {"a": "for", "b": "for"}]  # the last over-votes


@pytest.mark.parametrize(
    ("base", "a_base", "b_base"),
    [("seated", 9, 9), ("present", 6, 6), ("cast", 3, 3), ("cast_excluding_abstain", 3, 2)],
)
def test_each_base_counts_against_the_number_the_rule_names(base: str, a_base: int, b_base: int) -> None:
    spec = Sitting([ballot(seats=1, rule={"fraction": "1/2", "base": base})]).meeting.ballots["el"].spec
    result = election.tally(spec, PAPERS, Turnout(9, 6, 4))
    assert (line(result, "a")["base_value"], line(result, "b")["base_value"]) == (a_base, b_base)


def test_the_result_has_the_documented_form_line_by_line() -> None:
    """docs/ballot-kinds.md, election: screens and certificates print these keys as they are."""
    spec = Sitting([ballot(seats=1, rule={"fraction": "1/2", "base": "present"})]).meeting.ballots["el"].spec
    result = election.tally(spec, PAPERS, Turnout(9, 6, 4))
    common = {"write_in": False, "base_value": 6, "needed": 4, "passed": False, "elected": False, "tied": False}
    assert result == {
        "kind": "election",
        "seated": 9,
        "present": 6,
        "voted": 4,
        "not_voted": 2,
        "invalid": 1,
        "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "present", "constant": 0},
        "valid": 3,
        "seats": 1,
        "round": 1,
        "contest": "competitive",
        "lines": [
            {
                "id": "a",
                "label": "甲",
                "counts": {"for": 2, "against": 0, "abstain": 0},
                "unmarked": 1,
                "rank": 1,
                **common,
                "verdict": "not_elected",
            },
            {
                "id": "b",
                "label": "乙",
                "counts": {"for": 0, "against": 1, "abstain": 1},
                "unmarked": 1,
                "rank": 2,
                **common,
                "verdict": "not_elected",
            },
            {
                "id": "c",
                "label": "丙",
                "counts": {"for": 0, "against": 0, "abstain": 0},
                "unmarked": 3,
                "rank": 2,
                **common,
                "verdict": "not_elected",
            },
        ],
        "elected": [],
        "seats_filled": 0,
        "further_round": {"reason": "too_few_elected", "seats": 1, "candidates": CANDIDATES},
        "verdict": "further_round_needed",
    }


def test_among_those_who_pass_the_highest_counts_fill_the_seats() -> None:
    s = Sitting([ballot(seats=2, rule={"fraction": "1/3", "cmp": ">=", "base": "cast"})], n=7)
    papers = [{"a": "for", "b": "for"}] * 3 + [{"a": "for", "c": "for"}] * 3 + [{"b": "for"}]
    result = s.run("el", dict(zip(s.members, papers, strict=True)))
    assert [line(result, x)["counts"]["for"] for x in "abc"] == [6, 4, 3]
    assert [line(result, x)["passed"] for x in "abc"] == [True, True, True]  # 3 of 7 reaches a third
    assert result["elected"] == ["a", "b"]
    assert [line(result, x)["verdict"] for x in "abc"] == ["elected", "elected", "not_elected"]


def test_with_more_passing_than_seats_the_highest_counts_are_elected_in_order_of_votes() -> None:
    four = [{"id": x, "name": n} for x, n in zip("abcd", "甲乙丙丁", strict=True)]
    spec = (
        Sitting([ballot(seats=2, candidates=four, rule={"fraction": "0", "cmp": ">", "base": "cast"})])
        .meeting.ballots["el"]
        .spec
    )
    papers = (
        [{"a": "for", "b": "for"}] * 3
        + [{"a": "for", "c": "for"}] * 2
        + [{"b": "for", "d": "for"}] * 2
        + [{"a": "for", "c": "for"}]
    )
    result = election.tally(spec, papers, Turnout(9, 9, 8))
    assert [line(result, x)["counts"]["for"] for x in "abcd"] == [6, 5, 3, 2]
    assert result["elected"] == ["a", "b"] and result["further_round"] is None and result["verdict"] == "elected"


def test_a_write_in_line_measured_without_abstentions_counts_every_valid_paper() -> None:
    """A write-in line has only "for" counts: with base cast_excluding_abstain its base is every valid paper."""
    spec = (
        Sitting([ballot(seats=1, rule={"fraction": "1/2", "base": "cast_excluding_abstain"})])
        .meeting.ballots["el"]
        .spec
    )
    papers = [{"a": {"mark": "against", "write_in": "王五"}}, {"a": "abstain"}, {"a": "for"}]
    result = election.tally(spec, papers, Turnout(9, 6, 3))
    assert line(result, "write_in:王五")["base_value"] == 3
    assert line(result, "a")["base_value"] == 2
