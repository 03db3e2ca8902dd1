"""An agenda file's ballots and documents: what an author is told, and what a valid one
becomes, compared whole (server/core/agenda.py).

tests/test_agenda_files.py loads real agenda files and tests/test_bounds.py the checker's
tables; these pin what mutation testing found no test read whole: the messages and key
paths of a ballot's kind and a document's fields, the defaults a definition gets, and the
ballot as every client receives it.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.core.agenda import BallotSpec, agenda_from_dict, ballot_from_dict
from server.core.errors import AgendaError
from server.core.rules import threshold_from_dict_or_preset
from tests.support import agenda_data

KINDS = "motion, appointment, election, selection, evaluation, score"


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    return info.value.problems


def with_ballot(ballot: dict[str, Any], **meeting: Any) -> dict[str, Any]:
    data = agenda_data(3, ballots=[ballot])
    data["meeting"].update(meeting)
    return data


def with_document(document: Any) -> dict[str, Any]:
    data = agenda_data(3)
    data["items"][0]["documents"] = [document]
    return data


def test_a_ballot_as_every_client_receives_it() -> None:
    agenda = agenda_from_dict(
        with_ballot({"id": "b1", "title": "条例", "countdown": 60, "allow_change": False, "certificate": False})
    )
    assert agenda.ballots["b1"].public() == {
        "id": "b1",
        "item": "item1",
        "title": "条例",
        "kind": "motion",
        "rule": threshold_from_dict_or_preset("majority_of_all", "majority_of_all").to_dict(),
        "secret": False,
        "live_counts": True,
        "countdown": 60,
        "allow_change": False,
        "certificate": False,
        "reveal": "on_close",
        "options": ["for", "against", "abstain"],  # a motion's normalized parameter
    }


def test_a_kinds_parameters_travel_with_the_ballot() -> None:
    ballot = {"id": "e1", "title": "选举", "kind": "election", "seats": 1, "candidates": [{"id": "c1", "name": "张三"}]}
    public = agenda_from_dict(with_ballot(ballot)).ballots["e1"].public()
    assert (public["kind"], public["secret"], public["live_counts"], public["seats"]) == ("election", True, False, 1)
    assert [c["name"] for c in public["candidates"]] == ["张三"]


def test_a_ballot_without_a_kind_is_a_motion_revealed_at_close() -> None:
    spec = ballot_from_dict({"id": "b1", "title": "条例"}, "ballot", "item1")
    assert isinstance(spec, BallotSpec)
    assert (spec.kind, spec.reveal, spec.countdown, spec.secret) == ("motion", "on_close", None, False)
    assert agenda_from_dict(with_ballot({"id": "b1", "title": "条例"})).ballots["b1"].kind == "motion"


def test_the_meetings_reveal_is_every_ballots_default() -> None:
    agenda = agenda_from_dict(with_ballot({"id": "b1", "title": "条例"}, reveal="on_announce"))
    assert agenda.ballots["b1"].reveal == "on_announce"
    own = agenda_from_dict(with_ballot({"id": "b1", "title": "条例", "reveal": "on_close"}, reveal="on_announce"))
    assert own.ballots["b1"].reveal == "on_close"


@pytest.mark.parametrize(
    ("ballot", "expected"),
    [
        ({"id": "b1", "title": "t", "kind": 5}, [f"items[0].ballots[0].kind: must be a string naming a kind: {KINDS}"]),
        (
            {"id": "b1", "title": "t", "kind": "referendum"},
            [f"items[0].ballots[0].kind: unknown ballot kind 'referendum'; kinds: {KINDS}"],
        ),
        (
            {"id": "b1", "title": "t", "countdown": 4},
            ["items[0].ballots[0].countdown: must be between 5 and 3600 seconds"],
        ),
        (
            {"id": "b1", "title": "t", "reveal": "never"},
            ["items[0].ballots[0].reveal: must be one of on_close, on_announce, not 'never'"],
        ),
    ],
)
def test_a_ballots_problems_read_whole(ballot: dict[str, Any], expected: list[str]) -> None:
    assert problems(with_ballot(ballot)) == expected


def test_a_ballot_given_alone_names_its_problems_or_says_it_is_invalid() -> None:
    with pytest.raises(AgendaError) as info:
        ballot_from_dict({"id": "b1", "title": "t", "kind": 5}, "spec", "item1")
    assert info.value.problems == [f"spec.kind: must be a string naming a kind: {KINDS}"]


DOC = {"id": "d1", "title": "议案文本", "file": "bill.pdf"}


def test_a_document_as_defined() -> None:
    agenda = agenda_from_dict(with_document(DOC))
    doc = agenda.documents["d1"]
    assert (doc.id, doc.item, doc.title, doc.file, doc.audience, doc.classification) == (
        "d1",
        "item1",
        "议案文本",
        "bill.pdf",
        ("everyone",),
        "public",
    )
    assert agenda.items[0].documents == ("d1",)
    named = agenda_from_dict(with_document({**DOC, "audience": ["m01", "m03"], "classification": "confidential"}))
    assert (named.documents["d1"].audience, named.documents["d1"].classification) == (("m01", "m03"), "confidential")
    members = agenda_from_dict(with_document({**DOC, "audience": "members", "classification": "internal"}))
    assert (members.documents["d1"].audience, members.documents["d1"].classification) == (("members",), "internal")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("bill.pdf", ["items[0].documents[0]: must be a table, not str"]),
        ({"title": "t", "file": "f.pdf"}, ["items[0].documents[0].id: is required"]),
        ({"id": "d1", "file": "f.pdf"}, ["items[0].documents[0].title: is required"]),
        ({"id": "d1", "title": "t"}, ["items[0].documents[0].file: is required"]),
        ({**DOC, "pages": 3}, ["items[0].documents[0].pages: unknown key"]),
        (
            {**DOC, "audience": "public"},
            ["items[0].documents[0].audience: must be one of everyone, members, observers or a list of member ids"],
        ),
        (
            {**DOC, "audience": []},
            ["items[0].documents[0].audience: must be one of everyone, members, observers or a list of member ids"],
        ),
        (
            {**DOC, "audience": ["m01", 2]},
            ["items[0].documents[0].audience: must be one of everyone, members, observers or a list of member ids"],
        ),
        (
            {**DOC, "audience": 7},
            ["items[0].documents[0].audience: must be one of everyone, members, observers or a list of member ids"],
        ),
        (
            {**DOC, "audience": ["m01", "x1", "x2", "x3", "x4", "x5", "x6"]},
            ["items[0].documents[0].audience: unknown member id 'x1', 'x2', 'x3', 'x4', 'x5'"],
        ),
        (
            {**DOC, "classification": "secret"},
            ["items[0].documents[0].classification: must be one of public, internal, confidential"],
        ),
    ],
)
def test_a_documents_problems_read_whole(document: Any, expected: list[str]) -> None:
    assert problems(with_document(document)) == expected


def test_two_documents_with_one_id_are_refused() -> None:
    data = agenda_data(3)
    data["items"][0]["documents"] = [DOC, {**DOC, "title": "另一份"}]
    assert problems(data) == ["items[0].documents[1].id: duplicate document id 'd1'"]


def test_a_ballot_that_is_not_a_table_is_told_so_once() -> None:
    written_as_a_string: list[Any] = ["表决"]
    assert problems(agenda_data(3, ballots=written_as_a_string)) == ["items[0].ballots[0]: must be a table, not str"]


def test_an_ad_hoc_ballots_title_is_held_to_the_title_limit() -> None:
    """Only a title an appointment generates (title, name and post) may be longer."""
    spec = ballot_from_dict({"id": "b1", "title": "题" * 300}, "spec", "item1")
    assert len(spec.title) == 300
    with pytest.raises(AgendaError) as info:
        ballot_from_dict({"id": "b1", "title": "题" * 301}, "spec", "item1")
    assert info.value.problems == ["spec.title: must be at most 300 characters, not 301"]


ELECTION = {"title": "t", "kind": "election", "seats": 1, "candidates": [{"id": "c1", "name": "张三"}]}


def test_an_elections_id_leaves_room_for_its_further_rounds() -> None:
    assert "e" * 60 in agenda_from_dict(with_ballot({**ELECTION, "id": "e" * 60})).ballots
    assert problems(with_ballot({**ELECTION, "id": "e" * 61})) == [
        "items[0].ballots[0].id: an election's id is at most 60 characters (room for -r99)"
    ]
    assert "m" * 61 in agenda_from_dict(with_ballot({"id": "m" * 61, "title": "t"})).ballots  # a motion has no rounds


def test_a_kinds_problem_keeps_its_key_and_its_whole_message() -> None:
    """A kind reports "key: message"; a message may itself hold ": " (an id quoted back)."""
    ballot = {**ELECTION, "id": "e1", "candidates": [{"id": "a: b", "name": "张三"}]}
    assert problems(with_ballot(ballot)) == [
        "items[0].ballots[0].candidates[0].id: 'a: b' is not an id: 1 to 64 characters from A-Z a-z 0-9 _ . - "
        "starting with a letter or a digit"
    ]


@pytest.mark.parametrize(
    ("ballot", "expected"),
    [
        ({"live_counts": "yes"}, ["items[0].ballots[0].live_counts: must be true or false, not str"]),
        (
            {"secret": True, "live_counts": True},
            ["items[0].ballots[0].live_counts: a secret ballot cannot show live counts"],
        ),
        ({"countdown": 3601}, ["items[0].ballots[0].countdown: must be between 5 and 3600 seconds"]),
        ({"reveal": 5}, ["items[0].ballots[0].reveal: must be a string, not int"]),
        ({"countdown": "60"}, ["items[0].ballots[0].countdown: must be a whole number, not str"]),
    ],
)
def test_a_ballots_switches_are_checked_whole(ballot: dict[str, Any], expected: list[str]) -> None:
    assert problems(with_ballot({"id": "b1", "title": "t", **ballot})) == expected


def test_a_countdown_at_its_bounds_is_accepted() -> None:
    for seconds in (5, 3600):
        assert (
            agenda_from_dict(with_ballot({"id": "b1", "title": "t", "countdown": seconds})).ballots["b1"].countdown
            == seconds
        )


def test_a_rule_written_as_null_is_the_default_rule() -> None:
    """JSON agendas may write ``"rule": null``: the sitting's, or the preset, applies."""
    default = threshold_from_dict_or_preset("majority_of_all", "majority_of_all")
    assert agenda_from_dict(with_ballot({"id": "b1", "title": "t"}, rule=None)).ballots["b1"].rule == default
    assert agenda_from_dict(with_ballot({"id": "b1", "title": "t", "rule": None})).ballots["b1"].rule == default


