"""Hostile input found by an attacker's run (issue 11): each refused with a code at the edge,
the record unchanged, the server's log free of tracebacks, every view still encodable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from server.core.agenda import agenda_from_dict
from server.core.chain import canonical
from server.core.errors import AgendaError
from server.core.meeting import Meeting
from server.core.views import snapshot
from server.live.issuing import certificate_file_name
from terminal_client import Client, ServerError
from tests.fixtures.documents import make_pdf
from tests.support import LiveServer, ServerLog, agenda_data, bearer, make_agenda, serving, start_server


async def refused(clerk: Client, spec: dict[str, Any]) -> ServerError:
    with pytest.raises(ServerError) as info:
        await clerk.command("create_ballot", item="item1", spec=spec)
    return info.value


async def test_a_fraction_with_a_huge_exponent_is_refused_and_hellos_and_restarts_still_work(tmp_path: Path) -> None:
    """Before: "1e-5000" was accepted and every later snapshot raised (so every hello was
    dropped, before and after a restart); "1e3000000" blocked the loop while it was built."""
    agenda = make_agenda(5)
    srv = await start_server(tmp_path, agenda, port=0)
    try:
        with ServerLog() as log:
            clerk = Client(srv.url, srv.creds["clerk"]["token"])
            await clerk.connect()
            before = srv.assembly.sitting.ledger.seq
            for fraction in ("1e-5000", "1e3000000", "1/0", "nan", "-1/2", "１/２"):
                err = await refused(clerk, {"id": "x", "title": "t", "rule": {"fraction": fraction}})
                assert err.code == "invalid_ballot" and "rule" in err.message
            assert srv.assembly.sitting.ledger.seq == before
            await clerk.command(
                "create_ballot", item="item1", spec={"id": "ok", "title": "t", "rule": {"fraction": "2/3"}}
            )
            await clerk.close()
        assert log.faults() == []
    finally:
        await srv.stop()  # also when an assertion fails: no server outlives its test
    port = int(srv.url.split(":")[2].split("/")[0])
    again = await start_server(tmp_path, agenda, db=srv.db, port=port)
    try:
        seat = Client(again.url, again.seat_token("S001"))
        welcome = await seat.connect()
        assert "ok" in [b["id"] for b in welcome["snapshot"]["ballots"]]
        await seat.close()
    finally:
        await again.stop()


@pytest.mark.parametrize("options", [None, 1, True, 1.5, "for", {"for": 1}, [["for"]]])
async def test_motion_options_of_the_wrong_type_are_refused_not_an_internal_error(
    live: LiveServer, options: Any
) -> None:
    with ServerLog() as log:
        clerk = Client(live.url, live.creds["clerk"]["token"])
        await clerk.connect()
        err = await refused(clerk, {"id": "m", "title": "t", "options": options})
        assert err.code == "invalid_ballot" and "options" in err.message
        await clerk.close()
    assert log.faults() == []


BAD_IDS = ["../../../escape-dir/owned", "a\r\nb", "x" * 300, "", " ", "a b", "a/b", "a:b", "-a", "表决", "a\x00"]


@pytest.mark.parametrize("ident", BAD_IDS)
async def test_an_id_outside_the_grammar_is_refused_wherever_it_appears(live: LiveServer, ident: str) -> None:
    clerk = Client(live.url, live.creds["clerk"]["token"])
    await clerk.connect()
    before = live.assembly.sitting.ledger.seq
    err = await refused(clerk, {"id": ident, "title": "t"})
    assert err.code == "invalid_ballot" and "ballot.id" in err.message
    candidates = [{"id": ident, "name": "甲"}, {"id": "b", "name": "乙"}]
    err = await refused(clerk, {"id": "e", "title": "t", "kind": "election", "seats": 1, "candidates": candidates})
    assert "candidates[0].id" in err.message
    assert live.assembly.sitting.ledger.seq == before
    assert not (live.assembly.issuer.dir.parent.parent / "escape-dir").exists()
    await clerk.close()


def test_agenda_files_follow_the_same_id_grammar() -> None:
    data = agenda_data(3)
    data["members"][0]["id"] = "../m1"
    data["members"][1]["seat"] = "A\n1"
    data["items"][0]["id"] = "x" * 65
    data["items"][0]["ballots"][0]["id"] = "a b"
    data["items"][0]["documents"] = [{"id": "d/1", "title": "t", "file": "d.pdf"}]
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    paths = [p.split(":")[0] for p in info.value.problems]
    for path in ("members[0].id", "members[1].seat", "items[0].id", "items[0].ballots[0].id"):
        assert path in paths
    assert "items[0].documents[0].id" in paths


async def test_the_longest_ids_get_their_certificate_further_round_and_download(tmp_path: Path) -> None:
    """Before: a 300-character id meant no certificate (the file name was too long), a CR/LF
    in an id broke the download's header. Now ids are bounded and file names derived."""
    longest = "e" * 60  # an election's id leaves room for "-r99"
    async with serving(tmp_path, make_agenda(3, ballots=[])) as srv:
        with ServerLog() as log:
            clerk = Client(srv.url, srv.creds["clerk"]["token"])
            await clerk.connect()
            seats = [Client(srv.url, srv.seat_token(f"S00{i}")) for i in (1, 2, 3)]
            for s in seats:
                await s.connect()
                await s.check_in()
            candidates = [{"id": "c" * 64, "name": "甲"}, {"id": "b", "name": "乙"}]
            spec = {"id": longest, "title": "补选" * 150, "kind": "election", "seats": 1, "candidates": candidates}
            assert (await refused(clerk, {**spec, "id": longest + "x"})).code == "invalid_ballot"
            await clerk.command("create_ballot", item="item1", spec=spec)
            await clerk.command("open_ballot", ballot=longest)
            papers = [{"b": "for"}, {"c" * 64: "for"}, {"b": "against"}]  # nobody has a majority of all
            await asyncio.gather(*(s.cast(longest, p) for s, p in zip(seats, papers)))
            await clerk.command("close_ballot", ballot=longest)
            await clerk.command("create_further_round", ballot=longest)
            created: dict[str, Any] = {"ballot": {"id": longest}}
            while created["ballot"]["id"] == longest:
                _, created = await clerk.next_event("ballot.created")
            assert created["ballot"]["id"] == longest + "-r2" and len(created["ballot"]["title"]) <= 300
            await srv.assembly.issuer.drain()
            async with httpx.AsyncClient(base_url=srv.http) as http:
                auth = bearer(srv.creds["clerk"]["token"])
                listed = (await http.get("/api/certificates", headers=auth)).json()["certificates"]
                assert [c["ballot"] for c in listed] == [longest]
                pdf = await http.get(listed[0]["url"], headers=auth)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            assert pdf.headers["content-disposition"] == f'inline; filename="{certificate_file_name(longest, 1)}"'
            written = srv.assembly.issuer.path_for(longest, 1)
            assert written.parent == tmp_path / "certificates" and written.read_bytes() == pdf.content
            for c in (*seats, clerk):
                await c.close()
        assert log.faults() == []


