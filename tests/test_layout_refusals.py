"""A seat map's problems as the clerk reads them when an agenda file is refused, compared
whole (key path and message), and the positions a valid map gives, to their two places
(server/core/layout.py; docs/agendas.md, "layout").

tests/test_layout.py checks that each kind of problem names its key; these pin the whole
list an agenda author reads, so a message changed, a problem said twice or one dropped
(a later row or arc no longer checked) fails."""

from __future__ import annotations

from typing import Any

import pytest

from server.core.agenda import agenda_from_dict
from server.core.layout import Layout, Rostrum
from tests.test_layout import problems, with_layout

SEATS = ["S001", "S002", "S003", "S004", "S005"]  # the five seats of agenda_data(5)


refused = problems  # tests/test_layout.py's: the problems of an agenda with this seat map


def placed(layout: Any) -> Layout:
    found = agenda_from_dict(with_layout(layout)).layout
    assert found is not None
    return found


def row(seats: Any = ("S001",), start: Any = (0, 0), end: Any = (10, 0), **more: Any) -> dict[str, Any]:
    return {"seats": list(seats), "from": list(start), "to": list(end), **more}


def arc(seats: Any = ("S001",), center: Any = (50, 50), radius: Any = 10, start: Any = 0, end: Any = 0) -> dict:
    return {"seats": list(seats), "center": list(center), "radius": radius, "from": start, "to": end}