def test_a_title_an_appointment_generates_may_exceed_the_title_limit() -> None:
    """ "each" makes one ballot per nominee titled with the written title, name and post:
    each part was checked as written, so the whole may be longer than 300."""
    nominee = {"id": "n1", "name": "张" * 100, "post": "职" * 100}
    ballot = {"id": "a1", "title": "任命" * 150, "kind": "appointment", "mode": "each", "nominees": [nominee]}
    spec = agenda_from_dict(with_ballot(ballot)).ballots["a1-n1"]
    assert len(spec.title) > 300 and spec.title.startswith("任命" * 150) and "张" * 100 in spec.title


def test_an_ad_hoc_ballots_problems_name_their_source() -> None:
    with pytest.raises(AgendaError) as info:
        ballot_from_dict({"id": "b1", "title": "t", "countdown": 1}, "spec", "item1")
    assert str(info.value) == "ballot: spec.countdown: must be between 5 and 3600 seconds"


def test_an_agenda_that_is_not_a_table_is_told_so_alone() -> None:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(["meeting"])  # type: ignore[arg-type]  # a JSON file holding a list
    assert str(info.value) == "agenda: must be a table of meeting, members and items, not list"


def test_the_top_of_an_agenda_is_checked_whole() -> None:
    data = agenda_data(3)
    del data["meeting"]
    assert problems(data) == ["meeting: is required", "meeting.language: is required", "meeting.title: is required"]
    data = agenda_data(3)
    data["agendas"] = []
    assert problems(data) == ["agendas: unknown key"]
    data = agenda_data(3)
    del data["meeting"]["language"]
    assert problems(data) == ["meeting.language: is required"]
    data["meeting"]["language"] = 5
    assert problems(data) == ["meeting.language: must be a string, not int"]
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data, "council.toml")
    assert str(info.value) == "council.toml: meeting.language: must be a string, not int"


