"""The floor in the sitting record: each speech with its length and overrun, and the totals."""

from __future__ import annotations

import subprocess
from pathlib import Path

from server.paper.certificates import MeetingInfo, MemberRef, RecordContext, SpeechRecord, render_sitting_record

T0 = 1795000000.0


def test_the_record_lists_speeches_overruns_and_totals(tmp_path: Path) -> None:
    speeches = [
        SpeechRecord("审议条例草案", "王建国", "1", "甲组", "normal", T0, 125.0, 300),
        SpeechRecord("审议条例草案", "李秀英", "2", "乙组", "point_of_order", T0 + 130, 75.4, 60),
        SpeechRecord("专题询问", "王建国", "1", "甲组", "reply", T0 + 400, 30.0, None),
    ]
    ctx = RecordContext(
        MeetingInfo("s1", "常委会第二十三次会议"),
        [MemberRef("m1", "王建国", "1"), MemberRef("m2", "李秀英", "2")],
        {"m1": "present", "m2": "present"},
        speeches=speeches,
        timezone="Asia/Shanghai",
    )
    pdf = tmp_path / "record.pdf"
    render_sitting_record(ctx, pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    assert "发言情况" in text
    assert "审议条例草案（2人次）" in text and "专题询问（1人次）" in text
    assert "2分05秒" in text and "程序性发言" in text
    assert "1分15秒（超时0分15秒）" in text
    assert "发言时间合计（按人员）" in text and "2分35秒" in text  # 王建国: 125 + 30 s
    assert "发言时间合计（按组别）" in text
