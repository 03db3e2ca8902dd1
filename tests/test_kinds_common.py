"""Helpers shared by the kind tests (a sitting driven through Meeting.decide/apply),
and tests of what the kinds share: picking winners, ranks, keypads, agenda checks.

Kept free of the server adapters on purpose: the kinds are pure core.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.errors import AgendaError, CommandError
from server.core.kinds import KINDS, URN_BLOCK, keypad_ok, keypad_options, urn_block
from server.core.kinds.common import Turnout, has_cjk, percent, pick, ranks
from server.core.meeting import Meeting
from server.core.rules import threshold_from_dict
from tests.support import make_agenda


def agenda_dict(ballots: list[dict[str, Any]], n: int = 5) -> dict[str, Any]:
    return {
        "meeting": {"title": "常委会会议", "language": "zh-CN", "rule": "majority_of_all"},
        "members": [{"id": f"m{i:02d}", "name": f"委员{i}", "seat": f"S{i:03d}"} for i in range(1, n + 1)],
        "items": [{"id": "item1", "title": "议题", "ballots": ballots}],
    }


class Sitting:
    """A meeting driven the way the runtime drives it: decide, then apply each event."""

    def __init__(self, ballots: list[dict[str, Any]], n: int = 5, present: int | None = None) -> None:
        self.meeting = Meeting(agenda_from_dict(agenda_dict(ballots, n)))
        self.events: list[e.Event] = []
        self.now = 1000.0
        self._entries = itertools.count(1)
        self._keys = itertools.count(1)
        for m in self.meeting.agenda.members[: n if present is None else present]:
            self.do(c.SetAttendance(m.id, "present"))

    @property
    def members(self) -> list[str]:
        return [m.id for m in self.meeting.agenda.members]

    def do(self, command: c.Command) -> list[e.Event]:
        self.now += 1
        out = list(self.meeting.decide(command, self.now, lambda: f"e{next(self._entries)}").events)
        for event in out:
            self.events.append(event)
            self.meeting.apply(event, len(self.events) if event.LOGGED else None)
        return out

    def cast(self, member: str, ballot: str, choice: Any) -> list[e.Event]:
        return self.do(c.Cast(member, ballot, choice, key=f"k{next(self._keys)}"))

    def run(self, ballot: str, votes: dict[str, Any]) -> dict[str, Any]:
        """Open, cast each member's choice, close; returns the stored result."""
        self.do(c.OpenBallot(ballot))
        for member, choice in votes.items():
            self.cast(member, ballot, choice)
        self.do(c.CloseBallot(ballot))
        return self.meeting.ballots[ballot].result

    def replayed(self) -> Meeting:
        """A fresh meeting fed the record as storage would give it back (no member in the urn)."""
        fresh = Meeting(self.meeting.agenda)
        for i, event in enumerate(self.events, 1):
            if isinstance(event, e.SecretChoice):
                event = e.SecretChoice(event.ballot, event.run, event.entry, event.choice)
            fresh.apply(event, i if event.LOGGED else None)
        return fresh


