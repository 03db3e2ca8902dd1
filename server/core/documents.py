"""Documents of a paperless sitting, as the record knows them: who may read what, pushed,
received, opened, shown, recalled.

The files themselves live in the content-addressed store (server/documents); the record
holds their metadata (``DocumentInfo.to_dict()``) and every step of their life.
Audiences: ``everyone``; ``members`` (members and the chair); ``observers`` (列席人员
only); ``named`` (the listed ``readers``). The clerk reads everything; a display only
what is for everyone and not confidential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import commands as c
from . import events as e
from .agenda import Agenda, Member
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
        return self.info["id"]


def may_read(info: dict[str, Any], role: str, member: Member | None) -> bool:
    if role == "clerk":
        return True
    if role == "display":
        return info["audience"] == "everyone" and info["classification"] != "confidential"
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
            raise CommandError("unknown_document", f"no document {doc_id!r}")
        return doc

    def decide(self, agenda: Agenda, cmd: c.Command, now: float) -> list[e.Event]:
        if isinstance(cmd, c.AddDocument):
            if cmd.info.get("id") in self.docs:
                raise CommandError("bad_state", "this document is already in the sitting")
            if cmd.info.get("item_id") not in {i.id for i in agenda.items}:
                raise CommandError("unknown_item", f"no agenda item {cmd.info.get('item_id')!r}")
            unknown = [r for r in cmd.info.get("readers", ()) if agenda.member(r) is None]
            if unknown:
                raise CommandError("unknown_member", f"unknown reader(s): {', '.join(unknown)}")
            return [e.DocumentAdded(dict(cmd.info), cmd.agenda_id, cmd.release, now)]
        if isinstance(cmd, c.ReleaseDocument):
            doc = self._doc(cmd.document)
            if doc.recalled:
                raise CommandError("document_recalled", "this document has been recalled")
            return [] if doc.released else [e.DocumentReleased(doc.id, now)]
        if isinstance(cmd, c.RecordReceipt):
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
        if isinstance(cmd, c.RecallDocuments):
            return self.recall(cmd.document, now)
        if isinstance(cmd, c.ShowPage):
            doc = self._doc(cmd.document)
            if not doc.released or doc.recalled:
                raise CommandError("bad_state", "only a released document can be shown")
            if not 1 <= cmd.page <= doc.info["page_count"]:
                raise CommandError("bad_message", f"page must be between 1 and {doc.info['page_count']}")
            return [e.PageShown(doc.id, cmd.page, now)]
        raise TypeError(type(cmd).__name__)

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
        if isinstance(event, e.DocumentAdded):
            self.docs[event.info["id"]] = Doc(dict(event.info), event.agenda_id, event.released)
        elif isinstance(event, e.DocumentReleased):
            self.docs[event.document].released = True
        elif isinstance(event, e.DocumentReceipt):
            self.docs[event.document].receipts[event.member] = event.state
        elif isinstance(event, e.DocumentRecalled):
            self.docs[event.document].recalled = True
            if self.page and self.page["document"] == event.document:
                self.page = None
        elif isinstance(event, e.PageShown):
            self.page = {"document": event.document, "page": event.page}
