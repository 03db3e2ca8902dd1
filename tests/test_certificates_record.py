"""The sitting record: who came, every ballot run, and the key that certificates verify against."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.paper.certificates import (
    BallotRecord,
    LogPosition,
    MeetingInfo,
    MemberRef,
    RecordContext,
    public_key_fingerprint,
    render_sitting_record,
    sign_payload,
    verify_payload,
)

NAMES = ["王建国", "李秀英", "张志强", "刘海燕", "陈丽华", "杨明辉", "黄晓红", "赵国庆", "吴玉兰", "周德胜"]
RULE = {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0}


def motion(ballot_id: str, title: str, counts: dict[str, int], verdict: str) -> dict[str, Any]:
    voted = sum(counts.values())
    return {
        "kind": "motion",
        "seated": 10,
        "present": 8,
        "voted": voted,
        "not_voted": 8 - voted,
        "invalid": 0,
        "rule": RULE,
        "lines": [
            {"id": ballot_id, "label": title, "counts": counts, "verdict": verdict, "base_value": 10, "needed": 6}
        ],
        "verdict": verdict,
    }


def record(key: Ed25519PrivateKey) -> RecordContext:
    members = [MemberRef(f"m{i + 1}", name, f"{i + 1}") for i, name in enumerate(NAMES)]
    attendance = {m.id: "present" for m in members[:8]}
    attendance["m9"] = "leave"  # m10 missing from the map: absent
    t0 = 1795000000.0
    ballots = [
        BallotRecord(
            "reg1",
            "物业管理条例（草案）",
            "motion",
            False,
            motion("reg1", "物业管理条例（草案）", {"for": 7, "against": 1, "abstain": 0}, "passed"),
            item_title="审议条例草案",
            opened_at=t0,
            closed_at=t0 + 60,
            log=LogPosition(40, "aa" * 32),
        ),
        BallotRecord(
            "reg2",
            "生态环境保护条例（草案）",
            "motion",
            False,
            None,
            item_title="审议条例草案",
            run=1,
            opened_at=t0 + 100,
            closed_at=t0 + 130,
            log=LogPosition(55, "bb" * 32),
            voided=True,
        ),
        BallotRecord(
            "reg2",
            "生态环境保护条例（草案）",
            "motion",
            False,
            motion("reg2", "生态环境保护条例（草案）", {"for": 5, "against": 2, "abstain": 1}, "failed"),
            item_title="审议条例草案",
            run=2,
            opened_at=t0 + 200,
            closed_at=t0 + 260,
            log=LogPosition(70, "cc" * 32),
        ),
        BallotRecord(
            "secret1",
            "无记名表决",
            "motion",
            True,
            motion("secret1", "无记名表决", {"for": 6, "against": 1, "abstain": 1}, "passed"),
            item_title="审议条例草案",
            opened_at=t0 + 300,
            closed_at=t0 + 360,
            log=LogPosition(88, "dd" * 32),
            urn_digest="ee" * 32,
        ),
    ]
    return RecordContext(
        MeetingInfo("2026-23", "常委会第二十三次会议", body="某市人大常委会", date="2026-11-25"),
        members,
        attendance,
        ballots,
        key.public_key(),
        LogPosition(91, "ff" * 32),
        generated_at=t0 + 400,
        timezone="Asia/Shanghai",
    )


def text_of(pdf: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], check=True, capture_output=True).stdout.decode()


def test_record_lists_attendance_every_run_and_the_signing_key(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pdf = tmp_path / "record.pdf"
    render_sitting_record(record(key), pdf, "zh-CN")
    text = text_of(pdf)
    flat = " ".join(text.split())
    assert "会议记录" in flat and "某市人大常委会" in flat
    assert "出席（8人）" in flat and "请假（1人）" in flat and "未报到（1人）" in flat
    leave = flat.index("请假（1人）")
    absent = flat.index("未报到（1人）")
    assert leave < flat.index("吴玉兰", leave) < absent < flat.index("周德胜", absent)
    for snippet in (
        "物业管理条例（草案）",
        "本轮表决已作废",
        "第2次（重新表决）",
        "表决结果：未通过",
        "表决结果：通过",
        "ee" * 32,
        "ff" * 32,
        "主持人（签字）",
        "工作人员（签字）",
    ):
        assert snippet in flat, snippet
    assert public_key_fingerprint(key) in flat
    assert flat.count("表决结果：") == 3  # the voided run shows no result


def test_key_printed_on_the_record_verifies_certificates(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pdf = tmp_path / "record.pdf"
    render_sitting_record(record(key), pdf, "en")
    text = text_of(pdf, "-layout")  # plain mode would join a line ending in "-" to the next
    pem = re.search(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", text, re.S)
    assert pem is not None
    printed = "\n".join(line.strip() for line in pem.group(0).splitlines() if line.strip()) + "\n"
    assert verify_payload(printed, sign_payload(key, {"v": 1, "b": "reg1"}))["b"] == "reg1"
    flat = " ".join(text.split())
    assert "Sitting record" in flat and "On leave (1)" in flat and "Result: Not passed" in flat
