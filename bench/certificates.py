"""Time to render a tally certificate with a 3,000-name annex and a sitting record of 40
ballots (target <= 2 s each on a 2-core machine). A script, not a test.

Usage: .venv/bin/python bench/certificates.py [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time

from server.paper import certificates as cert


def result(n: int, f: int) -> dict:
    return {
        "kind": "motion",
        "seated": n,
        "present": n,
        "voted": n,
        "not_voted": 0,
        "invalid": 0,
        "rule": {"option": "for", "cmp": ">", "fraction": "1/2", "base": "seated", "constant": 0},
        "lines": [
            {
                "id": "b",
                "label": "物业管理条例（草案）",
                "counts": {"for": f, "against": n - f, "abstain": 0},
                "verdict": "passed" if f * 2 > n else "failed",
                "base_value": n,
                "needed": n // 2 + 1,
            }
        ],
        "verdict": "passed" if f * 2 > n else "failed",
    }


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # the first render loads the font: measured separately below
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), max(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    key = cert.load_or_create_key(__import__("pathlib").Path(os.environ.get("TMPDIR", "/tmp")) / "bench-cert-key.pem")
    meeting = cert.MeetingInfo("m", "临江市第十七届人民代表大会常务委员会第二十三次会议", body="临江市人大常委会")
    roster = [cert.MemberRef(f"m{i}", f"委员{i:04d}", f"S{i:04d}") for i in range(1, 3001)]
    res = result(3000, 1700)
    choices = {m.id: ("for" if i < 1700 else "against") for i, m in enumerate(roster)}
    fields = cert.certificate_fields(
        meeting_id="m", meeting_title=meeting.title, ballot_id="b", run=1, result=res, seq=9000, entry_digest="0" * 64
    )
    ctx = cert.CertificateContext(
        meeting,
        cert.BallotRecord(
            "b", "物业管理条例（草案）表决", "motion", False, res, log=cert.LogPosition(9000, "0" * 64), choices=choices
        ),
        roster,
        qr_payload=cert.sign_payload(key, fields),
    )
    t0 = time.perf_counter()
    cert.render_certificate(ctx, io.BytesIO())
    first = time.perf_counter() - t0
    annex = timed(lambda: cert.render_certificate(ctx, io.BytesIO()), args.runs)
    ballots = [
        cert.BallotRecord(
            f"b{i}",
            f"第{i}项表决",
            "motion",
            i % 2 == 0,
            result(41, 20 + i % 5),
            run=1,
            log=cert.LogPosition(100 + i, "0" * 64),
        )
        for i in range(40)
    ]
    small = roster[:41]
    record_ctx = cert.RecordContext(meeting, small, {m.id: "present" for m in small}, ballots, key.public_key())
    record = timed(lambda: cert.render_sitting_record(record_ctx, io.BytesIO()), args.runs)
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"first render in a process (font loading included): {first:.2f} s")
    print("| document | median | max | target |")
    print("|---|---:|---:|---:|")
    print(f"| certificate, 3,000-name annex | {annex[0]:.2f} s | {annex[1]:.2f} s | <= 2 s |")
    print(f"| sitting record, 40 ballots | {record[0]:.2f} s | {record[1]:.2f} s | <= 2 s |")


if __name__ == "__main__":
    main()