def line(result: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(row for row in result["lines"] if row["id"] == ident)


# -- shared helpers ------------------------------------------------------------------


def test_pick_fills_seats_by_count_and_leaves_a_straddling_tie_undecided() -> None:
    assert pick([("a", 5), ("b", 4)], 3) == (["a", "b"], [], 0)
    assert pick([("a", 5), ("b", 4), ("c", 3)], 2) == (["a", "b"], [], 0)
    assert pick([("a", 5), ("b", 4), ("c", 4)], 2) == (["a"], ["b", "c"], 1)
    assert pick([("a", 4), ("b", 4), ("c", 4)], 2) == ([], ["a", "b", "c"], 2)
    assert pick([("a", 4), ("b", 4), ("c", 3)], 2) == (["a", "b"], [], 0)


def test_ranks_share_places_on_equal_counts() -> None:
    assert ranks({"a": 5, "b": 7, "c": 5, "d": 1}) == {"b": 1, "a": 2, "c": 2, "d": 4}


def test_percent_is_exactly_rounded_and_none_without_base() -> None:
    assert percent(1, 3) == 33.33
    assert percent(2, 3) == 66.67
    assert percent(21, 42) == 50.0
    assert percent(0, 0) is None
    assert percent(1, 1) == 100.0  # a base of one is a base


def test_every_kind_offers_the_whole_interface() -> None:
    for name, kind in KINDS.items():
        for attr in (
            "PARAM_KEYS",
            "DEFAULT_RULE",
            "SECRET_BY_DEFAULT",
            "KEYPAD_OK",
            "check_params",
            "normalize_params",
            "normalize_choice",
            "tally",
            "keypad_ok",
            "keypad_options",
        ):
            assert hasattr(kind, attr), (name, attr)


def test_keypad_answers_per_ballot_not_per_kind() -> None:
    people = [{"id": "a", "name": "甲", "post": "局长"}, {"id": "b", "name": "乙", "post": "副局长"}]
    agenda = agenda_from_dict(
        agenda_dict(
            [
                {"id": "mot", "title": "条例"},
                {"id": "one", "title": "任命", "kind": "appointment", "mode": "together", "nominees": people[:1]},
                {"id": "two", "title": "任免", "kind": "appointment", "mode": "together", "nominees": people},
                {"id": "ev1", "title": "测评", "kind": "evaluation", "subjects": [{"id": "s", "title": "工作"}]},
                {
                    "id": "ev2",
                    "title": "测评",
                    "kind": "evaluation",
                    "subjects": [{"id": "s", "title": "工作"}, {"id": "t", "title": "作风"}],
                },
                {
                    "id": "el1",
                    "title": "选举",
                    "kind": "election",
                    "seats": 1,
                    "write_ins": False,
                    "candidates": [{"id": "a", "name": "甲"}],
                },
                {
                    "id": "el2",
                    "title": "选举",
                    "kind": "election",
                    "seats": 1,
                    "candidates": [{"id": "a", "name": "甲"}],
                },
                {
                    "id": "sel",
                    "title": "评选",
                    "kind": "selection",
                    "seats": 1,
                    "candidates": [{"id": "a", "name": "甲"}],
                },
                {
                    "id": "sco",
                    "title": "打分",
                    "kind": "score",
                    "subjects": [{"id": "s", "title": "x", "min": 1, "max": 5}],
                },
            ]
        )
    )
    ok = {b: keypad_ok(spec) for b, spec in agenda.ballots.items()}
    assert ok == {
        "mot": True,
        "one": True,
        "two": False,
        "ev1": True,
        "ev2": False,
        "el1": True,
        "el2": False,
        "sel": False,
        "sco": False,
    }
    assert keypad_options(agenda.ballots["ev1"]) == ["satisfied", "basically_satisfied", "dissatisfied"]
    assert keypad_options(agenda.ballots["one"]) == ["for", "against", "abstain"]
    assert keypad_options(agenda.ballots["two"]) == []


def test_agenda_problems_name_the_exact_key() -> None:
    with pytest.raises(AgendaError) as err:
        agenda_from_dict(
            agenda_dict(
                [
                    {
                        "id": "x",
                        "title": "t",
                        "kind": "election",
                        "seats": 3,
                        "candidates": [{"id": "a", "name": "甲"}],
                    },
                    {
                        "id": "y",
                        "title": "t",
                        "kind": "score",
                        "trim": -1,
                        "subjects": [{"id": "a", "title": "x", "min": 0, "max": 10, "step": 3}],
                    },
                    {
                        "id": "z",
                        "title": "t",
                        "kind": "evaluation",
                        "percent_base": "members",
                        "subjects": [{"id": "a", "title": "x"}, {"id": "a", "title": "y"}],
                    },
                    {
                        "id": "w",
                        "title": "t",
                        "kind": "selection",
                        "seats": 1,
                        "minimum": -2,
                        "candidates": [{"id": "a", "name": "甲", "age": 40}],
                    },
                ]
            )
        )
    problems = "\n".join(err.value.problems)
    for expected in (
        "ballots[0].candidates: 1 candidates cannot fill 3 seats",
        "ballots[1].subjects[0].step: must divide max - min into whole steps",
        "ballots[1].trim: must be a whole number",
        "ballots[2].percent_base: must be one of voted, seated, present",
        "ballots[2].subjects[1].id: duplicate id 'a'",
        "ballots[3].minimum: must be a whole number",
        "ballots[3].candidates[0].age: unknown key",
    ):
        assert expected in problems


def test_refused_choice_changes_nothing() -> None:
    s = Sitting(
        [
            {
                "id": "sel",
                "title": "评选",
                "kind": "selection",
                "seats": 1,
                "candidates": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
            }
        ]
    )
    s.do(c.OpenBallot("sel"))
    with pytest.raises(CommandError) as err:
        s.cast("m01", "sel", ["a", "b"])
    assert err.value.code == "invalid_choice"
    assert s.meeting.ballots["sel"].voters == set()


def test_a_secret_choice_is_padded_to_the_smallest_block_its_longest_keyed_choice_fits() -> None:
    """Every stored row of a ballot has one size (server/store/urn_keys.py): 64 bytes, doubled
    until the longest canonical choice plus its 4-byte length fits; 512 when a keypad cannot
    vote the ballot and its choices are not all known."""

    def block(nominee: str) -> int:
        agenda = make_agenda(
            3,
            ballots=[
                {
                    "id": "ap",
                    "title": "任命",
                    "kind": "appointment",
                    "nominees": [{"id": nominee, "name": "张三", "post": "主任"}],
                }
            ],
        )
        (spec,) = agenda.ballots.values()
        return urn_block(spec)

    assert block("n" * 46) == 64  # {"nnn…":"abstain"}: 60 bytes + 4 fills 64 exactly
    assert block("n" * 47) == 128  # one byte more
    motion_and_election = make_agenda(
        3,
        ballots=[
            {"id": "b1", "title": "动议"},
            {
                "id": "el",
                "title": "选举",
                "kind": "election",
                "seats": 1,
                "candidates": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
            },
        ],
    )
    assert [urn_block(spec) for spec in motion_and_election.ballots.values()] == [64, URN_BLOCK]
    assert URN_BLOCK == 512


@pytest.mark.parametrize(
    ("title", "cjk"),
    [
        ("\u3400", True),
        ("\u9fff", True),
        ("\u3000", True),
        ("\u303f", True),
        ("A\u33ff", False),
        ("\ua000", False),
        ("Vice-chair", False),
    ],
)
def test_generated_titles_use_chinese_punctuation_for_any_cjk_ideograph_or_symbol(title: str, cjk: bool) -> None:
    assert has_cjk(title) is cjk


def test_a_motion_result_has_the_documented_form_and_a_base_without_abstentions() -> None:
    """Options without "abstain": base ``cast_excluding_abstain`` is then every paper cast."""
    agenda = make_agenda(
        3,
        ballots=[
            {
                "id": "b1",
                "title": "动议",
                "options": ["for", "against"],
                "rule": {"fraction": "1/2", "base": "cast_excluding_abstain"},
            }
        ],
    )
    spec = agenda.ballots["b1"]
    assert KINDS["motion"].tally(spec, ["for", "for", "against"], Turnout(9, 6, 3)) == {
        "kind": "motion",
        "seated": 9,
        "present": 6,
        "voted": 3,
        "not_voted": 3,
        "invalid": 0,
        "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "cast_excluding_abstain", "constant": 0},
        "lines": [
            {
                "id": "b1",
                "label": "动议",
                "counts": {"for": 2, "against": 1},
                "verdict": "passed",
                "base_value": 3,
                "needed": 2,
            }
        ],
        "verdict": "passed",
    }
    with pytest.raises(CommandError) as err:
        KINDS["motion"].normalize_choice(spec, "abstain")
    assert (err.value.code, err.value.message) == ("invalid_choice", "choice must be one of for, against")


CANDS = [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}]


