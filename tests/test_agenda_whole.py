"""An agenda read whole: the meeting, its members and its items as the sitting holds them,
and every problem of the meeting table, a member or an item as an author reads it
(server/core/agenda.py). Found by mutation testing: no test read the meeting's fields, a
member's card, an item's title, or most of these messages."""

from __future__ import annotations

from typing import Any

import pytest

from server.core.agenda import Item, MeetingInfo, Member, agenda_from_dict
from server.core.bounds import MAX_BALLOTS, MAX_DOCUMENTS
from server.core.errors import AgendaError
from server.core.rules import PRESETS, threshold_from_dict
from tests.support import agenda_data
from tests.test_agenda_refusals import problems

ID_RULE = "is not an id: 1 to 64 characters from A-Z a-z 0-9 _ . - starting with a letter or a digit"


def full() -> dict[str, Any]:
    data = agenda_data(2)
    data["meeting"].update(term="第十六届", session="第二十三次", quorum={"fraction": "2/3", "cmp": ">="})
    data["members"] = [
        {"id": "m01", "name": "张三", "seat": "S001", "group": "甲组", "card": "C1"},
        {"id": "m02", "name": "李四", "seat": "S002", "role": "chair", "votes": False},
        {"id": "o1", "name": "王五", "seat": "O01", "role": "observer"},
    ]
    data["items"].append(
        {"id": "item2", "title": "专题询问", "documents": [{"id": "d1", "title": "报告", "file": "r.pdf"}]}
    )
    return data


def test_the_meeting_its_members_and_items_as_the_sitting_holds_them() -> None:
    agenda = agenda_from_dict(full())
    assert agenda.meeting == MeetingInfo(
        body="某市人大常委会",
        term="第十六届",
        session="第二十三次",
        title="常委会第二十三次会议",
        date="2026-11-25",
        language="zh-CN",
    )
    assert agenda.members == (
        Member("m01", "张三", "S001", "甲组", "member", True, "C1"),
        Member("m02", "李四", "S002", "", "chair", False, ""),
        Member("o1", "王五", "O01", "", "observer", False, ""),
    )
    assert agenda.items == (
        Item("item1", "审议条例草案", ("reg1", "reg2", "secret1"), ()),
        Item("item2", "专题询问", (), ("d1",)),
    )
    assert agenda.quorum == threshold_from_dict({"option": "present", "base": "seated", "fraction": "2/3", "cmp": ">="})
    assert agenda.member_at_seat("S002") == agenda.members[1] and agenda.member_at_seat("S009") is None
    assert agenda.member("o1") == agenda.members[2] and agenda.member("x") is None


def at_meeting(**changes: Any) -> dict[str, Any]:
    data = agenda_data(2)
    data["meeting"].update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"body": 5}, ["meeting.body: must be a string, not int"]),
        ({"term": 5}, ["meeting.term: must be a string, not int"]),
        ({"session": 5}, ["meeting.session: must be a string, not int"]),
        ({"date": 5}, ["meeting.date: must be a string, not int"]),
        ({"title": 5}, ["meeting.title: must be a string, not int"]),
        ({"title": ""}, ["meeting.title: must not be empty"]),
        ({"language": "fr"}, ["meeting.language: must be one of zh-CN, en, not 'fr'"]),
        ({"reveal": "never"}, ["meeting.reveal: must be one of on_close, on_announce, not 'never'"]),
        ({"quorum": "half"}, ['meeting.quorum: must be a table such as {fraction = "1/2", cmp = ">"}']),
        ({"quorum": {"option": "for"}}, ["meeting.quorum: quorum counts members present against all seated members"]),
        ({"quorum": {"base": "present"}}, ["meeting.quorum: quorum counts members present against all seated members"]),
        ({"quorum": {"fraction": "3/2"}}, ["meeting.quorum: '3/2' must lie between 0 and 1"]),
        ({"rule": "most"}, [f"meeting.rule: unknown rule preset 'most'; presets: {', '.join(PRESETS)}"]),
        ({"rule": 5}, ["meeting.rule: rule must be a preset name or a table"]),
    ],
)
def test_the_meeting_tables_problems_read_whole(changes: dict[str, Any], expected: list[str]) -> None:
    got = problems(at_meeting(**changes))
    assert got[: len(expected)] == expected
    if "rule" not in changes:  # a wrong rule is also reported at each ballot that inherits it
        assert got == expected


