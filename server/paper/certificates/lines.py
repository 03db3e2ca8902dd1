"""The table of a result's lines, as printed on certificates and the sitting record.

Generic on purpose: it prints whatever the result form's lines carry (counts per option,
then every other field with a catalogue heading or a readable key), so a new ballot kind
prints correctly the day its tally function ships. Three rules keep it readable:

- a field that only restates another (``elected``, ``tied``, ``selected`` next to a
  ``verdict``; a score's ``count`` next to its ``scored`` count) is left out, and a
  write-in is marked beside its name, a score's scale printed with it, not in columns;
- a field of mappings (an evaluation's ``percent``) becomes one column per key;
- a field equal on every line (the base and the votes needed, on a list of candidates)
  is printed once under the table instead of repeated in a column.

Columns are measured: values never wrap (a count broken over two lines misreads as two
numbers) and headings never break inside a word — a Chinese heading stays on one line, an
English one wraps only between words; when that is too wide the headings' type gets
smaller before anything is allowed to wrap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from .layout import RULE, WIDTH, Styles, para
from .messages import Messages

LINE_SKIP = ("id", "label", "counts", "write_in", "min", "max")  # the last three go with the label
RESTATE_VERDICT = ("elected", "tied", "selected")  # a yes/no column saying what the verdict says
PAD = 8.0
SMALLEST_HEADING = 6.5  # points: headings shrink to this before they may wrap


@dataclass(frozen=True)
class Column:
    key: str  # the line's field (or, for a count, the option)
    heading: str
    sub: str | None = None  # the key within a field of mappings
    count: bool = False  # an option's count: right-aligned, as sums are

    def value(self, line: Mapping[str, Any], fmt: Callable[[str, Any], str]) -> str:
        if self.count:
            return fmt(self.key, (line.get("counts") or {}).get(self.key))
        if self.sub is not None:
            return fmt(self.key, (line.get(self.key) or {}).get(self.sub))
        return fmt(self.key, line.get(self.key))

    @property
    def numeric(self) -> bool:
        return self.count or self.sub is not None


def columns(lines: Sequence[Mapping[str, Any]], msgs: Messages) -> list[Column]:
    """The value columns, in the order the kind wrote its fields: fields, options, fields."""
    pre: list[str] = []
    options: list[str] = []
    post: list[str] = []
    has_verdict = any("verdict" in line for line in lines)
    for line in lines:
        seen_counts = False
        for key in line:
            if key == "counts":
                seen_counts = True
                options.extend(o for o in line["counts"] if o not in options)
            elif key in LINE_SKIP or (has_verdict and key in RESTATE_VERDICT) or key in pre or key in post:
                continue
            elif key == "count" and all(x.get("count") == (x.get("counts") or {}).get("scored") for x in lines):
                continue  # a score's count of scores is its "scored" column
            else:
                (post if seen_counts else pre).append(key)
    out = [c for k in pre for c in _field(k, lines, msgs)]
    out += [Column(o, msgs.value(o), count=True) for o in options]
    out += [c for k in post for c in _field(k, lines, msgs)]
    return out


def _field(key: str, lines: Sequence[Mapping[str, Any]], msgs: Messages) -> list[Column]:
    subkeys: list[str] = []
    if all(isinstance(line.get(key), Mapping) or line.get(key) is None for line in lines):
        for line in lines:
            subkeys.extend(k for k in line.get(key) or {} if k not in subkeys)
    if not subkeys:
        return [Column(key, msgs.field(key))]
    template = "lines.percent" if key == "percent" else "lines.sub"
    return [Column(key, msgs(template, field=msgs.field(key), sub=msgs.value(sub)), sub=sub) for sub in subkeys]


def label_of(line: Mapping[str, Any], msgs: Messages, fmt: Callable[[str, Any], str]) -> str:
    """The line's name, with what belongs to it rather than to a column: a write-in mark, a score's scale."""
    label = str(line.get("label", line.get("id", "")))
    if line.get("write_in") is True:
        return msgs("lines.write_in", label=label)
    if "min" in line and "max" in line:
        return msgs("lines.scale", label=label, min=fmt("min", line["min"]), max=fmt("max", line["max"]))
    return label


def _unit(text: str, msgs: Messages) -> str:
    """The widest piece a heading may not be broken inside: all of it in Chinese, else a word."""
    if msgs.language == "zh-CN":
        return text
    return max(text.split() or [text], key=len)


def widths(
    head: list[str], rows: list[list[str]], styles: Styles, msgs: Messages, width: float
) -> tuple[float, list[float], float]:
    """(label width, value column widths, heading font size).

    Each value column is at least as wide as its widest value and its heading's widest
    unbreakable piece; headings get their full width where the page allows. The label
    column keeps at least a fifth of the width.
    """
    font, size = styles.fonts.text, styles.cell.fontSize
    room = width * 0.8
    values = [max([stringWidth(r[i], font, size) for r in rows] + [18.0]) + PAD for i in range(1, len(head))]
    heading = size
    while True:
        least = [max(v, stringWidth(_unit(h, msgs), font, heading) + PAD) for v, h in zip(values, head[1:])]
        if sum(least) <= room or heading <= SMALLEST_HEADING:
            break
        heading -= 0.5
    full = [max(v, stringWidth(h, font, heading) + PAD) for v, h in zip(values, head[1:])]
    if sum(full) <= room:
        want = full
    elif sum(least) <= room:  # English headings wrap between words, as far as needed
        slack = sum(f - m for f, m in zip(full, least))
        share = (room - sum(least)) / slack if slack else 0
        want = [m + (f - m) * share for f, m in zip(full, least)]
    elif sum(values) <= room:  # more columns than the page holds: headings wrap, values never
        slack = sum(m - v for m, v in zip(least, values))
        share = (room - sum(values)) / slack if slack else 0
        want = [v + (m - v) * share for m, v in zip(least, values)]
    else:  # the values alone are too wide: everything shrinks alike
        want = [v * room / sum(values) for v in values]
    return width - sum(want), want, heading


def lines_table(
    result: Mapping[str, Any], msgs: Messages, styles: Styles, fmt: Callable[[str, Any], str], width: float = WIDTH
) -> tuple[Table | None, list[Flowable]]:
    """Every line of the result; and, beneath, the fields every line shares."""
    lines = [line for line in result.get("lines") or [] if isinstance(line, Mapping)]
    if not lines:
        return None, []
    cols = columns(lines, msgs)
    cells = [[c.value(line, fmt) for c in cols] for line in lines]
    common: list[tuple[str, str]] = []
    if len(lines) > 1:
        same = [
            i for i, c in enumerate(cols) if not c.numeric and c.key != "verdict" and len({r[i] for r in cells}) == 1
        ]
        common = [(cols[i].heading, cells[0][i]) for i in same]
        cols = [c for i, c in enumerate(cols) if i not in same]
        cells = [[v for i, v in enumerate(r) if i not in same] for r in cells]
    head = [msgs("lines.label")] + [c.heading for c in cols]
    rows = [[label_of(line, msgs, fmt)] + r for line, r in zip(lines, cells)]
    label_w, col_w, heading_size = widths(head, rows, styles, msgs, width)
    heading = ParagraphStyle("hc-cell-head", parent=styles.cell, fontSize=heading_size, leading=heading_size + 2.5)
    numeric = ParagraphStyle("hc-cell-num", parent=styles.cell, alignment=TA_RIGHT)
    data = [[para(h, heading) for h in head]] + [
        [para(v, numeric if i and cols[i - 1].numeric else styles.cell) for i, v in enumerate(r)] for r in rows
    ]
    table = Table(data, colWidths=[label_w] + col_w, repeatRows=1, hAlign="LEFT")
    table.setStyle(grid())
    notes: list[Flowable] = []
    if common:
        text = msgs("list.sep").join(f"{h} {v}" for h, v in common)
        notes.append(Spacer(1, 1.5 * mm))
        notes.append(para(msgs("lines.common", fields=text), styles.small))
    return table, notes


def grid() -> TableStyle:
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), RULE, colors.black),
            ("LINEBELOW", (0, 0), (-1, 0), 1.0, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )
