"""What each role may see: snapshots, events and live progress, as plain data.

Roles: ``clerk`` (everything but secret choices, which nobody sees), ``seat`` (a member's
tablet: public data plus the member's own named votes, and for a secret ballot only that
the member's vote was recorded), ``device`` (a keypad bridge: like the
seats it serves), ``display`` (public data only: never a secret choice, never live counts a
ballot hides, never who voted what before a named ballot closes).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from . import events as e
from .ballot_state import BallotRun
from .documents import Doc, may_read
from .floor import floor_view
from .kinds import keypad_ok, keypad_options
from .meeting import Meeting

ROLES = ("clerk", "seat", "display", "device")


def attendance_summary(m: Meeting) -> dict[str, Any]:
    voting = m.agenda.voting_members
    counts = {"present": 0, "leave": 0, "absent": 0}
    attendance = m.attendance
    for member in voting:
        counts[attendance[member.id]] += 1
    return {
        "seated": len(voting),
        **counts,
        "quorum_met": m.agenda.quorum.passes(counts["present"], len(voting)),  # = m.quorum_met(), one pass
        "quorum_needed": m.agenda.quorum.needed(len(voting)),
    }


def progress(m: Meeting, run: BallotRun) -> dict[str, Any]:
    """Live progress of a ballot: how many voted; counts only where the ballot shows them."""
    out: dict[str, Any] = {
        "ballot": run.spec.id,
        "run": run.run,
        "status": run.status,
        "voted": len(run.voters),
        "present": m.turnout(run).present,
    }
    if run.spec.live_counts and run.is_live:
        out["live"] = m.tally(run)["lines"]
    return out


def locked_votes(m: Meeting) -> list[dict[str, Any]]:
    """The open secret ballots some of whose votes can no longer be changed, and how many.

    A secret vote can be changed only through the link from its member to its urn entry
    (``BallotRun.slots``), which exists in the memory of the process that took the vote and
    nowhere else. After a restart or a standby's takeover every vote cast before it has a
    voter but no slot: those are the locked ones (the clerk is told, docs/protocol.md,
    "Connecting"). A ballot that forbids changes has nothing to lock.
    """
    out = []
    for run in m.ballots.values():
        if run.is_live and run.spec.secret and run.spec.allow_change:
            locked = len(run.voters - run.slots.keys())
            if locked:
                out.append({"ballot": run.spec.id, "run": run.run, "title": run.spec.title, "votes": locked})
    return out


def ballot_view(m: Meeting, run: BallotRun, role: str, members: Collection[str]) -> dict[str, Any]:
    """A ballot as ``role`` sees it: its definition (validated here, so no client folds a
    definition itself), the keypad keys it allows (``keypad``: the choices the three keys
    send, in key order, or null when a keypad cannot vote it), its state and results."""
    view = run.spec.public()
    view["keypad"] = keypad_options(run.spec) if keypad_ok(run.spec) else None
    view.update(
        {
            "run": run.run,
            "status": run.status,
            "opened_at": run.opened_at,
            "closed_at": run.closed_at,
            "deadline": run.deadline,
            "remaining": run.remaining,
            "voted": len(run.voters),
        }
    )
    if run.result is not None and run.status in ("closed", "announced"):
        if shows_result(run, role):
            view["result"] = run.result
            view["urn_digest"] = run.urn_digest
            if not run.spec.secret:
                view["choices"] = dict(sorted(run.named.items()))
    elif run.spec.live_counts and run.is_live:
        view["live"] = m.tally(run)["lines"]
    if role == "clerk":
        view["voters"] = sorted(run.voters)
    if role in ("seat", "device"):
        view["mine"] = {mid: own_choice(run, mid) for mid in members if mid in run.voters}
    view["previous_runs"] = [
        {"run": old.run, "status": old.status, "result": old.result if shows_result(old, role) else None}
        for old in m.history
        if old.spec.id == run.spec.id
    ]
    return view


def shows_result(run: BallotRun, role: str) -> bool:
    """Whether ``role`` is given this run's result (and named choices) now.

    The clerk always is, from the close. The room — tablets, keypads, displays — is at
    the close under ``reveal = "on_close"``, but only once the chair announces it under
    ``"on_announce"`` (a voided run that was never announced stays unseen).
    """
    return role == "clerk" or run.spec.reveal != "on_announce" or run.announced_at is not None


def own_choice(run: BallotRun, member: str) -> dict[str, Any]:
    """A member's recorded vote as the tablets and keypads serving them may show it.

    For a secret ballot only that it was recorded: the choice never leaves the server
    linked to a member — not to a keypad bridge, not to the member's other connections,
    not to the tablet that cast it once it reconnects (it had its own choice in hand when
    it voted; the acknowledgement carries none either)."""
    if not run.spec.secret:
        return {"recorded": True, "choice": run.named.get(member)}
    return {"recorded": True}


def reader_may_read(m: Meeting, info: dict[str, Any], role: str, members: Collection[str]) -> bool:
    """A connection may see a document if its role, or the one member it speaks for, may read it."""
    if role in ("clerk", "display"):
        return may_read(info, role, None)
    if role != "seat":
        return False
    return any(may_read(info, role, m.agenda.member(mid)) for mid in members)


def document_view(doc: Doc, role: str) -> dict[str, Any]:
    info = doc.info
    view = {
        "id": doc.id,
        "title": info["title"],
        "item": info["item_id"],
        "pages": info["page_count"],
        "mime": info["mime"],
        "classification": info["classification"],
        "audience": info["audience"],
        "released": doc.released,
        "recalled": doc.recalled,
        "size": info["size"],
    }
    if role == "clerk":
        view["receipts"] = dict(doc.receipts)
        view["readers"] = list(info.get("readers", ()))
    return view


def documents_view(m: Meeting, role: str, members: Collection[str]) -> list[dict[str, Any]]:
    return [
        document_view(d, role)
        for d in m.documents.docs.values()
        if reader_may_read(m, d.info, role, members) and (d.released or role == "clerk")
    ]


def roster(m: Meeting) -> list[dict[str, Any]]:
    """The members as every role sees them: fixed for the sitting."""
    return [
        {"id": x.id, "name": x.name, "seat": x.seat, "group": x.group, "role": x.role, "votes": x.can_vote}
        for x in m.agenda.members
    ]


def snapshot(
    m: Meeting, role: str, members: Collection[str] = (), large: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The sitting as ``role`` (speaking for ``members``) may see it.

    ``large`` may hold the parts that grow with the number of members and are the same
    for every role — "members" (``roster``), "attendance" and "summary" — already built
    for this state; the edge passes them pre-encoded, so 3,000 seats connecting at once do
    not rebuild and re-encode two 3,000-entry collections for each welcome.
    """
    agenda = m.agenda
    info = agenda.meeting
    large = large or {}
    return {
        "meeting": {
            "body": info.body,
            "term": info.term,
            "session": info.session,
            "title": info.title,
            "date": info.date,
            "language": info.language,
        },
        "members": large["members"] if "members" in large else roster(m),
        "items": [
            {
                "id": it.id,
                "title": it.title,
                "ballots": [b for b in m.ballots if m.ballots[b].spec.item == it.id],
                "documents": list(it.documents),
            }
            for it in agenda.items
        ],
        "current_item": m.current_item,
        "layout": agenda.layout.view() if agenda.layout else None,
        "attendance": large["attendance"] if "attendance" in large else dict(m.attendance),
        "keypads": dict(m.keypads),
        "keypad_lines": {name: {**line, "seats": list(line["seats"])} for name, line in m.keypad_lines.items()},
        "summary": large["summary"] if "summary" in large else attendance_summary(m),
        "ballots": [ballot_view(m, run, role, members) for run in m.ballots.values()],
        "documents": documents_view(m, role, members),
        "page": m.documents.page
        if m.documents.page and reader_may_read(m, m.documents.docs[m.documents.page["document"]].info, role, members)
        else None,
        "floor": floor_view(m.floor, agenda, role),
        "closed": m.closed,
        "seq": m.seq,
        **({"cards": cards(m)} if role == "device" else {}),
    }


