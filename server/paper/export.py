"""`hemicycle export`: attendance and results of a sitting, for archives.

JSON gives the whole picture in one document, for programs; CSV gives two flat tables
(attendance.csv, results.csv) and XLSX the same two as sheets of one workbook, in the
meeting's language, for the office (server/paper/spreadsheet.py). All are built by
replaying the log, so they say exactly what the record says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.meeting import Meeting
from ..core.views import attendance_summary
from ..live.sitting import replay
from ..store.base import EventStore
from . import spreadsheet


def sitting_data(meeting: Meeting) -> dict[str, Any]:
    info = meeting.agenda.meeting
    runs = [*meeting.history, *meeting.ballots.values()]
    return {
        "meeting": {
            "body": info.body,
            "term": info.term,
            "session": info.session,
            "title": info.title,
            "date": info.date,
            "language": info.language,
        },
        # seated = members with a vote, as on every ballot, screen and the record; observers apart
        "summary": {
            **attendance_summary(meeting),
            "observers": sum(1 for m in meeting.agenda.members if not m.can_vote),
        },
        "attendance": [
            {
                "member": m.id,
                "name": m.name,
                "seat": m.seat,
                "group": m.group,
                "role": m.role,
                "votes": m.can_vote,
                "status": meeting.attendance[m.id],
            }
            for m in meeting.agenda.members
        ],
        "ballots": [
            {
                "ballot": r.spec.id,
                "item": r.spec.item,
                "title": r.spec.title,
                "kind": r.spec.kind,
                "secret": r.spec.secret,
                "run": r.run,
                "status": r.status,
                "opened_at": r.opened_at,
                "closed_at": r.closed_at,
                "result": r.result,
                "urn_digest": r.urn_digest or None,
                "choices": None if r.spec.secret or r.result is None else dict(sorted(r.named.items())),
            }
            for r in runs
            if r.run > 0
        ],
        "log_position": meeting.seq,
    }


def export(store: EventStore, fmt: str, out: Path | None) -> str:
    """Write the export; returns a one-line description of what was written."""
    meeting, _, _ = replay(store)
    if meeting is None:
        raise ValueError("the database holds no sitting")
    data = sitting_data(meeting)
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if out is None:
            print(text)
            return "written to standard output"
        out.write_text(text + "\n", encoding="utf-8")
        return f"wrote {out}"
    if fmt == "csv":
        target = out or Path(".")
        target.mkdir(parents=True, exist_ok=True)
        attendance, results = spreadsheet.tables(data)
        spreadsheet.write_csv(target / "attendance.csv", attendance)
        spreadsheet.write_csv(target / "results.csv", results)
        return f"wrote {target / 'attendance.csv'} and {target / 'results.csv'}"
    if fmt == "xlsx":
        target = out or Path("sitting.xlsx")
        if target.is_dir():
            target = target / "sitting.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        spreadsheet.write_xlsx(target, spreadsheet.tables(data))
        return f"wrote {target}"
    raise ValueError(f"unknown format {fmt!r}; use json, csv or xlsx")