@pytest.mark.parametrize("ident", [*BAD_IDS, "x" * 5000, "a" * 64, "A.b-c_d", "..", "\u202e"])
def test_certificate_file_names_are_derived_and_safe_for_any_id(ident: str) -> None:
    name = certificate_file_name(ident, 1)
    assert name.endswith("-r1.pdf") and len(name) <= 70
    assert all(ch.isascii() and (ch.isalnum() or ch in "_-.") for ch in name) and not name.startswith(".")
    assert certificate_file_name(ident + "!", 1) != name


async def test_a_page_width_that_is_not_ascii_digits_is_a_bad_width_not_a_server_error(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(3)) as srv:
        token = srv.creds["clerk"]["token"]
        async with httpx.AsyncClient(base_url=srv.http) as http:
            up = await http.post(
                "/api/documents",
                files={"file": ("a.pdf", make_pdf(1), "application/pdf")},
                data={"title": "草案", "item": "item1"},
                headers=bearer(token),
            )
            doc = up.json()["id"]
            with ServerLog() as log:
                for width in ("²", "٣", "1e3", "-5", "99999999999999999999", " 800"):
                    got = await http.get(
                        f"/api/documents/{doc}/pages/1", params={"width": width}, headers=bearer(token)
                    )
                    assert (got.status_code, got.json()["error"]) == (400, "bad_width"), width
            assert log.faults() == []


@pytest.mark.parametrize("after_hello", [False, True])
async def test_a_text_frame_that_is_not_utf8_closes_with_1007_without_a_traceback(
    live: LiveServer, after_hello: bool
) -> None:
    with ServerLog() as log:
        for _ in range(3):
            async with websockets.connect(live.url) as ws:
                if after_hello:
                    await ws.send(json.dumps({"type": "hello", "token": live.seat_token("S001")}))
                    await ws.recv()
                await ws.send(b'{"type": "ping", "x": "\xff\xfe"}', text=True)
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    assert log.faults() == []


