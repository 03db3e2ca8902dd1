"""The hash chain and the auditor's recount: a sound record passes, any tampering is named."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import commands as c
from server.core import events as e
from server.core.audit import Problem as audit_problem
from server.core.audit import audit
from server.core.ballot_state import urn_digest
from server.core.chain import (
    GENESIS,
    LogEntry,
    canonical,
    entry_hash,
    first_bad_position,
    make_entry,
)
from server.live.fast_json import canonical_fast
from tests.fuzzing import examples
from tests.test_meeting import Sim, members, motion, sim


def rechain(entries: list[LogEntry]) -> list[LogEntry]:
    """What a forger with write access would do: recompute every hash after an edit."""
    out, prev = [], GENESIS
    for i, entry in enumerate(entries, start=1):
        fixed = LogEntry(i, entry.name, entry.body, prev, entry_hash(prev, i, entry.name, entry.body))
        out.append(fixed)
        prev = fixed.hash
    return out


@dataclasses.dataclass
class Record:
    entries: list[LogEntry]
    urn: list[tuple[str, int, str]]
    participation: list[tuple[str, int, str]]

    def audit(self) -> Any:
        return audit(self.entries, self.urn, self.participation)


def record_of(s: Sim) -> Record:
    urn = [(u.ballot, u.run, u.choice) for u in s.urn.values()]
    participation = [(ev.ballot, ev.run, ev.member) for _, ev in s.log if isinstance(ev, e.VoteCast) and ev.first]
    return Record(list(s.entries), urn, participation)


def a_sitting() -> Sim:
    """Named and secret ballots, a changed vote, a hold, a void and re-run."""
    s = sim(12, [motion("named"), motion("secret", secret=True), motion("rerun", secret=True)])
    s.present(*members(1, 10))
    s.do(c.OpenBallot("named"))
    s.vote("named", {"for": 6, "against": 3, "abstain": 1})
    s.cast("m10", "named", "for")
    s.close("named")
    s.do(c.AnnounceBallot("named"))
    s.do(c.OpenBallot("secret"))
    s.vote("secret", {"for": 4, "against": 5})
    s.cast("m02", "secret", "against")
    s.do(c.HoldBallot("secret"))
    s.do(c.ResumeBallot("secret"))
    s.close("secret")
    s.do(c.OpenBallot("rerun"))
    s.vote("rerun", {"for": 3})
    s.close("rerun")
    s.do(c.VoidBallot("rerun", reason="wrong draft shown"))
    s.do(c.OpenBallot("rerun"))
    s.vote("rerun", {"for": 7, "against": 1})
    s.close("rerun")
    return s


def seq_of(entries: list[LogEntry], name: str, **fields: Any) -> int:
    for entry in entries:
        body = json.loads(entry.body)
        if entry.name == name and all(body.get(k) == v for k, v in fields.items()):
            return entry.seq
    raise LookupError(name)


# -- the chain --------------------------------------------------------------------------------


def test_an_entry_hash_covers_its_predecessor_sequence_name_and_canonical_body() -> None:
    a = make_entry(GENESIS, 1, "x", {"b": 2, "a": "赞成"})
    assert a == make_entry(GENESIS, 1, "x", {"a": "赞成", "b": 2})  # key order does not matter
    assert a.body == '{"a":"赞成","b":2}' and a.prev == GENESIS
    others = {
        make_entry(GENESIS, 1, "x", {"a": "赞成", "b": 3}).hash,
        make_entry(GENESIS, 2, "x", {"b": 2, "a": "赞成"}).hash,
        make_entry(GENESIS, 1, "y", {"b": 2, "a": "赞成"}).hash,
        make_entry("1" * 64, 1, "x", {"b": 2, "a": "赞成"}).hash,
    }
    assert a.hash not in others and len(others) == 4


def test_a_sound_chain_has_no_bad_position() -> None:
    entries = record_of(a_sitting()).entries
    assert len(entries) > 40 and first_bad_position(entries) is None
    assert first_bad_position([]) is None


def edited(entries: list[LogEntry], pos: int) -> list[LogEntry]:
    out = list(entries)
    body = json.loads(out[pos - 1].body)
    body["at"] = body["at"] + 1
    out[pos - 1] = dataclasses.replace(out[pos - 1], body=canonical(body))
    return out


TAMPERING = {
    "edit": (lambda xs, k: edited(xs, k), "its content does not match its hash"),
    "delete": (lambda xs, k: xs[: k - 1] + xs[k:], "expected entry {k}, found entry {k1}"),
    "reorder": (lambda xs, k: xs[: k - 1] + [xs[k], xs[k - 1]] + xs[k + 1 :], "expected entry {k}, found entry {k1}"),
    "insert": (
        lambda xs, k: (
            xs[: k - 1]
            + [
                make_entry(
                    xs[k - 2].hash,
                    k,
                    "attendance.changed",
                    {"member": "m11", "status": "present", "by": "clerk", "at": 0},
                )
            ]
            + xs[k - 1 :]
        ),
        "expected entry {k}, found entry {k1}",
    ),
}
# a forged entry that fits its predecessor is only exposed by the entry after it
FIRST_BAD = {"edit": 0, "delete": 0, "reorder": 0, "insert": 1}


@pytest.mark.parametrize("how", sorted(TAMPERING))
@pytest.mark.parametrize("where", [2, 17, -1])
def test_tampering_is_named_at_the_first_bad_position(how: str, where: int) -> None:
    record = record_of(a_sitting())
    k = where if where > 0 else len(record.entries) - 1
    tamper, reason = TAMPERING[how]
    record.entries = tamper(record.entries, k)
    bad = k + FIRST_BAD[how]
    expected = reason.format(k=k + 1, k1=k) if how == "insert" else reason.format(k=k, k1=k + 1)
    assert first_bad_position(record.entries) == (bad, expected)
    report = record.audit()
    assert [(p.position, p.message) for p in report.problems] == [(bad, expected)]


def test_an_edit_rehashed_in_place_breaks_the_link_to_the_next_entry() -> None:
    entries = record_of(a_sitting()).entries
    k = 9
    bad = edited(entries, k)
    bad[k - 1] = make_entry(bad[k - 1].prev, k, bad[k - 1].name, json.loads(bad[k - 1].body))
    assert first_bad_position(bad) == (k + 1, "does not follow the entry before it")


def test_an_entry_renamed_and_rechained_is_caught_by_the_audit() -> None:
    """The name column is hashed with the body but read by nothing: a forger who renames an
    entry and rebuilds the chain fools the chain, never the audit."""
    record = record_of(a_sitting())
    k = seq_of(record.entries, "ballot.closed", ballot="named")
    record.entries[k - 1] = dataclasses.replace(record.entries[k - 1], name="ballot.voided")
    record.entries = rechain(record.entries)
    assert first_bad_position(record.entries) is None
    report = record.audit()
    assert [(p.position, p.message) for p in report.problems] == [
        (k, "the entry is named 'ballot.voided' but holds 'ballot.closed'")
    ]


# -- the recount --------------------------------------------------------------------------------


def test_a_sound_record_passes_the_audit_with_every_closed_run_recounted() -> None:
    record = record_of(a_sitting())
    report = record.audit()
    assert report.ok, [str(p) for p in report.problems]
    assert report.ballots_checked == 4  # named, secret, rerun run 1, rerun run 2
    assert report.entries == len(record.entries)


def test_a_changed_result_is_caught_by_the_recount_even_when_the_chain_is_rebuilt() -> None:
    record = record_of(a_sitting())
    k = seq_of(record.entries, "ballot.closed", ballot="named")
    body = json.loads(record.entries[k - 1].body)
    assert body["result"]["verdict"] == "passed"  # 7 for of 12 seated
    body["result"]["verdict"] = body["result"]["lines"][0]["verdict"] = "failed"
    body["result"]["lines"][0]["counts"].update({"for": 6, "against": 4})
    record.entries[k - 1] = dataclasses.replace(record.entries[k - 1], body=canonical(body))
    record.entries = rechain(record.entries)
    assert first_bad_position(record.entries) is None  # the forgery fooled the chain ...
    report = record.audit()
    assert [p.position for p in report.problems] == [k]  # ... not the recount
    assert "stored result differs from the recount" in report.problems[0].message


def secret_close(record: Record, ballot: str = "secret") -> int:
    return seq_of(record.entries, "ballot.closed", ballot=ballot)


def test_a_secret_choice_removed_from_the_urn_is_caught() -> None:
    record = record_of(a_sitting())
    (victim,) = [row for row in record.urn if row[0] == "secret" and row[2] == '"for"'][:1]
    record.urn.remove(victim)
    report = record.audit()
    k = secret_close(record)
    messages = [str(p) for p in report.problems]
    assert not report.ok and all(p.position == k for p in report.problems), messages
    assert any("8 secret choices for 9 voters" in m for m in messages), messages


def test_a_secret_choice_added_to_the_urn_is_caught() -> None:
    record = record_of(a_sitting())
    record.urn.append(("secret", 1, '"for"'))
    report = record.audit()
    messages = [str(p) for p in report.problems]
    assert any("10 secret choices for 9 voters" in m for m in messages), messages
    assert any("does not match the digest" in m for m in messages), messages


def test_a_secret_choice_swapped_for_another_is_caught_by_the_sealed_digest() -> None:
    record = record_of(a_sitting())
    i = next(i for i, row in enumerate(record.urn) if row[0] == "secret" and row[2] == '"against"')
    record.urn[i] = ("secret", 1, '"for"')  # same number of choices, one turned around
    report = record.audit()
    assert report.problems and {p.position for p in report.problems} == {secret_close(record)}
    assert any("does not match the digest" in p.message for p in report.problems)


def test_the_urn_of_a_voided_run_is_kept_apart_from_the_rerun() -> None:
    record = record_of(a_sitting())
    assert sorted(run for b, run, _ in record.urn if b == "rerun") == [1, 1, 1] + [2] * 8
    # run 1's three papers slipped into run 2's box
    record.urn = [(b, 2 if b == "rerun" else run, ch) for b, run, ch in record.urn]
    report = record.audit()
    first = seq_of(record.entries, "ballot.closed", ballot="rerun", run=1)
    second = seq_of(record.entries, "ballot.closed", ballot="rerun", run=2)
    assert {p.position for p in report.problems} == {first, second}
    messages = [p.message for p in report.problems]
    assert "ballot rerun run 1: 0 secret choices for 3 voters" in messages
    assert "ballot rerun run 2: 11 secret choices for 8 voters" in messages


def test_participation_rows_must_match_the_votes_in_the_log() -> None:
    record = record_of(a_sitting())
    record.participation.append(("named", 1, "m12"))  # someone who never voted
    report = record.audit()
    assert [str(p) for p in report.problems] == ["the participation table does not match the votes in the log"]


def test_a_log_must_begin_with_the_sitting_opening() -> None:
    record = record_of(a_sitting())
    report = audit(rechain(record.entries[1:]), record.urn, None)
    assert [(p.position, p.message) for p in report.problems] == [(1, "the log must begin with sitting.opened")]
    # the report says how much it was given and that it recounted nothing
    assert (report.entries, report.ballots_checked) == (len(record.entries) - 1, 0)


def test_a_rechained_entry_about_a_ballot_that_does_not_exist_is_reported_not_a_crash() -> None:
    from server.core.audit import audit
    from server.core.chain import GENESIS, make_entry
    from server.core.events import SittingOpened, VoteCast, to_data
    from tests.support import make_agenda

    agenda = make_agenda(3)
    first = make_entry(GENESIS, 1, "sitting.opened", to_data(SittingOpened(dict(agenda.source), 0.0)))
    forged = make_entry(first.hash, 2, "vote.cast", to_data(VoteCast("no-such-ballot", 1, "m01", "k", 1.0)))
    report = audit([first, forged], [])
    assert [(p.position, p.message) for p in report.problems] == [
        (2, "the event does not fit the sitting: KeyError: 'no-such-ballot'")
    ]
    assert (report.entries, report.ballots_checked) == (2, 0)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=examples(300), deadline=None)
@given(json_values)
def test_the_sittings_fast_log_encoder_writes_what_the_core_reads_back_as_the_same_value(value: Any) -> None:
    fast = canonical_fast(value)
    assert json.loads(fast) == json.loads(canonical(value))
    if not _has_float(value):  # floats may be spelled differently (1e-05, 0.00001); all else is the same text
        assert fast == canonical(value)


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def test_the_urn_digest_is_what_an_auditor_recomputes_from_the_documented_formula() -> None:
    """docs/architecture.md: SHA-256 of the choices' canonical JSON (sorted keys, no spaces,
    UTF-8), sorted, one per line. Written out here by hand, as an auditor outside the project
    would: the server's own function must agree (a mutation of its separator went unnoticed)."""
    choices = ["for", {"b": "against", "a": {"mark": "against", "write_in": "王五"}}, "abstain", "for"]
    spelled = sorted(json.dumps(c, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for c in choices)
    assert urn_digest(choices) == hashlib.sha256("\n".join(spelled).encode("utf-8")).hexdigest()
    assert urn_digest(list(reversed(choices))) == urn_digest(choices)  # no order survives


def test_the_canonical_spelling_refuses_what_json_cannot_say() -> None:
    """NaN and infinities have no JSON spelling: hashing "NaN" would chain an entry no other
    JSON reader can parse back (a mutation allowing it went unnoticed)."""
    from server.core.chain import canonical

    for bad in (float("nan"), float("inf"), {"x": float("-inf")}):
        with pytest.raises(ValueError):
            canonical(bad)
    assert canonical({"b": "王", "a": [1, 2.5]}) == '{"a":[1,2.5],"b":"王"}'


def test_the_audit_report_counts_what_it_read_and_names_each_problems_entry() -> None:
    """What an auditor reads: how many entries, how many ballots recounted, and each problem
    as "entry N: …" with the recount written out (Chinese as it is, not escaped)."""
    record = record_of(a_sitting())
    n = len(record.entries)
    record.entries = edited(record.entries, 5)
    report = record.audit()
    assert (report.entries, report.ballots_checked, [str(p) for p in report.problems]) == (
        n,
        0,
        ["entry 5: its content does not match its hash"],
    )
    record = record_of(a_sitting())
    k = seq_of(record.entries, "ballot.closed", ballot="secret")
    record.entries[k - 1] = dataclasses.replace(record.entries[k - 1], body=json.dumps({"name": "no.such"}))
    record.entries = rechain(record.entries)
    report = record.audit()
    assert (report.entries, report.ballots_checked) == (n, 1)  # the named ballot was recounted before
    assert [str(p) for p in report.problems] == [f"entry {k}: unreadable event: 'no.such'"]
    assert str(audit_problem(0, "the urn holds rows of no ballot")) == "the urn holds rows of no ballot"


def test_a_changed_result_is_reported_with_the_recount_in_full() -> None:
    s = sim(3, [motion("b1", title="表决")])
    s.present("m01")
    s.do(c.OpenBallot("b1"))
    s.cast("m01", "b1", "for")
    s.close("b1")
    record = record_of(s)
    k = seq_of(record.entries, "ballot.closed", ballot="b1")
    body = json.loads(record.entries[k - 1].body)
    recount = json.dumps(s.meeting.ballots["b1"].result, ensure_ascii=False)  # as the recount builds it
    body["result"]["lines"][0]["counts"]["for"] = 2
    record.entries[k - 1] = dataclasses.replace(record.entries[k - 1], body=canonical(body))
    record.entries = rechain(record.entries)
    (problem,) = record.audit().problems
    assert str(problem) == f"entry {k}: ballot b1 run 1: stored result differs from the recount {recount}"
    assert "表决" in str(problem)