REFUSALS = [
    # the table itself
    ("rows", ["layout: must be a table, not str"]),
    ({"row": []}, ["layout.row: unknown key (rows?)"]),
    ({"seat": []}, ["layout.seat: unknown key"]),
    # the rostrum: each missing key said once, in reading order
    (
        {"rostrum": 7},
        ["layout.rostrum: must be a table, not int", "layout.rostrum.x: is required", "layout.rostrum.y: is required"],
    ),
    ({"rostrum": {}}, ["layout.rostrum.x: is required", "layout.rostrum.y: is required"]),
    ({"rostrum": {"x": 1, "y": 1, "widht": 3}}, ["layout.rostrum.widht: unknown key (width?)"]),
    (
        {"rostrum": {"x": -1, "y": 101}},
        [
            "layout.rostrum.x: must lie between 0 and 100, not -1",
            "layout.rostrum.y: must lie between 0 and 100, not 101",
        ],
    ),
    (
        {"rostrum": {"x": 50.5, "y": 8, "width": 0, "height": 100.5}},
        [
            "layout.rostrum.width: must lie between 1 and 100, not 0",
            "layout.rostrum.height: must lie between 1 and 100, not 100.5",
        ],
    ),
    (
        {"rostrum": {"x": True, "y": "8", "width": float("inf"), "height": 0.12345}},
        [
            "layout.rostrum.x: must be a number",
            "layout.rostrum.y: must be a number",
            "layout.rostrum.width: must be a finite number",
            "layout.rostrum.height: may have at most 4 decimal places",
        ],
    ),
    ({"rostrum": {"x": 10**7, "y": 0}}, ["layout.rostrum.x: must lie between -1000000 and 1000000"]),
    ({"rostrum": {"x": 1, "y": 1, "label": 7}}, ["layout.rostrum.label: must be a string, not int"]),
    (
        {"rostrum": {"x": 1, "y": 1, "label": "台" * 101}},
        ["layout.rostrum.label: must be at most 100 characters, not 101"],
    ),
    (
        {"rostrum": {"x": 1, "y": 1, "label": "a\u202eb"}},
        ["layout.rostrum.label: must not contain the control character U+202E"],
    ),
    # rows: every missing key once, in the order a row is written
    ({"rows": "S001"}, ["layout.rows: must be a list, not str"]),
    (
        {"rows": [{}]},
        ["layout.rows[0].seats: is required", "layout.rows[0].from: is required", "layout.rows[0].to: is required"],
    ),
    (
        {"rows": [7]},
        [
            "layout.rows[0]: must be a table, not int",
            "layout.rows[0].seats: is required",
            "layout.rows[0].from: is required",
            "layout.rows[0].to: is required",
        ],
    ),
    ({"rows": [row(colour="red")]}, ["layout.rows[0].colour: unknown key"]),
    ({"rows": [{"seats": "S001", "from": [0, 0], "to": [1, 1]}]}, ["layout.rows[0].seats: must be a list, not str"]),
    (
        {"rows": [row(seats=["S001", "S009", 7, None])]},
        [
            "layout.rows[0].seats[1]: 'S009' is not a seat of the agenda's members",
            "layout.rows[0].seats[2]: 7 is not a seat of the agenda's members",
            "layout.rows[0].seats[3]: None is not a seat of the agenda's members",
        ],
    ),
    ({"rows": [row(seats=[*SEATS, "S001"])]}, ["layout.rows[0].seats: may hold at most 5 entries, not 6"]),
    (
        {"rows": [row(seats=["S001", "S002"]), row(seats=["S003", "S002"]), row(seats=["S001"])]},
        [
            "layout.rows[1].seats[1]: seat 'S002' is placed twice (also layout.rows[0].seats[1])",
            "layout.rows[2].seats[0]: seat 'S001' is placed twice (also layout.rows[0].seats[0])",
        ],
    ),
    (
        {"rows": [row(seats=["S001", "S001"])]},
        ["layout.rows[0].seats[1]: seat 'S001' is placed twice (also layout.rows[0].seats[0])"],
    ),
    (
        {"rows": [row(start=(0,), end=(1, 2, 3))]},
        [
            "layout.rows[0].from: must be a point [x, y]",
            "layout.rows[0].to: must be a point [x, y]",
        ],
    ),
    (
        {"rows": [{"seats": ["S001"], "from": "left", "to": {"x": 1, "y": 1}}]},
        [
            "layout.rows[0].from: must be a point [x, y]",
            "layout.rows[0].to: must be a point [x, y]",
        ],
    ),
    (
        {"rows": [row(start=(-0.5, 100.01), end=("1", None))]},
        [
            "layout.rows[0].from.x: must lie between 0 and 100, not -0.5",
            "layout.rows[0].from.y: must lie between 0 and 100, not 100.01",
            "layout.rows[0].to.x: must be a number",
            "layout.rows[0].to.y: must be a number",
        ],
    ),
    ({"rows": [row(start=(0, float("nan")))]}, ["layout.rows[0].from.y: must be a finite number"]),
    ({"rows": [row(seats=[]) for _ in range(201)]}, ["layout.rows: may hold at most 200 entries, not 201"]),
    # arcs
    (
        {"arcs": [{}]},
        [
            "layout.arcs[0].seats: is required",
            "layout.arcs[0].center: is required",
            "layout.arcs[0].radius: is required",
            "layout.arcs[0].from: is required",
            "layout.arcs[0].to: is required",
        ],
    ),
    (
        {"arcs": [arc(center=(-201, 201), radius=201, start=-361, end=361)]},
        [
            "layout.arcs[0].center.x: must lie between -200 and 200, not -201",
            "layout.arcs[0].center.y: must lie between -200 and 200, not 201",
            "layout.arcs[0].radius: must lie between 1 and 200, not 201",
            "layout.arcs[0].from: must lie between -360 and 360, not -361",
            "layout.arcs[0].to: must lie between -360 and 360, not 361",
        ],
    ),
    (
        {"arcs": [arc(radius=0.5, start=0.12345, end="90")]},
        [
            "layout.arcs[0].radius: must lie between 1 and 200, not 0.5",
            "layout.arcs[0].from: may have at most 4 decimal places",
            "layout.arcs[0].to: must be a number",
        ],
    ),
    ({"arcs": [arc(center="middle")]}, ["layout.arcs[0].center: must be a point [x, y]"]),
    (
        {"arcs": [arc(seats=["S001", "S002", "S003"], radius=90, start=0, end=180)]},
        [
            "layout.arcs[0]: places seat 'S001' at (140, 50), outside the 0–100 drawing",
            "layout.arcs[0]: places seat 'S002' at (50, 140), outside the 0–100 drawing",
            "layout.arcs[0]: places seat 'S003' at (-40, 50), outside the 0–100 drawing",
        ],
    ),
    (
        {"arcs": [arc(seats=["S001", "S002"], center=(50, 50), radius=60, start=-90, end=90)]},
        [
            "layout.arcs[0]: places seat 'S001' at (50, -10), outside the 0–100 drawing",
            "layout.arcs[0]: places seat 'S002' at (50, 110), outside the 0–100 drawing",
        ],
    ),
    ({"arcs": {"seats": ["S001"]}}, ["layout.arcs: must be a list, not dict"]),
    ({"arcs": [arc(seats=[]) for _ in range(201)]}, ["layout.arcs: may hold at most 200 entries, not 201"]),
    (
        {"arcs": [7, {**arc(), "radios": 3}]},
        [
            "layout.arcs[0]: must be a table, not int",
            "layout.arcs[0].seats: is required",
            "layout.arcs[0].center: is required",
            "layout.arcs[0].radius: is required",
            "layout.arcs[0].from: is required",
            "layout.arcs[0].to: is required",
            "layout.arcs[1].radios: unknown key (radius?)",
        ],
    ),
    # a broken arc does not stop the next one being checked, nor rows stop arcs
    (
        {
            "rows": [row(seats=["S002"])],
            "arcs": [arc(radius=None), arc(seats=["S002", "S003"], center=(0, 0), start=180, end=90)],
        },
        [
            "layout.arcs[0].radius: must be a number",
            "layout.arcs[1].seats[0]: seat 'S002' is placed twice (also layout.rows[0].seats[0])",
            "layout.arcs[1]: places seat 'S003' at (-7, 7), outside the 0–100 drawing",
        ],
    ),
    (
        {"arcs": [arc(seats=[]), arc(seats=["S001"], center=(200, 0), radius=10)]},
        [
            "layout.arcs[1]: places seat 'S001' at (210, 0), outside the 0–100 drawing",
        ],
    ),
]


