"""Documents in the record, without a server: who may read what (the audiences and the
confidential mark), what each role is told, and the life of a document (added, released,
received, shown, recalled). The files and the HTTP side are tests/test_documents_*.py.
"""

from __future__ import annotations

from typing import Any

from server.core import commands as c
from server.core import events as e
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