@pytest.mark.parametrize(
    ("kind", "params", "rule", "problems"),
    [
        (
            "election",
            {"seats": 1, "candidates": CANDS},
            {"option": "against"},
            ["rule: an election counts \"for\" marks, not 'against'"],
        ),
        (
            "selection",
            {"seats": 1, "candidates": CANDS},
            {"option": "against"},
            ["rule: a selection counts \"for\" marks, not 'against'"],
        ),
        ("election", {"seats": 1, "candidates": CANDS, "write_ins": "yes"}, {}, ["write_ins: must be true or false"]),
        ("election", {"seats": 1, "candidates": CANDS, "round": 0}, {}, ["round: must be a whole number from 1 to 99"]),
        ("election", {"seats": 1, "candidates": CANDS, "round": 99}, {}, []),
        (
            "election",
            {"seats": 1, "candidates": CANDS, "round": 100},
            {},
            ["round: must be a whole number from 1 to 99"],
        ),
        ("selection", {"seats": 1, "candidates": CANDS, "exact": "no"}, {}, ["exact: must be true or false"]),
        ("selection", {"seats": 1, "candidates": CANDS, "minimum": 10_000}, {}, []),
        (
            "selection",
            {"seats": 1, "candidates": CANDS, "minimum": 10_001},
            {},
            ["minimum: must be a whole number from 0 to 10000"],
        ),
    ],
)
def test_election_and_selection_definitions_the_count_cannot_use_are_refused_saying_why(
    kind: str, params: dict[str, Any], rule: dict[str, Any], problems: list[str]
) -> None:
    assert KINDS[kind].check_params(params, threshold_from_dict(rule)) == problems


