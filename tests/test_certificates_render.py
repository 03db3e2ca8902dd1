"""Tally certificates as a person sees them: text on the page, a QR code a phone can read."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.paper.certificates import (
    BallotRecord,
    CertificateContext,
    LogPosition,
    MeetingInfo,
    MemberRef,
    certificate_fields,
    counts_from_fields,
    render_certificate,
    sign_payload,
    verify_payload,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "建国秀英志强海燕丽华明辉晓红庆玉兰德胜淑芬永刚春梅伟东桂文杰雪立新"
MEETING = MeetingInfo(
    "2026-23",
    "常委会第二十三次会议",
    body="某市人大常委会",
    term="第十六届",
    session="第二十三次会议",
    date="2026-11-25",
)
DIGEST = "3f9a" * 16
OPENED = 1795000000.0  # 2026-11-18 19:06:40 in Asia/Shanghai


def unique_names(n: int) -> list[str]:
    """n distinct three-character names; equal length, so none is part of another."""
    out = []
    for i in range(n):
        a, b = divmod(i // len(SURNAMES), len(GIVEN))
        out.append(SURNAMES[i % len(SURNAMES)] + GIVEN[a % len(GIVEN)] + GIVEN[b])
    assert len(set(out)) == n
    return out


def members(n: int) -> list[MemberRef]:
    return [MemberRef(f"m{i + 1}", name, f"S{i + 1:04d}") for i, name in enumerate(unique_names(n))]


def motion_result(for_: int = 21, against: int = 5, abstain: int = 3) -> dict[str, Any]:
    return {
        "kind": "motion",
        "seated": 41,
        "present": 30,
        "voted": for_ + against + abstain,
        "not_voted": 30 - (for_ + against + abstain),
        "invalid": 0,
        "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0},
        "lines": [
            {
                "id": "reg1",
                "label": "物业管理条例（草案）",
                "counts": {"for": for_, "against": against, "abstain": abstain},
                "verdict": "passed" if for_ > 20 else "failed",
                "base_value": 41,
                "needed": 21,
            }
        ],
        "verdict": "passed" if for_ > 20 else "failed",
    }


def context(
    result: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    ballot_id: str = "reg1",
    kind: str = "motion",
    title: str = "物业管理条例（草案）",
    secret: bool = False,
    choices: dict[str, Any] | None = None,
    roster: list[MemberRef] | None = None,
    urn: str | None = None,
) -> CertificateContext:
    fields = certificate_fields(
        meeting_id=MEETING.id,
        meeting_title=MEETING.title,
        ballot_id=ballot_id,
        run=1,
        result=result,
        seq=812,
        entry_digest=DIGEST,
    )
    ballot = BallotRecord(
        ballot_id,
        title,
        kind,
        secret,
        result,
        item_title="审议条例草案",
        run=1,
        opened_at=OPENED,
        closed_at=OPENED + 75,
        log=LogPosition(812, DIGEST),
        urn_digest=urn,
        choices=choices,
    )
    return CertificateContext(MEETING, ballot, roster or [], sign_payload(key, fields), timezone="Asia/Shanghai")


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout.decode()
    return text.split("\f")[:-1]


def flat(text: str) -> str:
    return " ".join(text.split())


def read_qr(path: Path, tmp: Path) -> str:
    prefix = tmp / f"{path.stem}-page"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(prefix)], check=True)
    png = next(tmp.glob(f"{path.stem}-page*.png"))
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True)
    return out.stdout.decode().strip()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_motion_certificate_prints_every_number_and_a_verifiable_qr(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    roster = members(30)
    choices = {m.id: ("for", "against", "abstain")[i % 3] for i, m in enumerate(roster[:29])}
    pdf = tmp_path / "cert.pdf"
    render_certificate(context(motion_result(), key, choices=choices, roster=roster), pdf, "zh-CN")
    pages = pdf_pages(pdf)
    first = flat(pages[0])
    for text in (
        "某市人大常委会",
        "表决结果单",
        "常委会第二十三次会议",
        "审议条例草案",
        "物业管理条例（草案）",
        "表决（记名）",
        "赞成票超过全体组成人员的二分之一",
        "表决结果：通过",
        "主持人（签字）",
        "工作人员（签字）",
        "2026年11月18日 19:06:40",
        "2026年11月18日 19:07:55",
        "第 812 条",
        DIGEST,
    ):
        assert text in first, text
    assert "应到 实到 已表决 未按 无效 41 30 29 1 0" in first
    assert "赞成 反对 弃权 结果 计算基数 通过所需票数" in first
    assert "21 5 3 通过 41 21" in first
    # the annex: every member with their choice, the one who did not vote marked 未按
    annex = flat(" ".join(pages[1:]))
    assert f"S0001 {roster[0].name} 赞成" in annex
    assert f"S0030 {roster[29].name} 未按" in annex
    fields = verify_payload(key.public_key(), read_qr(pdf, tmp_path))
    assert counts_from_fields(fields) == {"reg1": {"for": 21, "against": 5, "abstain": 3}}
    assert (fields["b"], fields["s"], fields["h"], fields["d"]) == ("reg1", 812, DIGEST, "passed")


def test_generic_results_print_each_line_and_its_kind_specific_fields(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    rule = {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0}
    appointment = {
        "kind": "appointment",
        "seated": 41,
        "present": 39,
        "voted": 39,
        "not_voted": 0,
        "invalid": 0,
        "rule": rule,
        "lines": [
            {
                "id": "n1",
                "label": "王建国",
                "post": "副市长",
                "action": "appoint",
                "counts": {"for": 35, "against": 2, "abstain": 2},
                "verdict": "passed",
            },
            {
                "id": "n2",
                "label": "李秀英",
                "post": "审计局局长",
                "action": "appoint",
                "counts": {"for": 18, "against": 15, "abstain": 6},
                "verdict": "failed",
            },
            {
                "id": "n3",
                "label": "张志强",
                "post": "财政局局长",
                "action": "remove",
                "counts": {"for": 30, "against": 5, "abstain": 4},
                "verdict": "passed",
            },
        ],
        "verdict": None,
    }
    election = {
        "kind": "election",
        "seated": 41,
        "present": 40,
        "voted": 40,
        "not_voted": 0,
        "invalid": 2,
        "rule": rule,
        "lines": [
            {
                "id": "c1",
                "label": "刘海燕",
                "counts": {"for": 33, "against": 3, "abstain": 2},
                "elected": True,
                "rank": 1,
            },
            {
                "id": "c2",
                "label": "陈丽华",
                "counts": {"for": 22, "against": 10, "abstain": 6},
                "elected": False,
                "rank": 2,
                "further_round": True,
                "quota_share": 0.55,
            },
            {"id": "w1", "label": "杨明辉", "counts": {"for": 3}, "elected": False, "rank": 3},
        ],
        "verdict": "further_round",
    }
    for name, result, expected in (
        (
            "appt",
            appointment,
            [
                "人事任免（记名）",
                "职务 任免 赞成 反对 弃权 结果",
                "王建国 副市长 任命 35 2 2 通过",
                "李秀英 审计局局长 任命 18 15 6 未通过",
                "张志强 财政局局长 免职 30 5 4 通过",
            ],
        ),
        (
            "elect",
            election,
            [
                "选举（无记名）",
                "赞成 反对 弃权 是否当选 名次",
                "刘海燕 33 3 2 当选 1",
                "陈丽华 22 10 6 未当选 2 是 0.55",
                "杨明辉 3 — — 未当选 3",
                "Quota share",
                "无效 41 40 40 0 2",
                "表决结果：需再次投票",
            ],
        ),
    ):
        pdf = tmp_path / f"{name}.pdf"
        secret = name == "elect"
        pages = render_certificate(
            context(
                result,
                key,
                ballot_id=name,
                kind=result["kind"],
                title=f"{name} ballot",
                secret=secret,
                urn="ab" * 32 if secret else None,
            ),
            pdf,
            "zh-CN",
        )
        assert pages == 1
        text = flat(pdf_pages(pdf)[0])
        for snippet in expected:
            assert snippet in text, (name, snippet)
        fields = verify_payload(key.public_key(), read_qr(pdf, tmp_path))
        assert counts_from_fields(fields) == {line["id"]: line["counts"] for line in result["lines"]}


def test_secret_ballot_shows_counts_and_urn_digest_and_refuses_choices(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    urn = "5e" * 32
    pdf = tmp_path / "secret.pdf"
    render_certificate(context(motion_result(), key, secret=True, urn=urn, roster=members(30)), pdf)
    pages = pdf_pages(pdf)
    text = flat(pages[0])
    assert len(pages) == 1
    assert urn in text and "无记名" in text and "21 5 3 通过" in text
    with pytest.raises(ValueError, match="secret"):
        render_certificate(
            context(motion_result(), key, secret=True, choices={"m1": "for"}, roster=members(3)), io.BytesIO()
        )


def test_english_certificate(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    pdf = tmp_path / "en.pdf"
    render_certificate(context(motion_result(20, 6, 3), key), pdf, "en")
    text = flat(pdf_pages(pdf)[0])
    for snippet in (
        "Tally certificate",
        "For votes more than 1/2 of all seated members",
        "Result: Not passed",
        "Seated Present Voted Not voted Invalid 41 30 29 1 0",
        "For Against Abstain Verdict",
        "20 6 3 Not passed",
        "Chair (signature)",
        "Clerk (signature)",
        "2026-11-18 19:06:40",
        "Page 1 of 1",
        "物业管理条例（草案）",
    ):
        assert snippet in text, snippet


def test_named_annex_of_3000_members_lists_each_once_on_pages_with_headers(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    roster = members(3000)
    choices = {m.id: ("for", "against", "abstain")[i % 3] for i, m in enumerate(roster)}
    result = motion_result()
    result.update(seated=3000, present=3000, voted=3000, not_voted=0)
    out = io.BytesIO()
    page_count = render_certificate(context(result, key, choices=choices, roster=roster), out)
    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(out.getvalue())
    pages = pdf_pages(pdf)
    assert page_count == len(pages) > 2
    text = "\n".join(pages)
    assert all(text.count(m.name) == 1 for m in roster)
    for number, page in enumerate(pages[1:], 2):
        assert "附件：记名表决情况" in page and "席位 姓名 表决情况" in flat(page)
        assert f"第{number}页/共{len(pages)}页" in "".join(page.split())
    # reading order follows the seats
    positions = [text.index(f"S{i:04d}") for i in (1, 2, 1500, 2999, 3000)]
    assert positions == sorted(positions)


def test_named_multi_line_ballot_annex_shows_each_members_choice_per_nominee(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    rule = {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0}
    lines = [
        {"id": f"n{i}", "label": name, "counts": {"for": 2, "against": 1, "abstain": 0}, "verdict": "passed"}
        for i, name in enumerate(("赵国庆", "吴玉兰", "Alexandra Montgomery-Smith"))
    ]
    result = {
        "kind": "appointment",
        "seated": 3,
        "present": 3,
        "voted": 3,
        "not_voted": 0,
        "invalid": 0,
        "rule": rule,
        "lines": lines,
        "verdict": None,
    }
    roster = members(3)
    choices = {
        roster[0].id: {"n0": "for", "n1": "against", "n2": "abstain"},
        roster[1].id: {"n0": "for", "n1": "for", "n2": "for"},
        "m999": {"n0": "against", "n1": "for", "n2": "for"},
    }  # voted but missing from the roster
    pdf = tmp_path / "appt.pdf"
    render_certificate(context(result, key, kind="appointment", choices=choices, roster=roster), pdf)
    annex = flat(" ".join(pdf_pages(pdf)[1:]))
    assert f"{roster[0].name} 赵国庆：赞成、吴玉兰：反对、Alexandra Montgomery-Smith：弃权" in annex
    assert f"{roster[2].name} 未按" in annex
    assert "m999 赵国庆：反对" in annex
