"""Documents in the record, without a server: who may read what (the audiences and the
confidential mark), what each role is told, and the life of a document (added, released,
received, shown, recalled). The files and the HTTP side are tests/test_documents_*.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.core import commands as c
from server.core import events as e
from server.core.errors import CommandError
from server.core.views import snapshot, visible_event
from tests.test_meeting import T0, Sim, sim


def info(doc_id: str = "d1", **kw: Any) -> dict[str, Any]:
    return {
        "id": doc_id,
        "title": f"文件 {doc_id}",
        "filename": f"{doc_id}.pdf",
        "item_id": "item1",
        "page_count": 3,
        "mime": "application/pdf",
        "classification": "public",
        "audience": "everyone",
        "size": 1000,
        **kw,
    }


def seen(s: Sim, role: str, members: tuple[str, ...] = ()) -> list[str]:
    return [d["id"] for d in snapshot(s.meeting, role, members)["documents"]]


def with_observer() -> Sim:
    return sim(4, observers=1)


def test_each_audience_reaches_exactly_its_readers() -> None:
    s = with_observer()
    s.do(c.AddDocument(info("all")))
    s.do(c.AddDocument(info("mem", audience="members")))
    s.do(c.AddDocument(info("obs", audience="observers")))
    s.do(c.AddDocument(info("two", audience="named", readers=["m02", "m03"])))
    s.do(c.AddDocument(info("conf", classification="confidential")))
    assert seen(s, "clerk") == ["all", "mem", "obs", "two", "conf"]
    assert seen(s, "display") == ["all"]  # everyone's, and not confidential
    assert seen(s, "seat", ("m01",)) == ["all", "mem", "conf"]
    assert seen(s, "seat", ("m02",)) == ["all", "mem", "two", "conf"]
    assert seen(s, "seat", ("o1",)) == ["all", "obs", "conf"]
    assert seen(s, "seat", ()) == []  # a seat speaking for nobody reads nothing
    assert seen(s, "device", ("m02",)) == []  # keypads have no screen for documents


def test_a_document_not_yet_released_is_the_clerks_alone() -> None:
    s = sim(3)
    (added,) = s.do(c.AddDocument(info(), release=False), at=T0 + 1)
    assert added == e.DocumentAdded(info(), None, False, T0 + 1)
    assert seen(s, "clerk") == ["d1"] and seen(s, "seat", ("m01",)) == []
    assert visible_event(added, "seat", ["m01"], s.meeting) is None
    (released,) = s.do(c.ReleaseDocument("d1"), at=T0 + 2)
    assert released == e.DocumentReleased("d1", T0 + 2)
    # a tablet learns of it as an addition: it never saw the unreleased document
    shown = visible_event(released, "seat", ["m01"], s.meeting)
    assert shown is not None and shown["name"] == "document.added" and shown["at"] == T0 + 2
    assert shown["document"]["id"] == "d1" and shown["document"]["released"] is True
    assert s.do(c.ReleaseDocument("d1")) == []  # once is enough
    assert seen(s, "seat", ("m01",)) == ["d1"]


def refusal(s: Sim, command: c.Command) -> str:
    with pytest.raises(CommandError) as info:
        s.do(command)
    return str(info.value)


@pytest.mark.parametrize(
    ("doc", "shown"),
    [
        (info("../x"), "bad_metadata: id: '../x' is not an id"),
        (info(title="题" * 301), "bad_metadata: title: must be at most 300 characters, not 301"),
        (info(filename=7), "bad_metadata: filename: must be text"),
        (info(readers=["m01"] * 10_001), "bad_metadata: readers: at most 10000"),
        (info(item_id="item9"), "unknown_item: no agenda item 'item9'"),
        (info(audience="named", readers=["m01", "x1", "x2"]), "unknown_member: unknown reader(s): x1, x2"),
    ],
)
def test_what_the_record_will_not_hold_is_refused_naming_it(doc: dict[str, Any], shown: str) -> None:
    assert refusal(sim(3), c.AddDocument(doc)).startswith(shown)


def test_a_document_is_added_once() -> None:
    s = sim(3)
    s.do(c.AddDocument(info()))
    assert refusal(s, c.AddDocument(info())) == "bad_state: this document is already in the sitting"
    assert refusal(s, c.ReleaseDocument("d9")) == "unknown_document: no document 'd9'"


def test_receipts_reach_the_clerk_and_the_readers_own_tablet_and_never_go_back() -> None:
    s = sim(3)
    s.do(c.AddDocument(info()))
    (delivered,) = s.do(c.RecordReceipt("m01", "d1", "delivered"), at=T0 + 3)
    assert delivered == e.DocumentReceipt("d1", "m01", "delivered", T0 + 3)
    assert visible_event(delivered, "clerk", [], s.meeting) == e.to_data(delivered)
    assert visible_event(delivered, "seat", ["m01"], s.meeting) == e.to_data(delivered)
    assert visible_event(delivered, "seat", ["m02"], s.meeting) is None
    assert visible_event(delivered, "display", [], s.meeting) is None
    assert s.do(c.RecordReceipt("m01", "d1", "delivered")) == []
    assert len(s.do(c.RecordReceipt("m01", "d1", "opened"))) == 1
    assert s.do(c.RecordReceipt("m01", "d1", "delivered")) == []  # opened stays opened
    assert refusal(s, c.RecordReceipt("m01", "d1", "read")) == "bad_message: state must be one of delivered, opened"
    clerk = snapshot(s.meeting, "clerk")["documents"][0]
    assert clerk["receipts"] == {"m01": "opened"} and clerk["readers"] == []
    assert "receipts" not in snapshot(s.meeting, "seat", ("m01",))["documents"][0]


def test_a_receipt_only_for_a_released_unrecalled_document_the_member_may_read() -> None:
    s = with_observer()
    s.do(c.AddDocument(info("mem", audience="members")))
    s.do(c.AddDocument(info("draft"), release=False))
    s.do(c.AddDocument(info("gone")))
    s.do(c.RecallDocuments("gone"))
    forbidden = "forbidden: this document is not yours to read"
    assert refusal(s, c.RecordReceipt("o1", "mem", "delivered")) == forbidden
    assert refusal(s, c.RecordReceipt("x9", "mem", "delivered")) == forbidden
    assert refusal(s, c.RecordReceipt("m01", "draft", "delivered")) == forbidden
    assert refusal(s, c.RecordReceipt("m01", "gone", "delivered")) == forbidden
    assert len(s.do(c.RecordReceipt("m01", "mem", "delivered"))) == 1


def test_the_shown_page_is_for_its_readers_and_ends_with_a_recall() -> None:
    s = with_observer()
    s.do(c.AddDocument(info("mem", audience="members")))
    s.do(c.AddDocument(info("draft"), release=False))
    assert refusal(s, c.ShowPage("draft", 1)) == "bad_state: only a released document can be shown"
    assert refusal(s, c.ShowPage("mem", 4)) == "bad_message: page must be between 1 and 3"
    assert refusal(s, c.ShowPage("mem", 0)) == "bad_message: page must be between 1 and 3"
    assert s.do(c.ShowPage("mem", 3), at=T0 + 4) == [e.PageShown("mem", 3, T0 + 4)]
    assert snapshot(s.meeting, "seat", ("m01",))["page"] == {"document": "mem", "page": 3}
    assert snapshot(s.meeting, "seat", ("o1",))["page"] is None
    assert snapshot(s.meeting, "display")["page"] is None
    assert s.do(c.RecallDocuments("mem"), at=T0 + 5) == [e.DocumentRecalled("mem", T0 + 5)]
    assert s.meeting.documents.page is None
    assert s.do(c.RecallDocuments("mem")) == []
    assert refusal(s, c.ReleaseDocument("mem")) == "document_recalled: this document has been recalled"
    assert refusal(s, c.ShowPage("mem", 1)) == "bad_state: only a released document can be shown"


def test_recalling_all_takes_back_the_confidential_documents_only() -> None:
    s = sim(3)
    s.do(c.AddDocument(info("pub")))
    s.do(c.AddDocument(info("c1", classification="confidential")))
    s.do(c.AddDocument(info("c2", classification="confidential")))
    s.do(c.RecallDocuments("c1"))
    assert s.do(c.RecallDocuments(), at=T0 + 9) == [e.DocumentRecalled("c2", T0 + 9)]
    views = {d["id"]: d for d in snapshot(s.meeting, "seat", ("m01",))["documents"]}
    assert (views["pub"]["recalled"], views["c1"]["recalled"], views["c2"]["recalled"]) == (False, True, True)
    assert s.replay().documents.docs == s.meeting.documents.docs


def test_a_document_as_each_role_sees_it() -> None:
    s = sim(3)
    doc = info("two", audience="named", readers=["m02"], classification="confidential")
    s.do(c.AddDocument(doc, agenda_id="a1"), at=T0 + 1)
    seat = snapshot(s.meeting, "seat", ("m02",))["documents"][0]
    assert seat == {
        "id": "two",
        "title": "文件 two",
        "item": "item1",
        "pages": 3,
        "mime": "application/pdf",
        "classification": "confidential",
        "audience": "named",
        "released": True,
        "recalled": False,
        "size": 1000,
    }
    assert snapshot(s.meeting, "clerk")["documents"][0] == {**seat, "receipts": {}, "readers": ["m02"]}
    assert s.meeting.documents.by_agenda_id("a1") is s.meeting.documents.docs["two"]
    assert s.meeting.documents.by_agenda_id("a2") is None
    (added,) = s.log[-1:]
    event = added[1]
    assert visible_event(event, "seat", ["m02"], s.meeting) == {
        "name": "document.added",
        "document": seat,
        "at": T0 + 1,
    }
    assert visible_event(event, "seat", ["m01"], s.meeting) is None
    assert visible_event(event, "display", [], s.meeting) is None


def test_a_page_shown_and_a_recall_reach_the_documents_readers_only() -> None:
    s = with_observer()
    s.do(c.AddDocument(info("mem", audience="members")))
    (shown,) = s.do(c.ShowPage("mem", 2))
    (recalled,) = s.do(c.RecallDocuments("mem"))
    for event in (shown, recalled):
        for role, members in (("clerk", []), ("seat", ["m01"])):
            assert visible_event(event, role, members, s.meeting) == e.to_data(event)
        assert visible_event(event, "seat", ["o1"], s.meeting) is None
        assert visible_event(event, "display", [], s.meeting) is None
    s.do(c.AddDocument(info("late"), release=False))
    (released,) = s.do(c.ReleaseDocument("late"))
    assert visible_event(released, "clerk", [], s.meeting) == e.to_data(released)  # the clerk had it already


def test_the_clerk_hears_of_every_added_document_with_its_readers() -> None:
    s = sim(3)
    doc = info("two", audience="named", readers=["m02"])
    (added,) = s.do(c.AddDocument(doc, release=False), at=T0 + 1)
    sent = visible_event(added, "clerk", [], s.meeting) or {}
    assert sent["name"] == "document.added" and sent["at"] == T0 + 1
    assert sent["document"]["readers"] == ["m02"] and sent["document"]["released"] is False


def test_who_may_read_by_role_and_the_first_page_can_be_shown() -> None:
    """may_read is the rule every page fetch and every list of documents follows."""
    from server.core.agenda import Member
    from server.core.documents import may_read

    chair = Member("c1", "主任", "S001", role="chair")
    member = Member("m1", "委员", "S002")
    observer = Member("o1", "列席", "S003", role="observer")
    members_only = info("mem", audience="members")
    assert may_read(members_only, "seat", chair) and may_read(members_only, "seat", member)
    assert not may_read(members_only, "seat", observer)
    # a token that speaks for no member reads nothing, not even what everyone may read
    assert not may_read(info("all"), "seat", None)
    # a named audience with no readers listed reaches nobody (and the list is not required)
    named = {k: v for k, v in info("n", audience="named").items() if k != "readers"}
    assert not may_read(named, "seat", member)
    s = with_observer()
    s.do(c.AddDocument(info("mem", audience="members")))
    assert s.do(c.ShowPage("mem", 1), at=T0 + 1) == [e.PageShown("mem", 1, T0 + 1)]


def test_as_many_readers_as_a_sitting_may_have_members_are_held() -> None:
    s = sim(3)
    s.do(c.AddDocument(info("big", audience="named", readers=["m01"] * 10_000)))
    assert seen(s, "seat", ("m01",)) == ["big"]
