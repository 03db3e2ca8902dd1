"""The core, fuzzed directly (fast): whatever a client sends, the resolver and the meeting
either refuse it with a documented code or accept it; and whatever is accepted can be
shown to every role, tallied, chained into the log, replayed, and put on a certificate."""

from __future__ import annotations

import itertools
import json
from typing import Any

import orjson
from hypothesis import event, given
from hypothesis import strategies as st

from server.core import commands as c
from server.core import events as e
from server.core.agenda import agenda_from_dict
from server.core.chain import canonical
from server.core.errors import AgendaError, CommandError
from server.core.meeting import Meeting
from server.core.views import snapshot, visible_event
from server.edge.credentials import Identity
from server.edge.protocol import Resolver, decode
from server.live.issuing import ballot_record, certificate_file_name, payload_for
from tests import fuzzing as f

CORE = f.fuzz_settings(150)
CODES = f.documented_codes()
IDENTITIES = {
    "clerk": Identity("clerk"),
    "seat": Identity("seat", member="m01", seat="S001"),
    "device": Identity("device"),
    "display": Identity("display"),
}


def fresh_meeting() -> Meeting:
    meeting = Meeting(agenda_from_dict(f.fuzz_agenda_data()))
    meeting.apply(Meeting.opening_events(meeting.agenda, 1000.0)[0], 1)
    for mid in f.MEMBER_IDS[:8]:
        meeting.apply(e.AttendanceChanged(mid, "present", "clerk", 1000.0), meeting.seq + 1)
    return meeting


def encodable(value: Any) -> None:
    """What the log (canonical: no NaN), the wire (orjson: 64-bit integers) and the audit need."""
    canonical(value)
    orjson.dumps(value)


def shown_to_everyone(meeting: Meeting) -> None:
    for role in ("clerk", "seat", "display", "device"):
        encodable(snapshot(meeting, role, ["m01"]))


def run(meeting: Meeting, command: c.Command, now: float) -> list[e.Event]:
    """Decide and apply like the sitting; a refusal must carry a documented code."""
    draws = itertools.count()
    try:
        decision = meeting.decide(command, now, lambda: f"{next(draws):032x}")
    except CommandError as exc:
        assert exc.code in CODES and exc.code != "internal", exc
        assert exc.message and len(exc.message) < 8_000, len(exc.message)  # an answer never outgrows a question
        return []
    for ev in decision.events:
        if ev.LOGGED:
            encodable(e.to_data(ev))
        meeting.apply(ev, meeting.seq + 1 if ev.LOGGED else None)
        for role in ("clerk", "seat", "display", "device"):
            data = visible_event(ev, role, ["m01"], meeting)
            if data is not None:
                encodable(data)
    return decision.events


@CORE
@given(spec=f.ballot_specs(), data=st.data())
def test_any_ballot_spec_is_refused_with_a_code_or_works_all_the_way_to_paper(spec: Any, data: st.DataObject) -> None:
    meeting = fresh_meeting()
    created = run(meeting, c.CreateBallot("item1", spec), 1001.0)
    event("accepted" if created else "refused")
    if not created:
        return
    ballot = spec["id"]
    shown_to_everyone(meeting)
    run(meeting, c.OpenBallot(ballot), 1002.0)
    for i, mid in enumerate(f.MEMBER_IDS[:8]):
        run(meeting, c.Cast(mid, ballot, data.draw(f.choices), f"k{i}"), 1003.0)
    shown_to_everyone(meeting)
    closed = run(meeting, c.CloseBallot(ballot), 1004.0)
    assert closed, "an open ballot must close"
    shown_to_everyone(meeting)
    run(meeting, c.CreateFurtherRound(ballot), 1005.0)
    # restart: a fresh meeting folded from the same events reaches the same state
    replayed = Meeting.from_opening(Meeting.opening_events(meeting.agenda, 1000.0)[0])
    assert replayed.agenda.ballots.keys() == Meeting(meeting.agenda).agenda.ballots.keys()
    # paper: the certificate's record, signed payload and file name
    run_ = meeting.ballots[ballot]
    record = ballot_record(meeting, run_, meeting.seq, "0" * 64)
    assert record.result is not None
    payload_for(meeting, _key(), run_, meeting.seq, "0" * 64)
    assert certificate_file_name(ballot, run_.run).endswith(".pdf")


_KEYS: list[Any] = []


def _key() -> Any:
    if not _KEYS:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        _KEYS.append(Ed25519PrivateKey.generate())
    return _KEYS[0]


@f.fuzz_settings(100)
@given(data=st.data())
def test_any_message_of_any_role_becomes_a_coded_refusal_or_a_decision(data: st.DataObject) -> None:
    meeting = fresh_meeting()
    resolvers = {role: Resolver(identity, meeting.agenda) for role, identity in IDENTITIES.items()}
    for _ in range(data.draw(st.integers(1, 12))):
        role, frame = data.draw(f.exchanges())
        kind, payload = f.world_of(meeting).resolve(frame)
        if kind != "json":
            continue  # frames that are not JSON objects are the edge's (tests/test_fuzz_edge.py)
        try:
            msg = decode(json.dumps(payload))
            if msg["type"] == "ping":
                continue
            command = resolvers[role].command(msg)
        except CommandError as exc:
            assert exc.code in CODES and exc.code != "internal", exc
            event(f"{role}: {exc.code}")
            continue
        event(f"{role}: {'accepted' if run(meeting, command, 1001.0) else 'refused or nothing to do'}")
    shown_to_everyone(meeting)


