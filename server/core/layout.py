"""The room's layout (optional ``[layout]`` of an agenda): where each seat is, and the rostrum.

Screens draw the chamber as it is — rows and arcs of seats facing a rostrum — instead of a
grid, so the clerk finds "the member in the third row on the left" at a glance. Positions
are computed here, once, from a few numbers per row or arc, in a drawing 100 units wide
and 100 high (x to the right, y downwards; angles in degrees, 0 pointing right and 90
down). Every number is bounded like the rest of the agenda; a seat is placed at most once
and must be an agenda seat. Seats the layout leaves out are drawn as a grid beside it, and
an agenda without a layout keeps the grid.

    [layout]
    rostrum = { x = 50, y = 6, width = 40, label = "主席台" }
    [[layout.rows]]            # seats evenly spaced on a straight line
    seats = ["S001", "S002", "S003"]
    from = [20, 20]
    to = [80, 20]
    [[layout.arcs]]            # seats evenly spaced on an arc of a circle
    seats = ["S004", "S005", "S006", "S007"]
    center = [50, 0]
    radius = 60
    from = 150
    to = 30
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .bounds import Checker, number_problem, shown, text_problem

SIZE = 100  # the drawing is SIZE x SIZE units
MAX_RADIUS = 200  # an arc's centre may lie outside the drawing (a shallow arc)
MAX_GROUPS = 200  # rows and arcs, each
PLACES = 2  # decimal places kept for a position

_LAYOUT_KEYS = {"rostrum", "rows", "arcs"}
_ROSTRUM_KEYS = {"x", "y", "width", "height", "label"}
_ROW_KEYS = {"seats", "from", "to"}
_ARC_KEYS = {"seats", "center", "radius", "from", "to"}


@dataclass(frozen=True)
class Rostrum:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Layout:
    rostrum: Rostrum | None
    seats: Mapping[str, tuple[float, float]]  # seat -> (x, y), centre of the seat

    def view(self) -> dict[str, Any]:
        """As screens receive it (the snapshot's ``layout``)."""
        r = self.rostrum
        return {
            "rostrum": None
            if r is None
            else {"x": r.x, "y": r.y, "width": r.width, "height": r.height, "label": r.label},
            "seats": {seat: [x, y] for seat, (x, y) in self.seats.items()},
        }


def _number(c: Checker, data: Mapping[str, Any], key: str, path: str, low: float, high: float) -> float | None:
    if key not in data:
        c.fail(f"{path}.{key}", "is required")
        return None
    value = data[key]
    problem = number_problem(value)
    if problem is None and not low <= value <= high:
        problem = f"must lie between {low} and {high}, not {shown(value)}"
    if problem:
        c.fail(f"{path}.{key}", problem)
        return None
    return float(value)


def _point(
    c: Checker, data: Mapping[str, Any], key: str, path: str, low: float, high: float
) -> tuple[float, float] | None:
    value = data.get(key)
    if key not in data:
        c.fail(f"{path}.{key}", "is required")
        return None
    if not isinstance(value, list) or len(value) != 2:
        c.fail(f"{path}.{key}", "must be a point [x, y]")
        return None
    x = _number(c, {"x": value[0]}, "x", f"{path}.{key}", low, high)
    y = _number(c, {"y": value[1]}, "y", f"{path}.{key}", low, high)
    return None if x is None or y is None else (x, y)


def _seats(
    c: Checker, data: Mapping[str, Any], path: str, known: Mapping[str, str], placed: dict[str, str]
) -> list[str]:
    value = c.sized(data, "seats", path, len(known))
    if "seats" not in data:
        c.fail(f"{path}.seats", "is required")
    out = []
    for i, seat in enumerate(value):
        where = f"{path}.seats[{i}]"
        if not isinstance(seat, str) or seat not in known:
            c.fail(where, f"{shown(seat)} is not a seat of the agenda's members")
        elif seat in placed:
            c.fail(where, f"seat {shown(seat)} is placed twice (also {placed[seat]})")
        else:
            placed[seat] = where
            out.append(seat)
    return out


def _spread(n: int, a: float, b: float) -> list[float]:
    """n values evenly from a to b (one seat: the middle)."""
    return [(a + b) / 2] if n == 1 else [a + (b - a) * i / (n - 1) for i in range(n)]


def layout_from_dict(c: Checker, raw: Any, seats: Mapping[str, str]) -> Layout | None:
    """Validate ``[layout]`` against the agenda's seats (seat -> the member's key path);
    problems go to ``c``. None when the agenda has no layout or it has problems."""
    if raw is None:
        return None
    before = len(c.problems)
    data = c.table(raw, "layout", _LAYOUT_KEYS)
    rostrum = None
    if "rostrum" in data:
        # required keys are said by _number, _point and _seats, once each, in reading order
        r = c.table(data["rostrum"], "layout.rostrum", _ROSTRUM_KEYS)
        label = c.optional_text(r, "label", "layout.rostrum")
        x, y = _number(c, r, "x", "layout.rostrum", 0, SIZE), _number(c, r, "y", "layout.rostrum", 0, SIZE)
        width = _number(c, {"width": 40, **r}, "width", "layout.rostrum", 1, SIZE)
        height = _number(c, {"height": 8, **r}, "height", "layout.rostrum", 1, SIZE)
        if None not in (x, y, width, height) and not text_problem(label, 100):
            rostrum = Rostrum(x or 0, y or 0, width or 0, height or 0, label)
    placed: dict[str, str] = {}
    positions: dict[str, tuple[float, float]] = {}
    for i, raw_row in enumerate(c.sized(data, "rows", "layout", MAX_GROUPS)):
        path = f"layout.rows[{i}]"
        row = c.table(raw_row, path, _ROW_KEYS)
        names = _seats(c, row, path, seats, placed)
        start, end = _point(c, row, "from", path, 0, SIZE), _point(c, row, "to", path, 0, SIZE)
        if names and start and end:
            xs, ys = _spread(len(names), start[0], end[0]), _spread(len(names), start[1], end[1])
            positions.update({s: (round(x, PLACES), round(y, PLACES)) for s, x, y in zip(names, xs, ys)})
    for i, raw_arc in enumerate(c.sized(data, "arcs", "layout", MAX_GROUPS)):
        path = f"layout.arcs[{i}]"
        arc = c.table(raw_arc, path, _ARC_KEYS)
        names = _seats(c, arc, path, seats, placed)
        center = _point(c, arc, "center", path, -MAX_RADIUS, MAX_RADIUS)
        radius = _number(c, arc, "radius", path, 1, MAX_RADIUS)
        a, b = _number(c, arc, "from", path, -360, 360), _number(c, arc, "to", path, -360, 360)
        if not (names and center and radius is not None and a is not None and b is not None):
            continue
        for seat, angle in zip(names, _spread(len(names), a, b)):
            x = center[0] + radius * math.cos(math.radians(angle))
            y = center[1] + radius * math.sin(math.radians(angle))
            if not (0 <= x <= SIZE and 0 <= y <= SIZE):
                c.fail(path, f"places seat {shown(seat)} at ({x:.0f}, {y:.0f}), outside the 0–{SIZE} drawing")
                continue
            positions[seat] = (round(x, PLACES), round(y, PLACES))
    if len(c.problems) > before:
        return None
    return Layout(rostrum, positions)
