"""Page furniture shared by certificates and records: styles, page numbers, QR, rosters.

Everything is black on white with hairline rules, because certificates are printed on
whatever office laser printer is at hand and photocopied for the archive. Every page
carries "page x of y" and the document's reference, so a loose sheet of a 30-page annex
can be matched to its certificate and a missing sheet noticed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from .fonts import FontSet
from .messages import Messages

PAGE = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 20 * mm
WIDTH = PAGE[0] - 2 * MARGIN_X
RULE = 0.4  # line width of table rules, points

Output = str | os.PathLike[str] | BinaryIO


@dataclass(frozen=True)
class Styles:
    fonts: FontSet
    title: ParagraphStyle
    header: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    small: ParagraphStyle
    mono: ParagraphStyle
    verdict: ParagraphStyle


def make_styles(fonts: FontSet, msgs: Messages) -> Styles:
    """Paragraph styles; Chinese text may break between any two characters, English only at spaces."""
    wrap = "CJK" if msgs.language == "zh-CN" else None
    base = ParagraphStyle("hc-body", fontName=fonts.text, fontSize=10, leading=14, wordWrap=wrap)

    def derive(name: str, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return Styles(
        fonts=fonts,
        title=derive("hc-title", fontSize=20, leading=26, alignment=TA_CENTER, spaceAfter=4 * mm),
        header=derive("hc-header", fontSize=11, leading=15, alignment=TA_CENTER),
        heading=derive("hc-heading", fontSize=12.5, leading=17, spaceBefore=4 * mm, spaceAfter=2 * mm),
        body=base,
        cell=derive("hc-cell", fontSize=9, leading=11.5),
        small=derive("hc-small", fontSize=8, leading=10),
        mono=derive("hc-mono", fontName=fonts.mono, fontSize=7.5, leading=9.5, wordWrap=None),
        verdict=derive("hc-verdict", fontSize=15, leading=20, spaceBefore=3 * mm, spaceAfter=2 * mm),
    )


def para(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of literal text: names like "A&B <x>" must print as typed, not as markup."""
    return Paragraph(escape(str(text)), style)


def build_document(
    out: Output, flowables: list[Any], styles: Styles, msgs: Messages, reference: str, title: str, subject: str = ""
) -> int:
    """Lay out ``flowables`` on A4 with numbered footers; returns the page count.

    ``subject`` goes into the PDF's metadata: certificates put their signed payload there,
    so `hemicycle verify-certificate` can read a PDF without decoding the QR image.
    """
    pages: list[int] = []
    canvas_cls = _numbered_canvas(styles.fonts.text, msgs, reference, pages)
    target = os.fspath(out) if isinstance(out, (str, os.PathLike)) else out  # reportlab wants str or a file
    doc = SimpleDocTemplate(
        target,
        pagesize=PAGE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        subject=subject,
        author="Hemicycle",
        creator="Hemicycle",
        invariant=1,
    )
    doc.build(flowables, canvasmaker=canvas_cls)
    return pages[-1] if pages else 0


def _numbered_canvas(font: str, msgs: Messages, reference: str, pages: list[int]) -> type[Canvas]:
    """A canvas that holds pages back until the end, to print "page x of y" on each."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, 1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillColor(colors.black)
                y = MARGIN_BOTTOM - 10 * mm
                self.drawString(MARGIN_X, y, reference)
                self.drawRightString(PAGE[0] - MARGIN_X, y, msgs("page", page=number, total=total))
                Canvas.showPage(self)
            pages.append(total)
            Canvas.save(self)

    return NumberedCanvas


class QrCode(Flowable):
    """A QR symbol drawn as vector rectangles, one filled path so no seams appear between modules."""

    def __init__(self, text: str, module: float = 0.62 * mm, max_size: float = 62 * mm) -> None:
        super().__init__()
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
        code.add_data(text)
        code.make(fit=True)
        self.matrix: list[list[bool]] = code.get_matrix()
        self.size = min(max_size, len(self.matrix) * module)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        n = len(self.matrix)
        m = self.size / n
        path = self.canv.beginPath()
        for r, row in enumerate(self.matrix):
            y = self.size - (r + 1) * m
            c = 0
            while c < n:
                if row[c]:
                    start = c
                    while c < n and row[c]:
                        c += 1
                    path.rect(start * m, y, (c - start) * m, m)
                else:
                    c += 1
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)


def roster_table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Styles,
    width: float = WIDTH,
    max_groups: int = 4,
) -> Table:
    """Rows laid out several to a table row (reading left to right), title and headers on every page.

    The number of side-by-side groups is chosen from the widest name and choice actually
    present, so Chinese rosters print compactly and long English names never overflow.
    Cells are plain strings with fixed row heights: 3,000 members lay out in well under a second.
    """
    font, size, pad = styles.fonts.text, 8.5, 6.0
    ncol = len(headers)
    natural = [
        max([stringWidth(h, font, size)] + [stringWidth(r[i], font, size) for r in rows]) + 2 * pad
        for i, h in enumerate(headers)
    ]
    group_w = sum(natural)
    groups = max(1, min(max_groups, int(width // group_w)))
    wrap_last = group_w > width
    if wrap_last:
        natural[-1] = max(40.0, width - sum(natural[:-1]))
    scale = width / (groups * sum(natural))
    col_widths = [w * scale for w in natural] * groups
    cell_style = ParagraphStyle("hc-roster", parent=styles.cell, fontSize=size, leading=size + 2.5)
    body: list[list[Any]] = []
    for start in range(0, len(rows), groups):
        line: list[Any] = []
        for row in rows[start : start + groups]:
            cells: list[Any] = list(row)
            if wrap_last:
                cells[-1] = para(cells[-1], cell_style)
            line.extend(cells)
        line.extend([""] * (ncol * groups - len(line)))
        body.append(line)
    data: list[list[Any]] = [[title] + [""] * (ncol * groups - 1), list(headers) * groups] + body
    heights = None if wrap_last else [22.0, 15.0] + [13.0] * len(body)
    table = Table(data, colWidths=col_widths, rowHeights=heights, repeatRows=2, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, size),
        ("FONT", (0, 0), (-1, 0), font, 11),
        ("SPAN", (0, 0), (-1, 0)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad / 2),
        ("TOPPADDING", (0, 1), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 2),
        ("GRID", (0, 1), (-1, -1), RULE, colors.black),
        ("LINEBELOW", (0, 1), (-1, 1), 1.2, colors.black),
    ]
    for g in range(1, groups):
        commands.append(("LINEBEFORE", (g * ncol, 1), (g * ncol, -1), 1.2, colors.black))
    table.setStyle(TableStyle(commands))
    return table
