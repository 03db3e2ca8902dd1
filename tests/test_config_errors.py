"""A mistyped agenda or keypad file is explained as its author reads it (issue 15, item 15):
in the meeting's language, with the line of the file, items counted from 1, and the known
key a typo most likely meant."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomlproblems

ROOT = Path(__file__).parent.parent

AGENDA = """\
[meeting]
title = "常委会第二十三次会议"
body = "某市人大常委会"
language = "{language}"
date = "2026-11-25"
rule = "majority_of_all"

[[members]]
id = "m01"
name = "王建国"
seat = "A01"

[[members]]
id = "m02"
nmae = "李秀英"
seat = "A02"

[[items]]
id = "i1"
title = "审议条例草案"

[[items.ballots]]
id = "b1"
title = "表决"

[[items]]
id = "i2"
title = "人事任免"

[[items.ballots]]
id = "b2"
title = "表决一"

[[items.ballots]]
id = "b3"
title = "表决二"
coutdown = 60
"""


def hemicycle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hemicycle.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_a_key_path_is_found_on_its_line_through_arrays_of_tables() -> None:
    text = AGENDA.format(language="zh-CN")
    assert tomlproblems.locate(text, "items[1].ballots[1].coutdown") == 37
    assert tomlproblems.locate(text, "items[1].ballots[0].title") == 32
    assert tomlproblems.locate(text, "members[1].nmae") == 15
    assert tomlproblems.locate(text, "items[1].ballots[1].missing") == 34  # the table it belongs in
    assert tomlproblems.locate(text, "meeting.rule") == 6


def test_a_chinese_agenda_is_refused_in_chinese_with_lines_and_items_from_one(tmp_path: Path) -> None:
    path = tmp_path / "agenda.toml"
    path.write_text(AGENDA.format(language="zh-CN"), encoding="utf-8")
    done = hemicycle("serve", "--agenda", str(path), "--db", str(tmp_path / "x.db"), "--data-dir", str(tmp_path))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[1] == "议程文件无法使用（行号、议题和表决项均从 1 开始计数）："
    assert "  第 15 行：members[2].nmae: 未知的键（是否应为 name？）" in lines
    assert "  第 13 行：members[2].name: 缺少此项（必填）" in lines
    assert "  第 37 行：items[2].ballots[2].coutdown: 未知的键（是否应为 countdown？）" in lines
    assert "Traceback" not in done.stderr


def test_an_english_agenda_is_refused_in_english(tmp_path: Path) -> None:
    path = tmp_path / "agenda.toml"
    path.write_text(AGENDA.format(language="en"), encoding="utf-8")
    done = hemicycle("serve", "--agenda", str(path), "--db", str(tmp_path / "x.db"), "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "  line 37: items[2].ballots[2].coutdown: unknown key (countdown?)" in done.stderr.splitlines()


def test_a_message_no_pattern_covers_is_kept_in_english_not_lost() -> None:
    said = tomlproblems.explain(["meeting.quorum: something new the checker says"], None, "zh-CN")
    assert said == ["meeting.quorum: something new the checker says"]


def test_a_keypad_file_is_refused_with_its_line_and_the_key_meant(tmp_path: Path) -> None:
    config = tmp_path / "keypads.toml"
    config.write_text(
        'token = "t"\nlanguage = "zh-CN"\n\n[[lines]]\nname = "L1"\nurl = "/dev/ttyUSB0"\nbuad = 57600\n',
        encoding="utf-8",
    )
    done = hemicycle("keypads", "--config", str(config), "--server", "ws://127.0.0.1:9/ws")
    assert done.returncode == 2, done.stderr
    assert "表决器配置文件无法使用（行号从 1 开始计数）：" in done.stderr
    assert "  第 7 行：lines[1].buad: 未知的键（是否应为 baud？）" in done.stderr.splitlines()