EXTREMES: list[tuple[dict[str, Any], str]] = [
    ({"rule": {"constant": 2**70}}, "rule"),
    ({"rule": {"constant": -(2**63)}}, "rule"),
    ({"rule": {"fraction": 1e308}}, "rule"),
    ({"rule": {"option": "x" * 100}}, "rule"),
    ({"countdown": 10**30}, "countdown"),
    ({"title": "t" * 301}, "title"),
    ({"title": "a\r\nb"}, "title"),
    ({"title": "\u202eevil"}, "title"),
    ({"kind": "election", "seats": 2**64, "candidates": [{"id": "a", "name": "甲"}]}, "seats"),
    ({"kind": "election", "seats": 1, "round": 10**6, "candidates": [{"id": "a", "name": "甲"}]}, "round"),
    ({"kind": "election", "seats": 1, "candidates": [{"id": f"c{i}", "name": "x"} for i in range(501)]}, "candidates"),
    ({"kind": "election", "seats": 1, "candidates": [{"id": "a", "name": "甲" * 101}]}, "candidates[0].name"),
    ({"kind": "selection", "seats": 1, "minimum": 10**20, "candidates": [{"id": "a", "name": "甲"}]}, "minimum"),
    ({"kind": "score", "trim": 2**62, "subjects": [{"id": "s", "title": "t", "min": 0, "max": 10}]}, "trim"),
    ({"kind": "score", "subjects": [{"id": "s", "title": "t", "min": -1e308, "max": 10}]}, "subjects[0].min"),
    ({"kind": "score", "subjects": [{"id": "s", "title": "t", "min": 0, "max": 2**64}]}, "subjects[0].max"),
    (
        {"kind": "score", "subjects": [{"id": "s", "title": "t", "min": 0, "max": 1, "step": 1e-300}]},
        "subjects[0].step",
    ),
    (
        {"kind": "score", "subjects": [{"id": "s", "title": "t", "min": 0, "max": 1, "step": 0.00001}]},
        "subjects[0].step",
    ),
    ({"kind": "evaluation", "subjects": [{"id": "s", "title": "t"}], "verdicts": [{"verdict": "v"}] * 11}, "verdicts"),
    (
        {
            "kind": "evaluation",
            "subjects": [{"id": "s", "title": "t"}],
            "verdicts": [{"verdict": "ok", "grades": ["satisfied"], "constant": 2**80}, {"verdict": "no"}],
        },
        "verdicts[0]",
    ),
    ({"kind": "appointment", "mode": [[[[]]]] * 3, "nominees": [{"id": "n", "name": "甲", "post": "p"}]}, "mode"),
]


@pytest.mark.parametrize(("extra", "key"), EXTREMES)
def test_numbers_sizes_and_texts_beyond_their_bounds_are_refused_naming_the_key(
    extra: dict[str, Any], key: str
) -> None:
    data = agenda_data(3, ballots=[{"id": "b1", "title": "t", **extra}])
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    assert any(p.startswith(f"items[0].ballots[0].{key}") for p in info.value.problems), info.value.problems


def test_non_finite_and_oversized_numbers_in_an_agenda_file_are_refused(tmp_path: Path) -> None:
    from server.live.agenda_file import load_agenda
    from tests.support import write_agenda_toml

    path = write_agenda_toml(tmp_path / "a.toml", agenda_data(3, ballots=[{"id": "b1", "title": "t"}]))
    text = path.read_text(encoding="utf-8")
    for bad, key in [
        ("rule = { fraction = nan }", "rule"),
        ("rule = { fraction = inf }", "rule"),
        ("rule = { constant = 99999999999999999999999 }", "rule"),
        ("countdown = 99999999999999999999999", "countdown"),
        ('kind = "score"\nsubjects = [{ id = "s", title = "t", min = 0, max = inf }]', "subjects[0].max"),
    ]:
        (tmp_path / "b.toml").write_text(text.replace('title = "t"', f'title = "t"\n{bad}'), encoding="utf-8")
        with pytest.raises(AgendaError) as info:
            load_agenda(tmp_path / "b.toml")
        assert any(f"items[0].ballots[0].{key}" in p for p in info.value.problems), (bad, info.value.problems)