@pytest.mark.parametrize(("layout", "expected"), REFUSALS)
def test_a_bad_seat_map_is_refused_with_every_problem_once_as_the_clerk_reads_it(
    layout: Any, expected: list[str]
) -> None:
    assert refused(layout) == expected


def test_a_seat_map_at_its_bounds_is_accepted_and_placed_to_two_places() -> None:
    layout = placed(
        {
            "rostrum": {"x": 0, "y": 100},
            "rows": [
                row(seats=["S001"], start=(10, 10), end=(30, 50)),  # one seat: halfway
                row(seats=["S002", "S003"], start=(0, 100), end=(100, 0)),
            ],
            "arcs": [  # one seat: the middle angle; seats on the drawing's edges are inside
                arc(seats=["S004"], center=(-200, 50), radius=200, start=-360, end=360),
                arc(seats=["S005"], center=(50, 200), radius=200, start=180, end=360),
            ],
        }
    )
    assert layout.rostrum == Rostrum(0.0, 100.0, 40.0, 8.0, "")
    assert dict(layout.seats) == {
        "S001": (20.0, 30.0),
        "S002": (0.0, 100.0),
        "S003": (100.0, 0.0),
        "S004": (0.0, 50.0),
        "S005": (50.0, 0.0),
    }
    edges = placed({"arcs": [arc(seats=["S001", "S002"], center=(50, 50), radius=50, start=0, end=90)]})
    assert dict(edges.seats) == {"S001": (100.0, 50.0), "S002": (50.0, 100.0)}


def test_positions_between_the_ends_are_rounded_to_two_places() -> None:
    layout = placed(
        {
            "rostrum": {"x": 100, "y": 0, "width": 1, "height": 100, "label": "主席台"},
            "rows": [row(seats=["S001", "S002", "S003", "S004"], start=(10, 20), end=(20, 30))],
            "arcs": [arc(seats=["S005"], center=(50, 10), radius=40, start=90, end=110)],  # at 100 degrees
        }
    )
    assert layout.view() == {
        "rostrum": {"x": 100.0, "y": 0.0, "width": 1.0, "height": 100.0, "label": "主席台"},
        "seats": {
            "S001": [10.0, 20.0],
            "S002": [13.33, 23.33],
            "S003": [16.67, 26.67],
            "S004": [20.0, 30.0],
            "S005": [43.05, 49.39],
        },
    }


def test_an_arc_spreads_its_seats_evenly_from_its_first_angle_to_its_last() -> None:
    layout = placed({"arcs": [arc(seats=["S003", "S001", "S002"], center=(50, 10), radius=40, start=180, end=0)]})
    assert layout.view() == {
        "rostrum": None,
        "seats": {"S003": [10.0, 10.0], "S001": [50.0, 50.0], "S002": [90.0, 10.0]},
    }