def with_members(*members: Any) -> dict[str, Any]:
    data = agenda_data(1)
    data["members"] = list(members)
    return data


M = {"id": "m01", "name": "张三", "seat": "S001"}


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([], ["members: must list at least one member"]),
        ([{**M, "id": "bad id"}], [f"members[0].id: 'bad id' {ID_RULE}"]),
        ([{**M, "seat": "bad seat"}], [f"members[0].seat: 'bad seat' {ID_RULE}"]),
        ([{**M, "card": "bad card"}], [f"members[0].card: 'bad card' {ID_RULE}"]),
        ([{**M, "name": 5}], ["members[0].name: must be a string, not int"]),
        ([{**M, "name": "名" * 101}], ["members[0].name: must be at most 100 characters, not 101"]),
        ([{**M, "group": 5}], ["members[0].group: must be a string, not int"]),
        ([{**M, "votes": "yes"}], ["members[0].votes: must be true or false, not str"]),
        ([{**M, "role": "guest"}], ["members[0].role: must be one of member, chair, observer, not 'guest'"]),
        ([M, {**M, "seat": "S002"}], ["members[1].id: duplicate member id 'm01' (also members[0])"]),
        ([M, {**M, "id": "m02"}], ["members[1].seat: duplicate seat 'S001' (also members[0])"]),
        (["张三"], ["members[0]: must be a table, not str"]),
        ([{"id": "m01"}], ["members[0].name: is required", "members[0].seat: is required"]),
    ],
)
def test_a_members_problems_read_whole(members: list[Any], expected: list[str]) -> None:
    assert problems(with_members(*members)) == expected


def test_an_observer_has_no_vote_unless_the_agenda_gives_one() -> None:
    observer = {**M, "id": "o1", "seat": "O01", "role": "observer"}
    agenda = agenda_from_dict(with_members(M, observer))
    assert [m.votes for m in agenda.members] == [True, False]
    given = agenda_from_dict(with_members(M, {**observer, "votes": True}))
    assert given.members[1].votes is True and not given.members[1].can_vote  # an observer never votes


def with_items(*items: Any) -> dict[str, Any]:
    data = agenda_data(2)
    data["items"] = list(items)
    return data


ITEM = {"id": "item1", "title": "审议"}


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{**ITEM, "title": 5}], ["items[0].title: must be a string, not int"]),
        ([{**ITEM, "title": "题" * 301}], ["items[0].title: must be at most 300 characters, not 301"]),
        ([{**ITEM, "id": "bad id"}], [f"items[0].id: 'bad id' {ID_RULE}"]),
        ([ITEM, {**ITEM, "title": "again"}], ["items[1].id: duplicate item id 'item1'"]),
        (["审议"], ["items[0]: must be a table, not str"]),
        ([{"title": "审议"}], ["items[0].id: is required"]),
        ([{"id": "item1"}], ["items[0].title: is required"]),
        ([{**ITEM, "ballots": "reg1"}], ["items[0].ballots: must be a list, not str"]),
        ([{**ITEM, "documents": {}}], ["items[0].documents: must be a list, not dict"]),
        (
            [{**ITEM, "speaking": {"normal": -1}}],
            ["items[0].speaking.normal: must be a whole number of seconds from 0 to 7200, not -1"],
        ),
    ],
)
def test_an_items_problems_read_whole(items: list[Any], expected: list[str]) -> None:
    assert problems(with_items(*items)) == expected


def test_two_ballots_with_one_id_are_refused_even_on_different_items() -> None:
    ballot = {"id": "b1", "title": "t"}
    data = with_items({**ITEM, "ballots": [ballot]}, {"id": "item2", "title": "二", "ballots": [ballot]})
    assert problems(data) == ["items[1].ballots[0].id: duplicate ballot id 'b1'"]


