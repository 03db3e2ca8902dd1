"""The lines table of certificates and the record: no column restates the verdict, and no
heading or value is broken inside a word, for every ballot of both sample agendas."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from server.core import commands as c
from server.live.agenda_file import load_agenda
from server.paper.certificates.blocks import format_value
from server.paper.certificates.fonts import register_fonts
from server.paper.certificates.layout import make_styles
from server.paper.certificates.lines import PAD, lines_table
from server.paper.certificates.messages import Messages
from simulators.choices import random_choice
from tests.test_meeting import Sim

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "agendas").glob("*.toml"))


def sample_results(path: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every ballot of a sample, voted at random by every member: ballot id -> (kind, result)."""
    agenda = load_agenda(path)
    s = Sim(agenda)
    rng = random.Random(3)
    voters = [m.id for m in agenda.voting_members]
    s.present(*voters)
    out = {}
    for bid, spec in agenda.ballots.items():
        view = {**spec.public()}
        s.do(c.OpenBallot(bid))
        for m in voters:
            s.cast(m, bid, random_choice(view, rng))
        out[bid] = (spec.kind, s.close(bid))
    return out


def cell_text(cell: Any) -> str:
    return cell.text if hasattr(cell, "text") else str(cell)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_no_heading_or_value_is_broken_and_no_column_restates_the_verdict(sample: Path) -> None:
    language = load_agenda(sample).meeting.language
    msgs = Messages(language)
    styles = make_styles(register_fonts(), msgs)
    font = styles.fonts.text
    for bid, (kind, result) in sample_results(sample).items():
        table, _ = lines_table(result, msgs, styles, lambda k, v: format_value(k, v, msgs))
        assert table is not None
        head = [cell_text(x) for x in table._cellvalues[0]]
        size = table._cellvalues[0][0].style.fontSize
        widths = table._colWidths
        for text, width in zip(head[1:], widths[1:]):
            unit = text if language == "zh-CN" else max(text.split(), key=len)
            assert stringWidth(unit, font, size) + PAD <= width + 0.01, (bid, text)  # a word stays whole
        for row in table._cellvalues[1:]:
            for cell, width in zip(row[1:], widths[1:]):
                assert stringWidth(cell_text(cell), font, styles.cell.fontSize) + PAD <= width + 0.01, (bid, cell)
        if kind in ("election", "selection"):
            restating = {msgs.field(k) for k in ("elected", "tied", "selected")}
            assert not restating & set(head), (bid, head)
            assert head.count(msgs.field("verdict")) == 1


def test_a_write_in_is_marked_beside_its_name() -> None:
    results = sample_results(ROOT / "agendas" / "standing-committee.zh.toml")
    msgs = Messages("zh-CN")
    styles = make_styles(register_fonts(), msgs)
    (result,) = [r for kind, r in results.values() if kind == "election"]
    written = [line["label"] for line in result["lines"] if line["write_in"]]
    assert written, "the random papers include write-ins"
    table, _ = lines_table(result, msgs, styles, lambda k, v: format_value(k, v, msgs))
    assert table is not None
    labels = [cell_text(row[0]) for row in table._cellvalues[1:]]
    assert [f"{name}（另选他人）" for name in written] == [x for x in labels if x.endswith("（另选他人）")]
    assert msgs.field("write_in") not in [cell_text(x) for x in table._cellvalues[0]]


def test_a_score_or_selection_certificate_states_its_own_rule_not_a_pass_mark(tmp_path: Path) -> None:
    from server.paper.certificates import BallotRecord, CertificateContext, MeetingInfo, render_certificate

    results = sample_results(ROOT / "agendas" / "standing-committee.zh.toml")
    for bid, (kind, result) in results.items():
        if kind not in ("score", "selection"):
            continue
        pdf = tmp_path / f"{bid}.pdf"
        record = BallotRecord(bid, bid, kind, True, result)
        render_certificate(CertificateContext(MeetingInfo("m", "会议"), record), pdf, "zh-CN")
        text = " ".join(
            subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode().split()
        )
        if kind == "score":
            assert "计分规则 计算每项的平均分和中位数" in text and "赞成票" not in text
        else:
            assert "通过规则 按得票多少确定入选，最多 3 名、至少获得 21 票" in text
