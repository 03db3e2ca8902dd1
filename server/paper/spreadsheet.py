"""The export as the office opens it: tables in the meeting's language, for Excel.

Clerks open results in Excel. Excel reads a CSV as UTF-8 only when it starts with a byte
order mark (without one, Chinese turns to mojibake), and a clerk reads 出席 and 赞成, not
``present`` and ``count_for``: headings and values (status, kind, verdict, options, role)
come from the paper catalogue (server/paper/certificates/i18n), as on the certificates.
The same two tables go to an XLSX workbook, numbers kept as numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .certificates.messages import Messages

Table = tuple[str, list[str], list[list[Any]]]  # sheet title, headings, rows


def attendance_table(data: dict[str, Any], msgs: Messages) -> Table:
    heads = ["export.member", "name", "seat", "export.group", "export.role", "export.votes", "status"]
    rows = [
        [
            a["member"],
            a["name"],
            a["seat"],
            a["group"],
            msgs(f"export.role.{a['role']}"),
            msgs("yes") if a["votes"] else msgs("no"),
            msgs(f"attendance.{a['status']}"),
        ]
        for a in data["attendance"]
    ]
    return msgs("attendance"), [msgs(h) for h in heads], rows


TURNOUT = ("seated", "present", "voted", "not_voted", "invalid")


def results_table(data: dict[str, Any], msgs: Messages) -> Table:
    """One row per result line; each option's count in a column of its own."""
    options: list[str] = []
    lines = []
    for b in data["ballots"]:
        result = b["result"]
        if result is None:
            continue
        for line in result.get("lines", []):
            counts = line.get("counts") or {}
            options += [o for o in counts if o not in options]
            lines.append((b, result, line, counts))
    heads = [msgs("export.ballot"), msgs("run"), msgs("status"), msgs("kind"), msgs("export.title")]
    heads += [msgs("export.line"), msgs("export.label"), *(msgs(k) for k in TURNOUT), msgs.field("verdict")]
    heads += [msgs("export.count", option=msgs.value(o)) for o in options]
    rows = []
    for b, result, line, counts in lines:
        verdict = line.get("verdict", result.get("verdict"))
        rows.append(
            [
                b["ballot"],
                b["run"],
                msgs.value(b["status"]),
                msgs.value(b["kind"]),
                b["title"],
                line.get("id"),
                line.get("label"),
                *(result.get(k) for k in TURNOUT),
                msgs.value(verdict) if isinstance(verdict, str) else verdict,
                *(counts.get(o) for o in options),
            ]
        )
    return msgs("ballots"), heads, rows


def tables(data: dict[str, Any]) -> list[Table]:
    msgs = Messages(data["meeting"]["language"])
    return [attendance_table(data, msgs), results_table(data, msgs)]


def write_csv(path: Path, table: Table) -> None:
    """UTF-8 with a byte order mark, so Excel reads Chinese as Chinese."""
    _, heads, rows = table
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(heads)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)


def write_xlsx(path: Path, workbook_tables: list[Table]) -> None:
    from openpyxl import Workbook  # late: only the export needs it
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, heads, rows in workbook_tables:
        sheet = book.create_sheet(title[:31])  # Excel's limit on a sheet name
        sheet.append(heads)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(rows, 2):
            for c, value in enumerate(row, 1):
                cell = sheet.cell(r, c)
                cell.value = _cell(value)
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, even when it starts with "=" (a write-in is typed by anyone)
        for i, head in enumerate(heads, 1):
            width = max([_width(head), *(_width(r[i - 1]) for r in rows)])
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(60, width + 2)
        sheet.freeze_panes = "A2"
    book.save(path)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Numbers stay numbers; anything else is text."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return value
    return str(value)


def _csv_cell(value: Any) -> Any:
    """A text that Excel would take for a formula (a write-in typed as ``=HYPERLINK(…)``)
    is written with a leading apostrophe, which Excel shows as text."""
    value = _cell(value)
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