def in_items(key: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """An agenda holding ``entries`` (ballots or documents) spread over items of 500."""
    return with_items(*({"id": f"i{k}", "title": "t", key: entries[k : k + 500]} for k in range(0, len(entries), 500)))


def test_at_most_so_many_ballots_and_documents_in_all() -> None:
    ballots = [{"id": f"b{i}", "title": "t"} for i in range(MAX_BALLOTS + 1)]
    docs = [{"id": f"d{i}", "title": "t", "file": "f.pdf"} for i in range(MAX_DOCUMENTS + 1)]
    assert len(agenda_from_dict(in_items("ballots", ballots[:-1])).ballots) == MAX_BALLOTS
    assert len(agenda_from_dict(in_items("documents", docs[:-1])).documents) == MAX_DOCUMENTS
    assert problems(in_items("ballots", ballots)) == [
        f"items: may hold at most {MAX_BALLOTS} ballots in all, not {MAX_BALLOTS + 1}"
    ]
    assert problems(in_items("documents", docs)) == [
        f"items: may hold at most {MAX_DOCUMENTS} documents in all, not {MAX_DOCUMENTS + 1}"
    ]


def test_an_appointment_split_per_nominee_keeps_its_generated_titles() -> None:
    """ "each" makes one ballot per nominee; their titles are generated, the written one is not."""
    nominees = [{"id": "n1", "name": "张三", "post": "主任"}, {"id": "n2", "name": "李四", "post": "副主任"}]
    ballot = {"id": "a1", "title": "任命", "kind": "appointment", "mode": "each", "nominees": nominees}
    agenda = agenda_from_dict(with_items({**ITEM, "ballots": [ballot, {"id": "b1", "title": "t"}]}))
    assert agenda.items[0].ballots == ("a1-n1", "a1-n2", "b1")
    titles = [agenda.ballots[b].title for b in agenda.items[0].ballots]
    assert titles[2] == "t" and all(t.startswith("任命") and t != "任命" for t in titles[:2])


@pytest.mark.parametrize(
    ("key", "expected"),
    [("items", ["items: must be a list, not str"]), ("members", ["members: must be a list, not str"])],
)
def test_a_top_level_list_of_the_wrong_type_is_told_once(key: str, expected: list[str]) -> None:
    data = agenda_data(2)
    data[key] = "x"
    assert problems(data) == expected


def test_a_members_role_of_the_wrong_type_names_the_member() -> None:
    assert problems(with_members({**M, "role": 5})) == ["members[0].role: must be a string, not int"]


def test_an_agenda_ballots_title_is_held_to_the_title_limit() -> None:
    """Only titles an appointment generates may be longer than 300 characters."""
    data = with_items({**ITEM, "ballots": [{"id": "b1", "title": "题" * 301}]})
    assert problems(data) == ["items[0].ballots[0].title: must be at most 300 characters, not 301"]


def test_the_meetings_rule_is_every_ballots_rule_unless_its_kind_or_it_says_otherwise() -> None:
    data = at_meeting(rule="two_thirds_of_all")
    data["items"][0]["ballots"].append({"id": "b4", "title": "t", "rule": "simple_majority"})
    agenda = agenda_from_dict(data)
    two_thirds = threshold_from_dict({"option": "for", "cmp": ">=", "fraction": "2/3", "base": "seated"})
    assert agenda.ballots["reg1"].rule == two_thirds
    assert agenda.ballots["b4"].rule != two_thirds


def test_a_failure_to_read_names_the_file() -> None:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(["meeting"], "council.json")  # type: ignore[arg-type]
    assert str(info.value) == "council.json: must be a table of meeting, members and items, not list"


def test_a_motions_options_of_the_wrong_type_are_refused_not_a_crash() -> None:
    """A kind's normalizer never sees parameters its checker refused: a motion's would crash."""
    data = with_items({**ITEM, "ballots": [{"id": "b1", "title": "t", "options": 5}]})
    assert problems(data) == [
        "items[0].ballots[0].options: must be a list drawn from for, against, abstain without repeats"
    ]
