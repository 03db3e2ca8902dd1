"""Property: for EVERY kind, any sequence of casts (with changes of vote where allowed,
named or secret) driven through Meeting.decide/apply gives the result a straightforward
recount of each member's final choice gives; a replay of the record gives it too.

The recounts here are written independently of the kind modules (plain loops over the
raw choices the test sent), so a bug in a kind's normalisation or tally shows up.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import commands as c
from server.core.errors import CommandError
from server.core.kinds import KINDS
from tests.fuzzing import examples
from tests.test_kinds_common import Sitting, line

N = 7  # seated, all present
MARKS = ("for", "against", "abstain")
GRADES = ("satisfied", "basically_satisfied", "dissatisfied")
# (what a voter types, the person it names): width and spacing variants of two people
WRITE_INS = [
    ("王五", "王五"),
    (" 王　五 ", "王 五"),
    ("Ｗａｎｇ  Wu", "Wang Wu"),
    ("Wang Wu", "Wang Wu"),
    ("赵六", "赵六"),
]
PEOPLE3 = [{"id": x, "name": n} for x, n in zip("abc", "甲乙丙")]


# -- raw choice strategies, one per kind -----------------------------------------------

motion_choice = st.sampled_from(MARKS)
appointment_choice = st.fixed_dictionaries({}, optional={x: st.sampled_from((*MARKS, None)) for x in "abc"})


@st.composite
def election_choice(draw: Callable) -> dict[str, Any]:
    paper: dict[str, Any] = {}
    people_used: set[str] = set()
    for cid in "abc":
        kind = draw(st.sampled_from(("blank", *MARKS, "write_in")))
        if kind == "write_in":
            typed, person = draw(st.sampled_from(WRITE_INS))
            if person in people_used:
                kind = "against"
            else:
                people_used.add(person)
                paper[cid] = {"mark": "against", "write_in": typed}
                continue
        if kind != "blank":
            paper[cid] = kind
    return paper


selection_choice = st.lists(st.sampled_from("abcd"), unique=True, max_size=2)
evaluation_choice = st.fixed_dictionaries(
    {},
    optional={
        s: st.one_of(
            st.sampled_from(GRADES), st.lists(st.sampled_from(GRADES), min_size=2, max_size=2, unique=True), st.none()
        )
        for s in ("s1", "s2", "s3")
    },
)
score_choice = st.fixed_dictionaries(
    {}, optional={"p": st.integers(0, 10), "q": st.integers(2, 10).map(lambda n: n / 2)}
)


# -- independent recounts ------------------------------------------------------------------


def recount_motion(papers: list[Any]) -> dict[str, Any]:
    counts = {m: sum(1 for p in papers if p == m) for m in MARKS}
    return {"counts": counts, "verdict": "passed" if 2 * counts["for"] > N else "failed"}


def project_motion(result: dict[str, Any]) -> dict[str, Any]:
    return {"counts": result["lines"][0]["counts"], "verdict": result["verdict"]}


def recount_appointment(papers: list[Any]) -> dict[str, Any]:
    return {x: {m: sum(1 for p in papers if p.get(x) == m) for m in MARKS} for x in "abc"}


def project_appointment(result: dict[str, Any]) -> dict[str, Any]:
    return {x: line(result, x)["counts"] for x in "abc"}


def _person(typed: str) -> str:
    return dict(WRITE_INS)[typed]


def recount_election(papers: list[Any]) -> dict[str, Any]:
    valid = [p for p in papers if sum(1 for v in p.values() if v == "for" or isinstance(v, dict)) <= 2]
    counts = {x: {m: 0 for m in MARKS} for x in "abc"}
    written: dict[str, int] = {}
    for p in valid:
        for cid, v in p.items():
            if isinstance(v, dict):
                counts[cid]["against"] += 1
                written[_person(v["write_in"])] = written.get(_person(v["write_in"]), 0) + 1
            else:
                counts[cid][v] += 1
    fors = {x: counts[x]["for"] for x in "abc"} | {"write_in:" + k: n for k, n in written.items()}
    passing = sorted((n for n in fors.values() if 2 * n > N), reverse=True)
    if len(passing) <= 2:
        elected = {k for k, n in fors.items() if 2 * n > N}
    elif passing[1] > passing[2]:
        elected = {k for k, n in fors.items() if n >= passing[1]}
    else:
        elected = {k for k, n in fors.items() if n > passing[1]}
    return {"invalid": len(papers) - len(valid), "counts": counts, "written": written, "elected": elected}


def project_election(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "invalid": result["invalid"],
        "counts": {x: line(result, x)["counts"] for x in "abc"},
        "written": {r["label"]: r["counts"]["for"] for r in result["lines"] if r["write_in"]},
        "elected": set(result["elected"]),
    }


def recount_selection(papers: list[Any]) -> dict[str, Any]:
    return {x: sum(1 for p in papers if x in p) for x in "abcd"}


def project_selection(result: dict[str, Any]) -> dict[str, Any]:
    return {x: line(result, x)["counts"]["for"] for x in "abcd"}


def recount_evaluation(papers: list[Any]) -> dict[str, Any]:
    out = {}
    for s in ("s1", "s2", "s3"):
        counts = {g: sum(1 for p in papers if p.get(s) == g) for g in GRADES}
        out[s] = {"counts": counts, "invalid": len(papers) - sum(counts.values())}
    return out


def project_evaluation(result: dict[str, Any]) -> dict[str, Any]:
    return {s: {"counts": line(result, s)["counts"], "invalid": line(result, s)["invalid"]} for s in ("s1", "s2", "s3")}


def recount_score(papers: list[Any]) -> dict[str, Any]:
    out = {}
    for s in ("p", "q"):
        scores = [Fraction(p[s]) for p in papers if s in p]
        out[s] = {
            "count": len(scores),
            "sum": sum(scores, Fraction(0)),
            "mean": round(sum(scores, Fraction(0)) / len(scores), 2) if scores else None,
        }
    return out


def project_score(result: dict[str, Any]) -> dict[str, Any]:
    return {
        s: {
            "count": line(result, s)["count"],
            "sum": Fraction(line(result, s)["sum"]),
            "mean": None if line(result, s)["mean"] is None else Fraction(str(line(result, s)["mean"])),
        }
        for s in ("p", "q")
    }


CASES: dict[str, tuple[dict[str, Any], Any, Callable, Callable]] = {
    "motion": ({"title": "条例草案"}, motion_choice, recount_motion, project_motion),
    "appointment": (
        {
            "title": "任免",
            "kind": "appointment",
            "mode": "together",
            "nominees": [{**p, "post": "局长"} for p in PEOPLE3],
        },
        appointment_choice,
        recount_appointment,
        project_appointment,
    ),
    "election": (
        {"title": "选举", "kind": "election", "seats": 2, "candidates": PEOPLE3},
        election_choice(),
        recount_election,
        project_election,
    ),
    "selection": (
        {"title": "评选", "kind": "selection", "seats": 2, "candidates": [{"id": x, "name": x} for x in "abcd"]},
        selection_choice,
        recount_selection,
        project_selection,
    ),
    "evaluation": (
        {"title": "测评", "kind": "evaluation", "subjects": [{"id": s, "title": s} for s in ("s1", "s2", "s3")]},
        evaluation_choice,
        recount_evaluation,
        project_evaluation,
    ),
    "score": (
        {
            "title": "打分",
            "kind": "score",
            "trim": 1,
            "subjects": [
                {"id": "p", "title": "p", "min": 0, "max": 10},
                {"id": "q", "title": "q", "min": 1, "max": 5, "step": 0.5},
            ],
        },
        score_choice,
        recount_score,
        project_score,
    ),
}


def check_any_sequence(kind: str, data: st.DataObject) -> None:
    definition, choice, recount, project = CASES[kind]
    secret = data.draw(st.booleans(), label="secret")
    allow_change = data.draw(st.booleans(), label="allow_change")
    s = Sitting([{"id": "b", **definition, "secret": secret, "allow_change": allow_change}], n=N)
    casts = data.draw(st.lists(st.tuples(st.integers(0, N - 1), choice), max_size=20), label="casts")
    s.do(c.OpenBallot("b"))
    final: dict[str, Any] = {}
    for who, raw in casts:
        member = s.members[who]
        try:
            s.cast(member, "b", raw)
        except CommandError as exc:
            assert exc.code == "already_voted" and not allow_change and member in final
            continue
        final[member] = raw
    s.do(c.CloseBallot("b"))
    run = s.meeting.ballots["b"]
    result = run.result
    assert result["voted"] == len(final) and result["kind"] == kind
    if secret:
        assert len(run.urn) == len(final) and run.named == {}
    else:
        assert set(run.named) == set(final)
    assert project(result) == recount(list(final.values()))
    spec = run.spec
    normalized = [KINDS[kind].normalize_choice(spec, raw) for raw in final.values()]
    assert result == KINDS[kind].tally(spec, normalized, s.meeting.turnout(run))
    replay = s.replayed()
    assert replay.tally(replay.ballots["b"]) == result


PROPERTY = settings(max_examples=examples(60), deadline=None)


@PROPERTY
@given(st.data())
def test_motion_result_equals_recount(data: st.DataObject) -> None:
    check_any_sequence("motion", data)


@PROPERTY
@given(st.data())
def test_appointment_result_equals_recount(data: st.DataObject) -> None:
    check_any_sequence("appointment", data)


@PROPERTY
@given(st.data())
def test_election_result_equals_recount(data: st.DataObject) -> None:
    check_any_sequence("election", data)


@PROPERTY
@given(st.data())
def test_selection_result_equals_recount(data: st.DataObject) -> None:
    check_any_sequence("selection", data)


@PROPERTY
@given(st.data())
def test_evaluation_result_equals_recount(data: st.DataObject) -> None:
    check_any_sequence("evaluation", data)


@PROPERTY
@given(st.data())
def test_score_result_equals_recount(data: st.DataObject) -> None:
    check_any_sequence("score", data)


def test_every_registered_kind_has_a_property_case() -> None:
    assert set(CASES) == set(KINDS)
