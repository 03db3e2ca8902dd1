"""The room's layout in an agenda (``[layout]``, server/core/layout.py): seats placed on rows
and arcs, a rostrum, every number bounded, every problem named with its key; the snapshot
hands the positions to the screens; both samples have one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.core.agenda import agenda_from_dict
from server.core.errors import AgendaError
from server.core.meeting import Meeting
from server.core.views import snapshot
from server.live.agenda_file import load_agenda
from tests.support import agenda_data

ROOT = Path(__file__).parent.parent


def with_layout(layout: Any, n: int = 5) -> dict[str, Any]:
    data = agenda_data(n)
    data["layout"] = layout
    return data


def problems(layout: Any) -> list[str]:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(with_layout(layout))
    return info.value.problems


def test_rows_and_arcs_place_seats_evenly_and_the_snapshot_carries_them() -> None:
    agenda = agenda_from_dict(
        with_layout(
            {
                "rostrum": {"x": 50, "y": 8, "label": "主席台"},
                "rows": [{"seats": ["S001", "S002", "S003"], "from": [10, 30], "to": [90, 30]}],
                "arcs": [{"seats": ["S004", "S005"], "center": [50, 0], "radius": 50, "from": 180, "to": 0}],
            }
        )
    )
    assert agenda.layout is not None
    assert dict(agenda.layout.seats) == {
        "S001": (10.0, 30.0),
        "S002": (50.0, 30.0),
        "S003": (90.0, 30.0),
        "S004": (0.0, 0.0),
        "S005": (100.0, 0.0),
    }
    view = snapshot(Meeting(agenda), "display")["layout"]
    assert view["rostrum"] == {"x": 50.0, "y": 8.0, "width": 40.0, "height": 8.0, "label": "主席台"}
    assert view["seats"]["S002"] == [50.0, 30.0]


def test_no_layout_means_the_grid() -> None:
    agenda = agenda_from_dict(agenda_data(3))
    assert agenda.layout is None and snapshot(Meeting(agenda), "clerk")["layout"] is None


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (
            {"rows": [{"seats": ["S001", "S009"], "from": [0, 0], "to": [9, 9]}]},
            "layout.rows[0].seats[1]: 'S009' is not a seat",
        ),
        (
            {
                "rows": [
                    {"seats": ["S001"], "from": [0, 0], "to": [1, 1]},
                    {"seats": ["S001"], "from": [0, 0], "to": [1, 1]},
                ]
            },
            "layout.rows[1].seats[0]: seat 'S001' is placed twice (also layout.rows[0].seats[0])",
        ),
        (
            {"rows": [{"seats": ["S001"], "from": [0, 101], "to": [1, 1]}]},
            "layout.rows[0].from.y: must lie between 0 and 100",
        ),
        (
            {"rows": [{"seats": ["S001"], "from": [0, float("nan")], "to": [1, 1]}]},
            "layout.rows[0].from.y: must be a finite number",
        ),
        ({"rows": [{"seats": ["S001"], "from": "left", "to": [1, 1]}]}, "layout.rows[0].from: must be a point [x, y]"),
        ({"rows": [{"seats": ["S001"], "from": [0, 0]}]}, "layout.rows[0].to: is required"),
        (
            {"arcs": [{"seats": ["S001", "S002"], "center": [50, 50], "radius": 90, "from": 0, "to": 180}]},
            "layout.arcs[0]: places seat 'S001' at (140, 50), outside the 0–100 drawing",
        ),
        (
            {"arcs": [{"seats": ["S001"], "center": [50, 50], "radius": 10, "from": 1e9, "to": 0}]},
            "layout.arcs[0].from",
        ),
        ({"rostrum": {"x": 50, "y": 8, "width": 0}}, "layout.rostrum.width: must lie between 1 and 100"),
        ({"rostrum": {"x": True, "y": 8}}, "layout.rostrum.x: must be a number"),
        (
            {"rows": [{"seats": ["S001"], "from": [0, 0], "to": [1, 1], "colour": "red"}]},
            "layout.rows[0].colour: unknown key",
        ),
        ({"seat": []}, "layout.seat: unknown key"),
        ("rows", "layout: must be a table"),
    ],
)
def test_a_bad_layout_is_refused_naming_the_key(layout: Any, expected: str) -> None:
    found = problems(layout)
    assert any(p.startswith(expected) for p in found), found


def test_both_samples_draw_every_seat() -> None:
    for name in ("standing-committee.zh.toml", "council.en.toml"):
        agenda = load_agenda(ROOT / "agendas" / name)
        assert agenda.layout is not None and agenda.layout.rostrum is not None
        assert set(agenda.layout.seats) == {m.seat for m in agenda.members}, name
        assert all(0 <= x <= 100 and 0 <= y <= 100 for x, y in agenda.layout.seats.values())
