"""Appointment and removal (人事任免): per-nominee verdicts, both modes, keypad strings."""

from __future__ import annotations

import pytest

from server.core import commands as c
from server.core.errors import CommandError
from server.core.kinds import appointment
from server.core.kinds.common import Turnout
from server.core.rules import threshold_from_dict
from tests.test_kinds_common import Sitting, line

NOMINEES = [
    {"id": "zhang", "name": "张三", "post": "市公安局局长"},
    {"id": "li", "name": "李四", "post": "市教育局局长"},
    {"id": "wang", "name": "王五", "post": "市财政局副局长", "action": "remove"},
]


def each(**kw: object) -> dict:
    return {"id": "rm", "title": "人事任免", "kind": "appointment", "nominees": NOMINEES, **kw}


def test_mode_each_expands_to_one_ballot_per_nominee_named_and_posted() -> None:
    s = Sitting([each()])
    ballots = s.meeting.ballots
    assert [b for b in ballots] == ["rm-zhang", "rm-li", "rm-wang"]
    spec = ballots["rm-wang"].spec
    assert spec.title == "人事任免：免去王五的市财政局副局长职务"  # a removal says so
    assert ballots["rm-zhang"].spec.title == "人事任免：任命张三为市公安局局长"
    assert spec.params["nominees"] == [{"id": "wang", "name": "王五", "post": "市财政局副局长", "action": "remove"}]
    assert spec.rule.base == "seated" and spec.secret is False


def test_one_nominee_of_three_fails_one_at_a_time_with_keypad_strings() -> None:
    # 9 seated, 7 present: more than half of ALL (9) needs 5 "for".
    s = Sitting([each()], n=9, present=7)
    m = s.members
    r1 = s.run("rm-zhang", {x: "for" for x in m[:6]} | {m[6]: "against"})
    r2 = s.run("rm-li", {x: "for" for x in m[:4]} | {m[4]: "against", m[5]: "abstain", m[6]: "abstain"})
    r3 = s.run("rm-wang", {x: "for" for x in m[:5]})
    assert (r1["verdict"], r2["verdict"], r3["verdict"]) == ("passed", "failed", "passed")
    li = line(r2, "li")
    assert li["counts"] == {"for": 4, "against": 1, "abstain": 2}
    assert li["needed"] == 5 and li["base_value"] == 9 and li["post"] == "市教育局局长"
    assert r3["lines"][0]["action"] == "remove" and r3["lines"][0]["not_voted"] == 2
    # the keypad string is stored in the one canonical form
    assert s.meeting.ballots["rm-zhang"].named[m[0]] == {"zhang": "for"}


def test_together_one_paper_own_verdicts_and_unanswered_counted_not_voted() -> None:
    s = Sitting([each(mode="together")], n=5)
    m = s.members
    result = s.run(
        "rm",
        {
            m[0]: {"zhang": "for", "li": "for", "wang": "for"},
            m[1]: {"zhang": "for", "li": "against", "wang": "for"},
            m[2]: {"zhang": "for", "li": "abstain"},  # wang unanswered
            m[3]: {"zhang": "against", "wang": "for", "li": None},
        },
    )
    assert result["passed"] == ["zhang", "wang"] and result["failed"] == ["li"]
    assert result["verdict"] == "mixed"
    assert line(result, "zhang")["counts"] == {"for": 3, "against": 1, "abstain": 0}
    assert line(result, "wang")["not_voted"] == 2  # m03 left it blank, m05 did not vote
    assert line(result, "li")["not_voted"] == 2
    assert result["voted"] == 4 and result["not_voted"] == 1


def test_together_refuses_strings_unknown_nominees_and_bad_marks() -> None:
    s = Sitting([each(mode="together")])
    s.do(c.OpenBallot("rm"))
    for bad in ("for", {"nobody": "for"}, {"zhang": "yes"}, ["for"]):
        with pytest.raises(CommandError) as err:
            s.cast("m01", "rm", bad)
        assert err.value.code == "invalid_choice"


def test_single_nominee_refuses_an_empty_paper() -> None:
    s = Sitting([each()])
    s.do(c.OpenBallot("rm-zhang"))
    with pytest.raises(CommandError):
        s.cast("m01", "rm-zhang", {})