def cards(m: Meeting) -> dict[str, str]:
    """Badge card id -> member id, for keypad bridges whose units read cards."""
    return {x.card: x.id for x in m.agenda.members if x.card}


def seat_scope(event: e.Event) -> str | None:
    """The member whose own devices are the only seats and keypad bridges to receive this
    event (their vote, their attendance, their receipt of a document), or None.

    Other seats learn attendance from the summary, and never anyone's vote. The live
    fan-out and a resuming client's catch-up both follow this one rule, and the resume
    index (server/edge/welcome.py) uses it to skip other members' events without looking
    at them: 3,000 tablets resuming after a takeover must not each walk 3,000 others' votes.
    """
    if isinstance(event, e.VoteCast | e.AttendanceChanged | e.DocumentReceipt):
        return event.member
    return None


def visible_event(event: e.Event, role: str, members: Collection[str], m: Meeting) -> dict[str, Any] | None:
    """The event as this role may receive it, or None if it is not for them."""
    if not event.LOGGED:
        return None
    if role in ("seat", "device") and (scope := seat_scope(event)) is not None and scope not in members:
        return None
    if isinstance(event, e.DOCUMENT_EVENTS):
        return _document_event(event, role, members, m)
    if isinstance(event, e.FLOOR_EVENTS):
        # the floor as it stands now goes with each step: screens replace theirs, none re-folds it
        return {**e.to_data(event), "floor": floor_view(m.floor, m.agenda, role)}
    data = e.to_data(event)
    if isinstance(event, e.SittingOpened):
        return {"name": event.NAME, "at": event.at}
    if isinstance(event, e.BallotCreated):
        run = m.ballots[event.spec["id"]]
        return {"name": event.NAME, "ballot": ballot_view(m, run, role, members), "at": event.at}
    if isinstance(event, e.VoteCast):
        # only the member's own devices; the clerk follows who voted through progress
        return data if role in ("seat", "device") and event.member in members else None
    if isinstance(event, e.BallotClosed | e.BallotAnnounced):
        return _result_event(event, data, role, m)
    return data