def mutated_agenda(data: st.DataObject) -> Any:
    """A valid agenda with one ballot replaced by a fuzzed one, or one value anywhere broken."""
    agenda = f.fuzz_agenda_data()
    where = data.draw(st.sampled_from(["ballot", "member", "meeting", "item", "document"]))
    if where == "ballot":
        agenda["items"][0]["ballots"][0] = data.draw(f.ballot_specs())
    elif where == "member":
        key = data.draw(st.sampled_from(["id", "name", "seat", "group", "role", "votes", "card", "extra"]))
        agenda["members"][0][key] = data.draw(f.json_values | f.hostile_texts)
    elif where == "meeting":
        key = data.draw(st.sampled_from(["title", "language", "date", "rule", "quorum", "body"]))
        agenda["meeting"][key] = data.draw(f.json_values | f.rule_tables | f.hostile_texts)
    elif where == "item":
        agenda["items"][1][data.draw(st.sampled_from(["id", "title", "ballots"]))] = data.draw(f.json_values)
    else:
        doc = {"id": data.draw(f.ids(["d1"])), "title": data.draw(f.names), "file": data.draw(f.names)}
        doc["audience"] = data.draw(f.maybe(st.sampled_from(["everyone", "members"]) | st.just(["m01", "zz"])))
        agenda["items"][1]["documents"] = [doc]
    return agenda


@CORE
@given(data=st.data())
def test_any_agenda_is_refused_naming_its_problems_or_opens_a_sitting_every_role_can_see(data: st.DataObject) -> None:
    raw = mutated_agenda(data)
    try:
        agenda = agenda_from_dict(raw)
    except AgendaError as exc:
        assert exc.problems and all(": " in p for p in exc.problems)
        return
    meeting = Meeting(agenda)
    opened = Meeting.opening_events(agenda, 1000.0)[0]
    encodable(e.to_data(opened))
    again = Meeting.from_opening(e.from_data(json.loads(canonical(e.to_data(opened)))))  # replay from the log
    assert again.agenda.ballots.keys() == agenda.ballots.keys()
    shown_to_everyone(meeting)
    for run_ in meeting.ballots.values():
        encodable(meeting.tally(run_))


WRONG = [None, 0, -1, True, 1.5, 2**64 - 1, 1e308, "", "x", "1e-5000", [], [None], {}, {"a": 1}, [[[[[]]]]]]


def test_every_key_of_every_kind_with_every_wrong_type_is_refused_with_a_code() -> None:
    """Systematic, beside the random search: each key a definition may hold, of each kind,
    set to each kind of wrong value, is refused (``invalid_ballot``) or, where the value
    happens to be acceptable, works (e.g. ``secret = true``); never anything else."""
    for kind in f.KIND_NAMES:
        base = _plain_spec(kind)
        for i, key in enumerate(sorted({*base, *f.KIND_PARAMS[kind], "rule", "countdown", "secret", "title", "id"})):
            for value in f.spread(WRONG, i):
                meeting = fresh_meeting()
                run(meeting, c.CreateBallot("item1", {**base, key: value}), 1001.0)
                shown_to_everyone(meeting)


def _plain_spec(kind: str) -> dict[str, Any]:
    entries = [
        {"id": "a", "name": "甲", "post": "p", "title": "t"},
        {"id": "b", "name": "乙", "post": "q", "title": "u"},
    ]
    params: dict[str, Any] = {
        "motion": {"options": ["for", "against"]},
        "appointment": {"nominees": [{k: e[k] for k in ("id", "name", "post")} for e in entries], "mode": "together"},
        "election": {"seats": 1, "candidates": [{k: e[k] for k in ("id", "name")} for e in entries]},
        "selection": {"seats": 1, "candidates": [{k: e[k] for k in ("id", "name")} for e in entries]},
        "evaluation": {"subjects": [{k: e[k] for k in ("id", "title")} for e in entries]},
        "score": {"subjects": [{"id": "s", "title": "t", "min": 0, "max": 10}], "trim": 0},
    }[kind]
    return {"id": "w", "title": "t", "kind": kind, **params}


def test_every_key_of_an_agenda_with_every_wrong_type_is_refused_naming_it() -> None:
    def places(data: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        doc = {"id": "d1", "title": "t", "file": "d.pdf"}
        data["items"][1]["documents"] = [doc]
        member, meeting, item = data["members"][0], data["meeting"], data["items"][1]
        return [
            *[(member, k) for k in ("id", "name", "seat", "group", "role", "votes", "card")],
            *[(meeting, k) for k in ("title", "language", "body", "date", "rule", "quorum")],
            *[(item, k) for k in ("id", "title", "ballots", "documents")],
            *[(doc, k) for k in ("id", "title", "file", "audience", "classification")],
        ]

    for index in range(len(places(f.fuzz_agenda_data()))):
        for value in f.spread(WRONG, index):
            data = f.fuzz_agenda_data()
            table, key = places(data)[index]
            table[key] = value
            try:
                agenda = agenda_from_dict(data)
            except AgendaError as exc:
                assert exc.problems
                continue
            encodable(e.to_data(Meeting.opening_events(agenda, 1000.0)[0]))
            shown_to_everyone(Meeting(agenda))