def test_created_ballot_in_mode_each_must_hold_one_nominee() -> None:
    s = Sitting([])
    with pytest.raises(CommandError) as err:
        s.do(c.CreateBallot("item1", {**each(), "id": "adhoc"}))
    assert err.value.code == "invalid_ballot" and "one nominee on each ballot" in err.value.message
    s.do(c.CreateBallot("item1", {**each(), "id": "adhoc", "nominees": NOMINEES[:1]}))
    assert s.meeting.ballots["adhoc"].spec.params["mode"] == "each"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("for", "choice must map each nominee id to for, against or abstain"),
        ({"zz": "for"}, "no nominee 'zz' on this ballot"),
        ({"zhang": "yes"}, "the choice for 'zhang' must be one of for, against, abstain"),
    ],
)
def test_a_refused_appointment_paper_says_why(raw: object, message: str) -> None:
    spec = next(iter(Sitting([each(mode="together")]).meeting.ballots.values())).spec
    with pytest.raises(CommandError) as err:
        appointment.normalize_choice(spec, raw)
    assert (err.value.code, err.value.message) == ("invalid_choice", message)
    single = Sitting([each()]).meeting.ballots["rm-zhang"].spec
    with pytest.raises(CommandError) as err:
        appointment.normalize_choice(single, {})  # a blank paper for one nominee
    assert err.value.message == "choice must be one of for, against, abstain"


def test_a_list_voted_together_has_the_documented_form_and_a_mixed_verdict() -> None:
    nominees = [
        {"id": "zhang", "name": "张三", "post": "局长"},
        {"id": "li", "name": "李四", "post": "副局长", "action": "remove"},
    ]
    spec = next(iter(Sitting([each(mode="together", nominees=nominees)]).meeting.ballots.values())).spec
    papers = [{"zhang": "for", "li": "against"}, {"zhang": "for"}, {"zhang": "for", "li": "for"}]
    result = appointment.tally(spec, papers, Turnout(5, 3, 3))
    assert result == {
        "kind": "appointment",
        "seated": 5,
        "present": 3,
        "voted": 3,
        "not_voted": 0,
        "invalid": 0,
        "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0},
        "mode": "together",
        "lines": [
            {
                "id": "zhang",
                "label": "张三",
                "post": "局长",
                "action": "appoint",
                "counts": {"for": 3, "against": 0, "abstain": 0},
                "not_voted": 0,
                "verdict": "passed",
                "base_value": 5,
                "needed": 3,
            },
            {
                "id": "li",
                "label": "李四",
                "post": "副局长",
                "action": "remove",
                "counts": {"for": 1, "against": 1, "abstain": 0},
                "not_voted": 1,
                "verdict": "failed",
                "base_value": 5,
                "needed": 3,
            },
        ],
        "passed": ["zhang"],
        "failed": ["li"],
        "verdict": "mixed",
    }
    assert appointment.tally(spec, [{"zhang": "for", "li": "for"}] * 3, Turnout(5, 3, 3))["verdict"] == "passed"
    assert appointment.tally(spec, [{"zhang": "against"}] * 3, Turnout(5, 3, 3))["verdict"] == "failed"


def test_each_nominees_ballot_is_titled_in_the_language_of_its_names() -> None:
    english = {
        "id": "rm",
        "title": "Appointments",
        "kind": "appointment",
        "nominees": [
            {"id": "z", "name": "Zhang San", "post": "Chief"},
            {"id": "w", "name": "Wang Wu", "post": "Deputy", "action": "remove"},
        ],
    }
    assert [(b["id"], b["title"]) for b in appointment.expand(english)] == [
        ("rm-z", "Appointments: appoint Zhang San as Chief"),
        ("rm-w", "Appointments: remove Wang Wu as Deputy"),
    ]
    for name, post, title in (
        ("张三", "Chief", "Appointments：任命张三为Chief"),
        ("Zhang", "局长", "Appointments：任命Zhang为局长"),
    ):
        raw = {**english, "nominees": [{"id": "z", "name": name, "post": post}]}
        assert [b["title"] for b in appointment.expand(raw)] == [title]


@pytest.mark.parametrize(
    ("params", "rule", "problem"),
    [
        (
            {"mode": "each", "nominees": NOMINEES[:2]},
            {},
            'nominees: mode "each" puts one nominee on each ballot; create one ballot per nominee, or use mode "together"',
        ),
        ({"mode": "both", "nominees": NOMINEES[:1]}, {}, "mode: must be one of each, together, not 'both'"),
        (
            {"nominees": NOMINEES[:1]},
            {"option": "yes"},
            "rule: counts 'yes', which is not one of for, against, abstain",
        ),
    ],
)
def test_an_appointment_the_count_cannot_use_is_refused_saying_why(params: dict, rule: dict, problem: str) -> None:
    assert appointment.check_params(params, threshold_from_dict(rule)) == [problem]