def test_the_largest_definitions_that_pass_still_encode_tally_show_and_print(tmp_path: Path) -> None:
    """Every bound at its limit at once: the views, the tally, the log's encoders and the
    printed certificate cope."""
    from server.core import commands as c
    from server.live import issuing
    from server.paper import certificates as cert
    from tests.fuzzing import valid_choice

    # 500 candidates, some with the longest ids and names (all of them at 100 characters would
    # print 100 pages: bench/certificates.py's business, not a test's)
    many = [
        {"id": f"c{i:03d}" + "x" * (60 if i % 50 else 0), "name": "名" * (100 if i % 50 == 0 else 3)}
        for i in range(500)
    ]
    ballots = [
        {"id": "e" * 60, "title": "选" * 300, "kind": "election", "seats": 500, "round": 99, "candidates": many,
         "secret": False, "live_counts": True, "rule": {"fraction": "999999/999999", "constant": -10_000, "cmp": ">="}},
        {"id": "s" * 64, "title": "t" * 300, "kind": "score", "trim": 10_000,
         "subjects": [{"id": "s", "title": "题" * 300, "min": -1_000_000, "max": 1_000_000, "step": 0.0001}]},
        {"id": "v", "title": "t", "kind": "selection", "seats": 1, "minimum": 10_000, "candidates": many[:2]},
    ]  # fmt: skip
    data = agenda_data(3, ballots=ballots)
    data["meeting"].update(title="会" * 300, body="体" * 100, term="届" * 100, session="次" * 100)
    meeting = Meeting(agenda_from_dict(data))
    for mid in ("m01", "m02", "m03"):
        meeting.apply(meeting.decide(c.SetAttendance(mid, "present", "clerk"), 1.0, str).events[0], meeting.seq + 1)
    key = cert.load_or_create_key(tmp_path / "key.pem")
    for ballot in [b["id"] for b in ballots]:
        meeting.apply(meeting.decide(c.OpenBallot(ballot), 2.0, str).events[0], meeting.seq + 1)
        view = meeting.ballots[ballot].spec.public()
        voters = ("m01",) if ballot == "e" * 60 else ("m01", "m02", "m03")  # one paper of 500 names: 35 pages
        for i, mid in enumerate(voters):
            draw = f"{i:032x}".format
            for ev in meeting.decide(c.Cast(mid, ballot, valid_choice(view, i), f"k{i}"), 3.0, draw).events:
                meeting.apply(ev, meeting.seq + 1 if ev.LOGGED else None)
        for role in ("clerk", "seat", "display", "device"):
            orjson.dumps(snapshot(meeting, role, ["m01"]))
            canonical(snapshot(meeting, role, ["m01"]))
        closed = meeting.decide(c.CloseBallot(ballot), 4.0, str).events[0]
        canonical(closed.result)
        orjson.dumps(closed.result)
        meeting.apply(closed, meeting.seq + 1)
        run = meeting.ballots[ballot]
        ctx = cert.CertificateContext(
            issuing.meeting_info(meeting),
            issuing.ballot_record(meeting, run, meeting.seq, "0" * 64),
            issuing.annex_members(meeting, run),
            qr_payload=issuing.payload_for(meeting, key, run, meeting.seq, "0" * 64),
        )
        path = tmp_path / issuing.certificate_file_name(ballot, run.run)
        assert issuing.render_certificate_file(ctx, str(path), "zh-CN").startswith(b"%PDF")


def test_a_tie_with_a_person_written_in_goes_to_a_further_round_whose_ids_follow_the_grammar() -> None:
    """``write_in:<name>`` (a colon, the name's spaces) is a result line, not an id: the
    further round gives the person an id of the grammar."""
    from server.core import commands as c

    spec = {"id": "vc", "title": "补选", "kind": "election", "seats": 1, "secret": False, "live_counts": True,
            "candidates": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
            "rule": {"fraction": "0", "cmp": ">="}}  # fmt: skip
    meeting = Meeting(agenda_from_dict(agenda_data(4, ballots=[spec])))
    for mid in ("m01", "m02", "m03", "m04"):
        meeting.apply(meeting.decide(c.SetAttendance(mid, "present", "clerk"), 1.0, str).events[0], meeting.seq + 1)
    meeting.apply(meeting.decide(c.OpenBallot("vc"), 2.0, str).events[0], meeting.seq + 1)
    papers = [{"a": "for"}, {"a": "for"}, {"a": {"mark": "against", "write_in": "Wang Wu"}}, {"b": {"mark": "against", "write_in": "Wang Wu"}}]  # fmt: skip
    for i, paper in enumerate(papers):
        for ev in meeting.decide(c.Cast(f"m0{i + 1}", "vc", paper, f"k{i}"), 3.0, str).events:
            meeting.apply(ev, meeting.seq + 1)
    meeting.apply(meeting.decide(c.CloseBallot("vc"), 4.0, str).events[0], meeting.seq + 1)
    assert meeting.ballots["vc"].result["further_round"]["reason"] == "tie_at_last_seat"
    created = meeting.decide(c.CreateFurtherRound("vc"), 5.0, str).events[0]
    ids = [cand["id"] for cand in created.spec["candidates"]]
    assert ids[0] == "a" and ids[1] == "w1" and created.spec["candidates"][1]["name"] == "Wang Wu"


def test_an_appointment_split_by_nominee_keeps_its_generated_ids_within_the_grammar() -> None:
    nominees = [{"id": "n" * 30, "name": "甲", "post": "局长"}]
    data = agenda_data(3, ballots=[{"id": "a" * 40, "title": "任免", "kind": "appointment", "nominees": nominees}])
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data)
    assert any(p.startswith("items[0].ballots[0].id:") and "not an id" in p for p in info.value.problems)
    data["items"][0]["ballots"][0]["id"] = "a" * 33  # 33 + "-" + 30 = 64: fits
    assert list(agenda_from_dict(data).ballots) == ["a" * 33 + "-" + "n" * 30]
