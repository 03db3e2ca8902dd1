"""The floor in the sitting record: every speech per item in the order given (who, which
group, what kind, when, how long, any overrun), then speaking time per member and per group.

Lengths are the record's own (``speaker.ended``'s seconds, from the receive times of the
grant and the end), so the paper, the console's totals and the wall agree to the second.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from .context import RecordContext
from .layout import Styles, para, roster_table
from .messages import Messages


def duration(seconds: float, msgs: Messages) -> str:
    whole = round(seconds)
    return msgs("floor.time", m=whole // 60, s=whole % 60)


def floor_flowables(ctx: RecordContext, msgs: Messages, styles: Styles) -> list[Flowable]:
    if not ctx.speeches:
        return []
    out: list[Flowable] = [CondPageBreak(50 * mm), para(msgs("floor"), styles.heading)]
    by_item: dict[str, list[tuple[str, ...]]] = {}
    members: dict[tuple[str, str, str], list[float]] = {}
    groups: dict[str, list[float]] = {}
    for s in ctx.speeches:
        length = duration(s.seconds, msgs)
        if s.limit and s.seconds > s.limit:
            length = msgs("floor.overrun", time=length, over=duration(s.seconds - s.limit, msgs))
        rows = by_item.setdefault(s.item_title, [])
        kind = msgs(f"floor.kind.{s.kind}")
        rows.append((str(len(rows) + 1), s.name, s.group or "—", kind, msgs.datetime(s.start, ctx.timezone), length))
        members.setdefault((s.seat, s.name, s.group), []).append(s.seconds)
        if s.group:
            groups.setdefault(s.group, []).append(s.seconds)
    headers = [msgs("floor.no"), msgs("name"), msgs("floor.group"), msgs("floor.kind")]
    headers += [msgs("floor.start"), msgs("floor.duration")]
    for title, rows in by_item.items():
        out.append(roster_table(msgs("floor.item", title=title, n=len(rows)), headers, rows, styles, max_groups=1))
        out.append(Spacer(1, 4 * mm))
    member_rows = [
        (seat or "—", name, group or "—", str(len(times)), duration(sum(times), msgs))
        for (seat, name, group), times in sorted(members.items(), key=lambda kv: -sum(kv[1]))
    ]
    out.append(
        roster_table(
            msgs("floor.totals.members"),
            [msgs("seat"), msgs("name"), msgs("floor.group"), msgs("floor.speeches"), msgs("floor.total")],
            member_rows,
            styles,
            max_groups=2,
        )
    )
    if groups:
        out.append(Spacer(1, 4 * mm))
        group_rows = [
            (group, str(len(times)), duration(sum(times), msgs))
            for group, times in sorted(groups.items(), key=lambda kv: -sum(kv[1]))
        ]
        out.append(
            roster_table(
                msgs("floor.totals.groups"),
                [msgs("floor.group"), msgs("floor.speeches"), msgs("floor.total")],
                group_rows,
                styles,
                max_groups=2,
            )
        )
    return out
