"""The tally certificate (表决结果单): one ballot run on A4, signed by hand and by key.

Page one carries everything the chair announces and signs: meeting, item, ballot, rule
in words, turnout, counts per line, verdict, times, the log position and digest, and a QR
code whose signed payload lets anyone check the paper against the record. A named ballot
adds an annex listing every member's choice by seat; a secret ballot never does (the
renderer refuses choices for it) and shows the digest of the sorted ballot set instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table, TableStyle

from ..fonts import has_cjk, strings
from .blocks import (
    audit_flowables,
    ballot_rows,
    format_value,
    header,
    kv_table,
    meeting_rows,
    result_flowables,
    signature_block,
)
from .context import CertificateContext, MemberRef
from .fonts import register_fonts
from .layout import WIDTH, Output, QrCode, Styles, build_document, make_styles, para, roster_table
from .messages import Messages

QR_COLUMN = 60 * mm


def seat_key(seat: str) -> tuple[Any, ...]:
    """Sort seats as people count them: S2 before S10, 1排3号 before 1排12号."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", seat) if part)


def describe_choice(choice: Any, labels: Mapping[str, str], msgs: Messages) -> str:
    """A member's recorded choice in words; per-line choices are prefixed with the line's label."""
    if choice is None:
        return msgs("no_choice")
    if isinstance(choice, Mapping):
        return msgs("list.sep").join(
            f"{labels.get(str(k), str(k))}{msgs('pair.sep')}{describe_choice(v, labels, msgs)}"
            for k, v in choice.items()
        )
    if isinstance(choice, (list, tuple)):
        return msgs("list.sep").join(labels.get(str(c), msgs.value(c)) for c in choice) or msgs("no_choice")
    if isinstance(choice, str):
        return labels.get(choice, msgs.value(choice))
    return format_value("choice", choice, msgs)


#: the most characters of one member's choice in one annex row: a table row cannot break
#: across pages, and a named paper of 500 candidates is a page or more of text
ANNEX_CELL = 1200


def choice_pieces(choice: Any, labels: Mapping[str, str], msgs: Messages, limit: int = ANNEX_CELL) -> list[str]:
    """A member's choice in words, in pieces of at most about ``limit`` characters, split
    between the lines of a paper (one row each in the annex; the first carries the seat)."""
    if isinstance(choice, Mapping):
        parts = [
            f"{labels.get(str(k), str(k))}{msgs('pair.sep')}{describe_choice(v, labels, msgs)}"
            for k, v in choice.items()
        ]
    elif isinstance(choice, (list, tuple)) and choice:
        parts = [labels.get(str(c), msgs.value(c)) for c in choice]
    else:
        return [describe_choice(choice, labels, msgs)]
    pieces: list[list[str]] = [[]]
    size = 0
    for part in parts:
        if pieces[-1] and size + len(part) > limit:
            pieces.append([])
            size = 0
        pieces[-1].append(part)
        size += len(part) + len(msgs("list.sep"))
    return [msgs("list.sep").join(piece) for piece in pieces]


def annex_rows(
    members: Sequence[MemberRef], choices: Mapping[str, Any], labels: Mapping[str, str], msgs: Messages
) -> list[tuple[str, str, str]]:
    """(seat, name, choice) for every member given plus anyone who voted but was not listed, by
    seat; a long choice goes on as further rows with the seat and name left empty."""
    by_id = {m.id: m for m in members}
    listed = list(members) + [MemberRef(mid, mid, "") for mid in choices if mid not in by_id]
    listed.sort(key=lambda m: (seat_key(m.seat), m.name))
    rows: list[tuple[str, str, str]] = []
    for m in listed:
        first, *more = choice_pieces(choices.get(m.id), labels, msgs)
        rows.append((m.seat or "—", m.name, first))
        rows.extend(("", "", piece) for piece in more)
    return rows


def reference_text(ctx: CertificateContext, msgs: Messages) -> str:
    """Footer text tying every sheet to this certificate."""
    ref = f"{ctx.meeting.title} · {ctx.ballot.ballot_id}#{ctx.ballot.run}"
    if ctx.ballot.voided:  # every sheet of a voided run's certificate says so
        ref = f"{msgs('void.stamp')} · {ref}"
    if ctx.ballot.log is not None:
        ref += f" · {ctx.ballot.log.seq}/{ctx.ballot.log.digest[:12]}"
    return ref


def certificate_title(ctx: CertificateContext, msgs: Messages) -> str:
    """表决结果单, or 表决结果单（作废） for a voided run's re-issued certificate."""
    return msgs("void.title") if ctx.ballot.voided else msgs("certificate.title")


def _audit_and_qr(ctx: CertificateContext, msgs: Messages, styles: Styles) -> Flowable:
    left = audit_flowables(ctx.ballot, msgs, styles)
    if not ctx.qr_payload:
        return KeepTogether(left) if left else Spacer(1, 1)
    right = [QrCode(ctx.qr_payload), para(msgs("qr.caption"), styles.small)]
    table = Table([[left or "", right]], colWidths=[WIDTH - QR_COLUMN, QR_COLUMN], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def certificate_flowables(ctx: CertificateContext, msgs: Messages, styles: Styles) -> list[Flowable]:
    ballot = ctx.ballot
    if ballot.secret and ballot.choices:
        raise ValueError(f"ballot {ballot.ballot_id} is secret: its choices must never be printed")
    story: list[Flowable] = header(ctx.meeting, certificate_title(ctx, msgs), styles)
    if ballot.voided:
        story.append(para(msgs("void.stamp"), styles.verdict))
    story.append(kv_table(meeting_rows(ctx.meeting, msgs) + ballot_rows(ballot, msgs, ctx.timezone), styles))
    story.extend(result_flowables(ballot, msgs, styles))
    story.append(Spacer(1, 4 * mm))
    story.append(KeepTogether([_audit_and_qr(ctx, msgs, styles), Spacer(1, 6 * mm), signature_block(msgs, styles)]))
    if not ballot.secret and ballot.choices is not None:
        labels = {
            str(line.get("id")): str(line.get("label", line.get("id")))
            for line in (ballot.result or {}).get("lines", [])
            if isinstance(line, Mapping)
        }
        rows = annex_rows(ctx.members, ballot.choices, labels, msgs)
        title = msgs("titled", title=msgs("annex.title"), name=ballot.title)
        story.append(PageBreak())
        story.append(roster_table(title, [msgs("seat"), msgs("name"), msgs("choice")], rows, styles))
    return story


def render_certificate(ctx: CertificateContext, out: Output, language: str = "zh-CN") -> int:
    """Write the certificate PDF to a path or binary file; returns the number of pages.

    Raises FontNotFoundError when no CJK font is installed, ValueError for a secret
    ballot that comes with choices or for an unknown language.
    """
    msgs = Messages(language)
    styles = make_styles(register_fonts(require_cjk=language == "zh-CN" or has_cjk(*strings(ctx))), msgs)
    story = certificate_flowables(ctx, msgs, styles)
    title = msgs("titled", title=certificate_title(ctx, msgs), name=ctx.ballot.title)
    return build_document(out, story, styles, msgs, reference_text(ctx, msgs), title, ctx.qr_payload or "")
