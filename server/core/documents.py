"""Documents of a paperless sitting, as the record knows them: who may read what, pushed,
received, opened, shown, recalled.

The files themselves live in the content-addressed store (server/documents); the record
holds their metadata (``DocumentInfo.to_dict()``) and every step of their life.
Audiences: ``everyone``; ``members`` (members and the chair); ``observers`` (列席人员
only); ``named`` (the listed ``readers``). The clerk reads everything; a display only
what is for everyone and not confidential.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import commands as c
from . import events as e
from .agenda import Agenda, Member
from .bounds import MAX_MEMBERS, MAX_TITLE, id_problem, shown, text_problem
from .errors import CommandError

RECEIPTS = ("delivered", "opened")


@dataclass
class Doc:
    info: dict[str, Any]
    agenda_id: str | None
    released: bool
    recalled: bool = False
    receipts: dict[str, str] = field(default_factory=dict)  # member -> delivered | opened

    @property
    def id(self) -> str:
        return str(self.info["id"])


def may_read(info: dict[str, Any], role: str, member: Member | None) -> bool:
    if role == "clerk":
        return True
    if role == "display":
        return bool(info["audience"] == "everyone" and info["classification"] != "confidential")
    if member is None:
        return False
    audience = info["audience"]
    if audience == "everyone":
        return True
    if audience == "members":
        return member.role in ("member", "chair")
    if audience == "observers":
        return member.role == "observer"
    return member.id in info.get("readers", ())


def _metadata_problem(info: dict[str, Any]) -> str | None:
    """What the record will not hold of an added document: an id outside the grammar, an
    unbounded title or file name, more readers than a sitting has members."""
    problem = id_problem(info.get("id"))
    if problem:
        return f"id: {problem}"
    for key in ("title", "filename"):
        value = info.get(key, "")
        problem = text_problem(value, MAX_TITLE) if isinstance(value, str) else "must be text"
        if problem:
            return f"{key}: {problem}"
    if len(info.get("readers", ())) > MAX_MEMBERS:
        return f"readers: at most {MAX_MEMBERS}"
    return None


class DocumentBook:
    """The documents part of the meeting state, with its own decide/apply."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.page: dict[str, Any] | None = None  # the page shown to everyone following

    def by_agenda_id(self, agenda_id: str) -> Doc | None:
        return next((d for d in self.docs.values() if d.agenda_id == agenda_id), None)

    def _doc(self, doc_id: str) -> Doc:
        doc = self.docs.get(doc_id)
        if doc is None:
            raise CommandError("unknown_document", f"no document {shown(doc_id)}")
        return doc

    def decide(self, agenda: Agenda, cmd: c.Command, now: float) -> list[e.Event]:
        return _DECIDE[type(cmd)](self, agenda, cmd, now)

    def _add(self, agenda: Agenda, cmd: c.AddDocument, now: float) -> list[e.Event]:
        problem = _metadata_problem(cmd.info)
        if problem:
            raise CommandError("bad_metadata", problem)
        if cmd.info.get("id") in self.docs:
            raise CommandError("bad_state", "this document is already in the sitting")
        if cmd.info.get("item_id") not in {i.id for i in agenda.items}:
            raise CommandError("unknown_item", f"no agenda item {shown(cmd.info.get('item_id'))}")
        unknown = [r for r in cmd.info.get("readers", ()) if agenda.member(r) is None]
        if unknown:
            raise CommandError("unknown_member", f"unknown reader(s): {', '.join(unknown)}")
        return [e.DocumentAdded(dict(cmd.info), cmd.agenda_id, cmd.release, now)]

    def _release(self, agenda: Agenda, cmd: c.ReleaseDocument, now: float) -> list[e.Event]:
        doc = self._doc(cmd.document)
        if doc.recalled:
            raise CommandError("document_recalled", "this document has been recalled")
        return [] if doc.released else [e.DocumentReleased(doc.id, now)]

    def _receipt(self, agenda: Agenda, cmd: c.RecordReceipt, now: float) -> list[e.Event]:
        doc = self._doc(cmd.document)
        member = agenda.member(cmd.member)
        if member is None or not doc.released or doc.recalled or not may_read(doc.info, "seat", member):
            raise CommandError("forbidden", "this document is not yours to read")
        if cmd.state not in RECEIPTS:
            raise CommandError("bad_message", f"state must be one of {', '.join(RECEIPTS)}")
        old = doc.receipts.get(cmd.member)
        if old == cmd.state or (old == "opened" and cmd.state == "delivered"):
            return []
        return [e.DocumentReceipt(doc.id, cmd.member, cmd.state, now)]

    def _recall(self, agenda: Agenda, cmd: c.RecallDocuments, now: float) -> list[e.Event]:
        return self.recall(cmd.document, now)

    def _show(self, agenda: Agenda, cmd: c.ShowPage, now: float) -> list[e.Event]:
        doc = self._doc(cmd.document)
        if not doc.released or doc.recalled:
            raise CommandError("bad_state", "only a released document can be shown")
        if not 1 <= cmd.page <= doc.info["page_count"]:
            raise CommandError("bad_message", f"page must be between 1 and {doc.info['page_count']}")
        return [e.PageShown(doc.id, cmd.page, now)]

    def recall(self, document: str | None, now: float) -> list[e.Event]:
        """Recall one document, or (None) every confidential one not yet recalled."""
        if document is not None:
            doc = self._doc(document)
            return [] if doc.recalled else [e.DocumentRecalled(doc.id, now)]
        return [
            e.DocumentRecalled(d.id, now)
            for d in self.docs.values()
            if d.info["classification"] == "confidential" and not d.recalled
        ]

    def apply(self, event: e.Event) -> None:
        _APPLY[type(event)](self, event)

    def _added(self, ev: e.DocumentAdded) -> None:
        self.docs[ev.info["id"]] = Doc(dict(ev.info), ev.agenda_id, ev.released)

    def _released(self, ev: e.DocumentReleased) -> None:
        self.docs[ev.document].released = True

    def _received(self, ev: e.DocumentReceipt) -> None:
        self.docs[ev.document].receipts[ev.member] = ev.state

    def _recalled(self, ev: e.DocumentRecalled) -> None:
        self.docs[ev.document].recalled = True
        if self.page and self.page["document"] == ev.document:
            self.page = None

    def _shown(self, ev: e.PageShown) -> None:
        self.page = {"document": ev.document, "page": ev.page}


_DECIDE: dict[type[c.Command], Callable[[DocumentBook, Agenda, Any, float], list[e.Event]]] = {
    c.AddDocument: DocumentBook._add,
    c.ReleaseDocument: DocumentBook._release,
    c.RecordReceipt: DocumentBook._receipt,
    c.RecallDocuments: DocumentBook._recall,
    c.ShowPage: DocumentBook._show,
}
_APPLY: dict[type[e.Event], Callable[[DocumentBook, Any], None]] = {
    e.DocumentAdded: DocumentBook._added,
    e.DocumentReleased: DocumentBook._released,
    e.DocumentReceipt: DocumentBook._received,
    e.DocumentRecalled: DocumentBook._recalled,
    e.PageShown: DocumentBook._shown,
}
