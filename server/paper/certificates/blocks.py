"""The parts of a ballot's result as printed, shared by the certificate and the record.

The table of a result's lines is in lines.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from .context import BallotRecord, MeetingInfo
from .layout import RULE, WIDTH, Styles, para
from .lines import grid, lines_table
from .messages import Messages

TURNOUT = ("seated", "present", "voted", "not_voted", "invalid")


def format_value(key: str, value: Any, msgs: Messages) -> str:
    """One result value as text: verdict words translated, numbers plain, nested values flattened."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return msgs.boolean(key, value)
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
        return text + ("%" if "percent" in key else "")
    if isinstance(value, int):
        return str(value) + ("%" if "percent" in key else "")
    if isinstance(value, Mapping):
        return msgs("list.sep").join(f"{msgs.value(k)} {format_value(key, v, msgs)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return msgs("list.sep").join(format_value(key, v, msgs) for v in value)
    return msgs.value(value)


def kv_table(
    rows: Sequence[tuple[str, Any]], styles: Styles, width: float = WIDTH, label_width: float = 30 * mm
) -> Table:
    """Label / value pairs, the value wrapping; values may be flowables (e.g. monospace digests)."""
    data = [
        [para(label, styles.body), value if isinstance(value, Flowable) else para(value, styles.body)]
        for label, value in rows
    ]
    table = Table(data, colWidths=[label_width, width - label_width], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), RULE, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def ballot_rows(
    ballot: BallotRecord, msgs: Messages, tz: str | None, *, with_item: bool = True
) -> list[tuple[str, Any]]:
    """Item, ballot, kind, rule, run and times, in the order a clerk reads them out."""
    rows: list[tuple[str, Any]] = []
    if with_item and ballot.item_title:
        rows.append((msgs("item"), ballot.item_title))
    rows.append((msgs("ballot"), ballot.title))
    secrecy = msgs("secret") if ballot.secret else msgs("named")
    rows.append((msgs("kind"), msgs("kind.value", kind=msgs.value(ballot.kind), secrecy=secrecy)))
    rule = rule_row(ballot.result, msgs)
    if rule is not None:
        rows.append(rule)
    rnd = (ballot.result or {}).get("round")
    if ballot.kind == "election" and isinstance(rnd, int):
        rows.append((msgs("round"), msgs("round.value", round=rnd)))  # as the title and every screen say it
    rows.append((msgs("run"), msgs("run.rerun" if ballot.run > 1 else "run.value", run=ballot.run)))
    rows.append((msgs("opened"), msgs.datetime(ballot.opened_at, tz)))
    rows.append((msgs("closed"), msgs.datetime(ballot.closed_at, tz)))
    return rows


def rule_row(result: Mapping[str, Any] | None, msgs: Messages) -> tuple[str, str] | None:
    """The ballot's rule in its kind's own terms: a score has no pass mark, a selection ranks."""
    if not result:
        return None
    kind, rule = result.get("kind"), result.get("rule")
    if kind == "score":
        trim = result.get("trim") or 0
        return msgs("rule.score"), msgs("rule.score.trim" if trim else "rule.score.plain", trim=trim)
    if kind == "selection":
        text = msgs("rule.selection", seats=result.get("seats", ""))
        if result.get("minimum"):
            text += msgs("list.sep") + msgs("rule.selection.minimum", n=result["minimum"])
        if isinstance(rule, Mapping) and str(rule.get("fraction", "0")) not in ("0", "0/1"):
            text += msgs("list.sep") + msgs.rule(rule)
        return msgs("rule"), text
    if isinstance(rule, Mapping):
        return msgs("rule"), msgs.rule(rule)
    return None


def meeting_rows(meeting: MeetingInfo, msgs: Messages) -> list[tuple[str, Any]]:
    rows = [(msgs("meeting"), meeting.title)]
    if meeting.date:
        rows.append((msgs("date"), meeting.date))
    return rows


def header(meeting: MeetingInfo, title: str, styles: Styles) -> list[Flowable]:
    """Body and session above the document title, as on the paper forms clerks know."""
    out: list[Flowable] = []
    line = " ".join(p for p in (meeting.body, meeting.term, meeting.session) if p)
    if line:
        out.append(para(line, styles.header))
        out.append(Spacer(1, 2 * mm))
    out.append(para(title, styles.title))
    return out


def turnout_table(result: Mapping[str, Any], msgs: Messages, styles: Styles, width: float = WIDTH) -> Table:
    keys = [k for k in TURNOUT if k in result]
    data = [
        [para(msgs(k), styles.cell) for k in keys],
        [para(format_value(k, result.get(k), msgs), styles.body) for k in keys],
    ]
    table = Table(data, colWidths=[width / len(keys)] * len(keys), hAlign="LEFT")
    table.setStyle(grid())
    return table


def verdict_paragraph(result: Mapping[str, Any], msgs: Messages, styles: Styles) -> Paragraph | None:
    verdict = result.get("verdict")
    if verdict is None or verdict == "" or verdict == [] or verdict == {}:
        return None
    return para(f"{msgs('result')}{msgs('pair.sep')}{format_value('verdict', verdict, msgs)}", styles.verdict)


def result_flowables(ballot: BallotRecord, msgs: Messages, styles: Styles, width: float = WIDTH) -> list[Flowable]:
    """Turnout, lines and verdict; a voided run in the record says so instead of showing
    numbers that do not count, and a voided run's re-issued certificate shows them under a
    note that they do not count."""
    if ballot.result is None:
        return [Spacer(1, 2 * mm), para(msgs("voided"), styles.verdict)]
    out: list[Flowable] = [Spacer(1, 3 * mm)]
    if ballot.voided:
        out.append(para(msgs("void.note"), styles.verdict))
    out.extend([turnout_table(ballot.result, msgs, styles, width), Spacer(1, 3 * mm)])
    table, notes = lines_table(ballot.result, msgs, styles, lambda k, v: format_value(k, v, msgs), width)
    if table is not None:
        out.append(table)
    out.extend(notes)
    verdict = verdict_paragraph(ballot.result, msgs, styles)
    if verdict is not None:
        out.append(verdict)
    if ballot.secret:
        out.append(para(msgs("secret.note"), styles.small))
    return out


def audit_flowables(ballot: BallotRecord, msgs: Messages, styles: Styles) -> list[Flowable]:
    """Log position and digests, stacked label-over-value so a 64-digit digest fits on one line."""
    out: list[Flowable] = []
    if ballot.log is not None:
        out.append(
            para(
                f"{msgs('log.position')}{msgs('pair.sep')}{msgs('log.position.value', seq=ballot.log.seq)}",
                styles.small,
            )
        )
        out.append(para(msgs("log.digest"), styles.small))
        out.append(para(ballot.log.digest, styles.mono))
    if ballot.urn_digest:
        out.append(para(msgs("urn"), styles.small))
        out.append(para(ballot.urn_digest, styles.mono))
    return out


def signature_block(msgs: Messages, styles: Styles, width: float = WIDTH) -> Table:
    """Blank lines for the chair and the clerk to sign, with room for handwriting."""
    label_w = 34 * mm if msgs.language == "zh-CN" else 36 * mm
    line_w = (width - 2 * label_w - 8 * mm) / 2
    data = [
        [para(msgs("sign.chair"), styles.body), "", "", para(msgs("sign.clerk"), styles.body), ""],
        [para(msgs("sign.date"), styles.body), "", "", para(msgs("sign.date"), styles.body), ""],
    ]
    table = Table(data, colWidths=[label_w, line_w, 8 * mm, label_w, line_w], rowHeights=[32, 32], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 0), (1, -1), RULE, colors.black),
                ("LINEBELOW", (4, 0), (4, -1), RULE, colors.black),
            ]
        )
    )
    return table