def test_the_meetings_body_is_read() -> None:
    assert agenda_from_dict(agenda_data(3)).meeting.body == "某市人大常委会"


def test_a_ballot_writes_a_certificate_unless_told_not_to() -> None:
    assert agenda_from_dict(with_ballot({"id": "b1", "title": "t"})).ballots["b1"].certificate is True


@pytest.mark.parametrize(
    ("ballot", "expected"),
    [
        ({"allow_change": "no"}, ["items[0].ballots[0].allow_change: must be true or false, not str"]),
        ({"certificate": "no"}, ["items[0].ballots[0].certificate: must be true or false, not str"]),
        # the kind's normalizer never sees parameters its checker refused (it would crash on them)
        (
            {"kind": "election", "seats": 1, "candidates": 5},
            ["items[0].ballots[0].candidates: must be a non-empty list of tables"],
        ),
    ],
)
def test_more_of_a_ballots_problems_read_whole(ballot: dict[str, Any], expected: list[str]) -> None:
    assert problems(with_ballot({"id": "b1", "title": "t", **ballot})) == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({**DOC, "classification": 5}, ["items[0].documents[0].classification: must be a string, not int"]),
        (
            {**DOC, "id": "bad id"},
            [
                "items[0].documents[0].id: 'bad id' is not an id: 1 to 64 characters from A-Z a-z 0-9 _ . - "
                "starting with a letter or a digit"
            ],
        ),
        ({**DOC, "title": 5}, ["items[0].documents[0].title: must be a string, not int"]),
        ({**DOC, "file": 5}, ["items[0].documents[0].file: must be a string, not int"]),
        ({**DOC, "file": ""}, ["items[0].documents[0].file: must not be empty"]),
    ],
)
def test_a_documents_fields_are_checked_whole(document: Any, expected: list[str]) -> None:
    assert problems(with_document(document)) == expected
