"""`hemicycle export` writes what the record says: JSON for programs; CSV (with a BOM) and
XLSX in the meeting's language for the office."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import openpyxl

from server.core import commands as c
from server.live.sitting import Sitting
from server.paper import spreadsheet
from server.store.sql import SQLStore
from tests.support import make_agenda


async def run_sitting(db: Path) -> None:
    store = SQLStore(str(db))
    sitting = Sitting(store, make_agenda(5))
    await sitting.start()
    for i in range(1, 5):
        await sitting.execute(c.SetAttendance(f"m{i:02d}", "present"))
    await sitting.execute(c.SetAttendance("m05", "leave", by="clerk"))
    await sitting.execute(c.OpenBallot("reg1"))
    for i, choice in zip(range(1, 5), ["for", "for", "for", "against"]):
        await sitting.execute(c.Cast(f"m{i:02d}", "reg1", choice, f"k{i}"))
    await sitting.execute(c.CloseBallot("reg1"))
    await sitting.stop()
    store.close()


def hemicycle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hemicycle.cli", *args], capture_output=True, text=True, cwd=Path(__file__).parent.parent
    )


async def test_export_json_and_csv(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    await run_sitting(db)
    done = hemicycle("export", "--db", str(db), "--format", "json", "--out", str(tmp_path / "out.json"))
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    statuses = {a["member"]: a["status"] for a in data["attendance"]}
    assert statuses == {"m01": "present", "m02": "present", "m03": "present", "m04": "present", "m05": "leave"}
    (reg1,) = [b for b in data["ballots"] if b["ballot"] == "reg1"]
    assert reg1["result"]["lines"][0]["counts"] == {"for": 3, "against": 1, "abstain": 0}
    assert reg1["choices"] == {"m01": "for", "m02": "for", "m03": "for", "m04": "against"}
    assert reg1["result"]["verdict"] == "passed"  # 3 > 1/2 x 5 seated

    done = hemicycle("export", "--db", str(db), "--format", "csv", "--out", str(tmp_path / "csv"))
    assert done.returncode == 0, done.stderr
    raw = (tmp_path / "csv" / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(open(tmp_path / "csv" / "results.csv", encoding="utf-8-sig")))
    # headings and values in the meeting's language, as the certificates say them
    assert [(r["表决编号"], r["赞成（票）"], r["反对（票）"], r["结果"]) for r in rows] == [("reg1", "3", "1", "通过")]
    people = list(csv.DictReader(open(tmp_path / "csv" / "attendance.csv", encoding="utf-8-sig")))
    assert [p["状态"] for p in people] == ["出席"] * 4 + ["请假"] and people[0]["姓名"]

    done = hemicycle("export", "--db", str(db), "--format", "xlsx", "--out", str(tmp_path / "sitting.xlsx"))
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(tmp_path / "sitting.xlsx")
    assert book.sheetnames == ["出席情况", "表决情况"]
    sheet = book["表决情况"]
    heads = [c.value for c in sheet[1]]
    line = dict(zip(heads, [c.value for c in sheet[2]]))
    assert (line["表决编号"], line["赞成（票）"], line["反对（票）"], line["结果"]) == ("reg1", 3, 1, "通过")


def test_a_hostile_write_in_is_text_in_both_spreadsheets(tmp_path: Path) -> None:
    table = ("表决情况", ["项目"], [['=HYPERLINK("http://x")'], ["-1"], [7]])
    spreadsheet.write_csv(tmp_path / "r.csv", table)
    assert list(csv.reader(open(tmp_path / "r.csv", encoding="utf-8-sig"))) == [
        ["项目"],
        ['\'=HYPERLINK("http://x")'],
        ["'-1"],
        ["7"],
    ]
    spreadsheet.write_xlsx(tmp_path / "r.xlsx", [table])
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["表决情况"]
    assert [(c.value, c.data_type) for (c,) in sheet.iter_rows(min_row=2)] == [
        ('=HYPERLINK("http://x")', "s"),
        ("-1", "s"),
        (7, "n"),
    ]


def test_export_of_an_empty_database_says_so(tmp_path: Path) -> None:
    done = hemicycle("export", "--db", str(tmp_path / "empty.db"))
    assert done.returncode == 1 and "no sitting" in done.stderr