def _result_event(
    event: e.BallotClosed | e.BallotAnnounced, data: dict[str, Any], role: str, m: Meeting
) -> dict[str, Any]:
    """The result goes with the close — or, for the room under ``reveal = "on_announce"``,
    with the announcement — and a named ballot's choices with it (so no screen has to
    fetch a fresh snapshot to print the named list).

    Decided by the event and the ballot's definition alone, so a client resuming from an
    old position gets the same events as one that was there.
    """
    waits = role != "clerk" and m.ballots[event.ballot].spec.reveal == "on_announce"
    if isinstance(event, e.BallotClosed) and waits:
        return {k: v for k, v in data.items() if k not in ("result", "urn_digest")}
    if isinstance(event, e.BallotAnnounced) and not waits:
        return data
    runs = (r for r in (m.ballots[event.ballot], *m.history) if r.spec.id == event.ballot and r.run == event.run)
    run = next(runs, None)
    if run is None:
        return data
    if isinstance(event, e.BallotAnnounced):
        data = {**data, "result": run.result, "urn_digest": run.urn_digest}
    if not run.spec.secret:
        data = {**data, "choices": dict(sorted(run.named.items()))}
    return data


def _document_of(event: e.Event) -> str:
    if isinstance(event, e.DocumentAdded):
        return str(event.info["id"])
    assert isinstance(event, e.DocumentReleased | e.DocumentReceipt | e.DocumentRecalled | e.PageShown)
    return event.document


def _document_event(event: e.Event, role: str, members: Collection[str], m: Meeting) -> dict[str, Any] | None:
    doc = m.documents.docs.get(_document_of(event))
    if doc is None or not reader_may_read(m, doc.info, role, members):
        return None
    if isinstance(event, e.DocumentReceipt):
        return e.to_data(event) if role == "clerk" or event.member in members else None
    if isinstance(event, e.DocumentAdded):
        if not event.released and role != "clerk":
            return None
        return {"name": event.NAME, "document": document_view(doc, role), "at": event.at}
    if isinstance(event, e.DocumentReleased) and role != "clerk":
        return {"name": "document.added", "document": document_view(doc, role), "at": event.at}
    return e.to_data(event)
