"""The sitting record (会议记录): attendance, every ballot run, and the key to check them.

It is the paper the chair and clerk sign at the end of a sitting. Alongside the results
it prints the server's public signing key and its fingerprint: once this page is signed,
the key on it is the one every certificate's QR code must verify against, so a forged
certificate signed with some other key is caught even if the server itself was replaced.
Choices of named ballots are not repeated here; each certificate's annex carries them.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, PageBreak, Spacer

from ..fonts import has_cjk, strings
from .blocks import audit_flowables, ballot_rows, header, kv_table, result_flowables, signature_block
from .certificate import seat_key
from .context import ATTENDANCE, RecordContext
from .fonts import register_fonts
from .keys import public_key_fingerprint, public_key_pem
from .layout import Output, Styles, build_document, make_styles, para, roster_table
from .messages import Messages
from .speeches import floor_flowables


def _attendance(ctx: RecordContext, msgs: Messages, styles: Styles) -> tuple[Flowable, list[Flowable]]:
    """A one-line summary table and, per status, a roster of seat and name.

    Seated means what it means on every ballot and screen: the members with a vote.
    Observers (列席) are listed apart, with how many attended, and never counted as seated.
    """
    groups: dict[str, list[tuple[str, str]]] = {status: [] for status in ATTENDANCE}
    observers: list[tuple[str, str, str]] = []
    for m in sorted(ctx.members, key=lambda m: (seat_key(m.seat), m.name)):
        status = ctx.attendance.get(m.id, "absent")
        if not m.votes:
            observers.append((m.seat or "—", m.name, msgs(f"attendance.{status}")))
            continue
        groups.get(status, groups["absent"]).append((m.seat or "—", m.name))
    seated = sum(len(g) for g in groups.values())
    summary_rows = [(msgs("seated"), str(seated))] + [
        (msgs(f"attendance.{s}"), str(len(groups[s]))) for s in ATTENDANCE
    ]
    if observers:
        attended = sum(1 for m in ctx.members if not m.votes and ctx.attendance.get(m.id) == "present")
        summary_rows.append((msgs("observers"), msgs("observers.value", present=attended, n=len(observers))))
    summary = kv_table(summary_rows, styles)
    rosters: list[Flowable] = []
    for status in ATTENDANCE:
        title = msgs("attendance.count", label=msgs(f"attendance.{status}"), n=len(groups[status]))
        if groups[status]:
            rosters.append(roster_table(title, [msgs("seat"), msgs("name")], groups[status], styles, max_groups=5))
        else:
            rosters.append(para(f"{title}{msgs('pair.sep')}{msgs('attendance.none')}", styles.body))
        rosters.append(Spacer(1, 4 * mm))
    if observers:
        title = msgs("attendance.count", label=msgs("observers"), n=len(observers))
        rosters.append(roster_table(title, [msgs("seat"), msgs("name"), msgs("status")], observers, styles))
        rosters.append(Spacer(1, 4 * mm))
    return summary, rosters


def _ballots(ctx: RecordContext, msgs: Messages, styles: Styles) -> list[Flowable]:
    out: list[Flowable] = []
    for number, ballot in enumerate(ctx.ballots, 1):
        name = msgs("titled", title=ballot.item_title, name=ballot.title) if ballot.item_title else ballot.title
        title = msgs("numbered", n=number, title=name)
        block: list[Any] = [
            para(title, styles.heading),
            kv_table(ballot_rows(ballot, msgs, ctx.timezone, with_item=False), styles),
        ]
        block.extend(result_flowables(ballot, msgs, styles))
        block.extend(audit_flowables(ballot, msgs, styles))
        out.append(CondPageBreak(60 * mm))
        out.append(KeepTogether(block))
    return out


def _verification(ctx: RecordContext, msgs: Messages, styles: Styles) -> list[Flowable]:
    out: list[Flowable] = [para(msgs("key"), styles.heading)]
    if ctx.public_key is not None:
        out.append(para(msgs("key.fingerprint"), styles.small))
        out.append(para(public_key_fingerprint(ctx.public_key), styles.mono))
        out.append(Spacer(1, 2 * mm))
        out.append(para(msgs("key.public"), styles.small))
        for line in public_key_pem(ctx.public_key).strip().splitlines():
            out.append(para(line, styles.mono))
    if ctx.log_head is not None:
        out.append(Spacer(1, 2 * mm))
        out.append(
            para(
                f"{msgs('log.head')}{msgs('pair.sep')}{msgs('log.position.value', seq=ctx.log_head.seq)}", styles.small
            )
        )
        out.append(para(f"{ctx.log_head.seq}:{ctx.log_head.digest}", styles.mono))
    return out


def record_flowables(ctx: RecordContext, msgs: Messages, styles: Styles) -> list[Flowable]:
    story: list[Flowable] = header(ctx.meeting, msgs("record.title"), styles)
    rows = [(msgs("meeting"), ctx.meeting.title)]
    if ctx.meeting.date:
        rows.append((msgs("date"), ctx.meeting.date))
    if ctx.generated_at is not None:
        rows.append((msgs("generated"), msgs.datetime(ctx.generated_at, ctx.timezone)))
    story.append(kv_table(rows, styles))
    summary, rosters = _attendance(ctx, msgs, styles)
    story += [para(msgs("attendance"), styles.heading), summary]
    if ctx.ballots:
        story.append(para(msgs("ballots"), styles.heading))
        story.extend(_ballots(ctx, msgs, styles))
    story.extend(floor_flowables(ctx, msgs, styles))
    story.append(KeepTogether(_verification(ctx, msgs, styles)))
    story.append(PageBreak())
    story.append(para(msgs("attendance"), styles.heading))
    story.extend(rosters)
    story.append(CondPageBreak(40 * mm))
    story.append(signature_block(msgs, styles))
    return story


def render_sitting_record(ctx: RecordContext, out: Output, language: str = "zh-CN") -> int:
    """Write the sitting record PDF to a path or binary file; returns the number of pages."""
    msgs = Messages(language)
    styles = make_styles(register_fonts(require_cjk=language == "zh-CN" or has_cjk(*strings(ctx))), msgs)
    story = record_flowables(ctx, msgs, styles)
    reference = f"{ctx.meeting.title} · {msgs('record.title')}"
    if ctx.log_head is not None:
        reference += f" · {ctx.log_head.seq}/{ctx.log_head.digest[:12]}"
    title = msgs("titled", title=msgs("record.title"), name=ctx.meeting.title)
    return build_document(out, story, styles, msgs, reference, title, ctx.head_payload or "")