def test_an_elections_id_leaves_room_for_its_rounds_and_a_rounds_id_is_measured_without_it() -> None:
    election = KINDS["election"]
    assert election.check_id("e" * 60) == [] and election.check_id("e" * 60 + "-r2") == []  # type: ignore[attr-defined]
    assert election.check_id("e" * 61) == ["an election's id is at most 60 characters (room for -r99)"]  # type: ignore[attr-defined]


def test_an_evaluation_without_options_has_the_district_verdict_table_and_percentages_of_papers() -> None:
    params = KINDS["evaluation"].normalize_params({"subjects": [{"id": "w", "title": "t"}]})
    assert params == {
        "subjects": [{"id": "w", "title": "t"}],
        "percent_base": "voted",
        "verdicts": [
            {"verdict": "satisfied", "grades": ["satisfied"]},
            {"verdict": "basically_satisfied", "grades": ["satisfied", "basically_satisfied"]},
            {"verdict": "dissatisfied"},
        ],
    }
    rows = [{"verdict": "好", "grades": ["satisfied"]}, {"verdict": "差"}]
    given = KINDS["evaluation"].normalize_params({"subjects": [{"id": "w", "title": "t"}], "verdicts": rows})
    assert (
        given["verdicts"] == rows and given["verdicts"][0] is not rows[0]
    )  # a copy: the agenda's table stays as written


def test_entry_lists_are_checked_to_their_bounds_and_every_entry_is_named() -> None:
    election, evaluation = KINDS["election"], KINDS["evaluation"]
    rule, graded = threshold_from_dict({}), threshold_from_dict({"option": "satisfied"})
    full = [{"id": f"c{i}", "name": "n"} for i in range(500)]
    assert election.check_params({"seats": 500, "candidates": full}, rule) == []  # 500 of each is allowed
    extra = {f"k{i}": i for i in range(1, 7)}
    assert election.check_params({"seats": 1, "candidates": [7, {"id": "a", "name": "n", **extra}]}, rule) == [
        "candidates[0]: must be a table",  # and the next entry is still checked
        *[f"candidates[1].k{i}: unknown key" for i in range(1, 6)],  # the first five unknown keys
    ]
    long_key = {"id": "a", "name": "n", "x" * 50: 1}
    assert election.check_params({"seats": 1, "candidates": [long_key]}, rule) == [
        f"candidates[0].{'x' * 40}: unknown key"
    ]
    ten = [{"verdict": f"v{i}", "grades": ["satisfied"]} for i in range(10)]
    assert evaluation.check_params({"subjects": [{"id": "w", "title": "t"}], "verdicts": ten}, graded) == []
    rows = [
        7,
        {"verdict": "a", "grades": ["satisfied"], **extra},
        {"verdict": "b", "grades": ["satisfied"], "y" * 50: 1},
    ]
    assert evaluation.check_params({"subjects": [7], "verdicts": rows}, graded) == [
        "subjects[0]: must be a table",  # the subjects' problems are kept beside the verdicts'
        "verdicts[0]: must be a table",
        *[f"verdicts[1].k{i}: unknown key" for i in range(1, 6)],
        f"verdicts[2].{'y' * 40}: unknown key",
    ]


def test_an_appointment_titled_in_chinese_is_titled_in_chinese_whatever_the_names() -> None:
    raw = {
        "id": "rm",
        "title": "人事任免",
        "kind": "appointment",
        "nominees": [{"id": "z", "name": "Zhang", "post": "Chief"}],
    }
    assert [b["title"] for b in KINDS["appointment"].expand(raw)] == ["人事任免：任命Zhang为Chief"]  # type: ignore[attr-defined]
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(agenda_dict([{**raw, "title": 7}]))
    assert info.value.problems == ["items[0].ballots[0].title: must be a string, not int"]


@pytest.mark.parametrize("options", [["for", "for"], ["for", "maybe"], [], "for"])
def test_a_motions_options_are_drawn_from_for_against_abstain_without_repeats(options: Any) -> None:
    assert KINDS["motion"].check_params({"options": options}, threshold_from_dict({})) == [
        "options: must be a list drawn from for, against, abstain without repeats"
    ]
