"""The project's own fuzzing: hypothesis strategies for everything a client can send.

Shared by the fuzz tests (tests/test_fuzz_core.py, tests/test_fuzz_edge.py, run by
`make test`) and the nightly-size run (bench/fuzz.py). Strategies mix what is valid with
what an attacker sends: every message type of every role (docs/protocol.md), every clerk
command, every ballot spec of every kind, numeric extremes (64-bit edges, 1e308, "1e-5000"),
huge and odd ids (path traversal, CR/LF, 300 characters, other scripts), wrong types,
deep nesting, frames that are not JSON, not text or not UTF-8.

A *frame* is what goes on the wire: ``("json", dict)``, ``("text", str)`` (sent as is),
``("bytes", bytes)`` (a binary frame) or ``("badutf8", bytes)`` (a text frame whose
payload is not UTF-8).
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from server.core.bounds import ID_PATTERN
from tests.support import agenda_data, member_list

Frame = tuple[str, Any]


def examples(n: int) -> int:
    """``n`` examples, or fewer in a mutation run: ``HEMICYCLE_MUTATION_EXAMPLES`` (set by
    `make mutation` only, tests/conftest.py) caps every property test, because each of
    thousands of mutants runs them; `make mutation-confirm` re-runs the survivors with ``n``."""
    cap = os.environ.get("HEMICYCLE_MUTATION_EXAMPLES")
    return min(n, int(cap)) if cap else n


def spread(values: list[Any], salt: int) -> list[Any]:
    """All of ``values`` — or, in a mutation run (``HEMICYCLE_MUTATION_EXAMPLES``), every third,
    starting at ``salt``, so a systematic sweep over keys still meets every value across keys
    but each surviving mutant does not pay for the whole sweep; `make mutation-confirm`
    re-runs the survivors with all of them."""
    if not os.environ.get("HEMICYCLE_MUTATION_EXAMPLES"):
        return values
    return values[salt % 3 :: 3]


def fuzz_settings(n: int) -> settings:
    """The fixed profile of the fuzz tests in `make test`: the same ``n`` examples every run
    (derandomized, no example database), no deadline. ``HEMICYCLE_FUZZ_EXAMPLES=N`` runs N
    fresh random examples instead, for a deeper look by hand."""
    deep = os.environ.get("HEMICYCLE_FUZZ_EXAMPLES")
    return settings(
        max_examples=int(deep) if deep else examples(n),
        derandomize=not deep,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


MEMBERS = 12
SEATS = [m["seat"] for m in member_list(MEMBERS)]
MEMBER_IDS = [m["id"] for m in member_list(MEMBERS)]
ITEMS = ["item1", "item2"]

#: the fuzz sitting's ballots: one of every kind, and a timed one
BALLOTS: list[dict[str, Any]] = [
    {"id": "mo", "title": "动议", "certificate": False},
    {"id": "ms", "title": "无记名动议", "secret": True, "live_counts": False, "certificate": False},
    {"id": "mt", "title": "Timed", "countdown": 5, "certificate": False},
    {
        "id": "ap",
        "title": "任免",
        "kind": "appointment",
        "mode": "together",
        "certificate": False,
        "nominees": [{"id": "n1", "name": "甲", "post": "局长"}, {"id": "n2", "name": "乙", "post": "副局长"}],
    },
    {
        "id": "el",
        "title": "选举",
        "kind": "election",
        "seats": 1,
        "candidates": [{"id": "c1", "name": "孙立军"}, {"id": "c2", "name": "郑宏伟"}],
    },
    {
        "id": "se",
        "title": "评选",
        "kind": "selection",
        "seats": 2,
        "certificate": False,
        "candidates": [{"id": "c1", "name": "A"}, {"id": "c2", "name": "B"}, {"id": "c3", "name": "C"}],
    },
    {"id": "ev", "title": "测评", "kind": "evaluation", "certificate": False, "subjects": [{"id": "s1", "title": "x"}]},
    {
        "id": "sc",
        "title": "打分",
        "kind": "score",
        "trim": 1,
        "certificate": False,
        "subjects": [{"id": "s1", "title": "x", "min": 0, "max": 100}, {"id": "s2", "title": "y", "min": 1, "max": 5}],
    },
]
BALLOT_IDS = [b["id"] for b in BALLOTS]
KIND_NAMES = ["motion", "appointment", "election", "selection", "evaluation", "score"]


def fuzz_agenda_data() -> dict[str, Any]:
    """The sitting every fuzz run starts from: 12 members, two items, one ballot of each kind."""
    data = agenda_data(MEMBERS, ballots=[dict(b) for b in BALLOTS])
    data["items"].append({"id": "item2", "title": "第二项", "ballots": []})
    return data


# -- values -------------------------------------------------------------------------------

EXTREME_NUMBERS = [
    0, -1, 1, 2, 5, 3600, 3601, 4, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1,
    1e308, -1e308, 5e-324, 0.1, 0.5, 1.5, -0.0, 1e-300, 0.00001, 1e16,
]  # fmt: skip
NUMERIC_TEXTS = [
    "1e-5000", "1e3000000", "1/0", "0/0", "nan", "inf", "-1/2", "1/2", "2/3", "0.5", "1", "0",
    "１/２", "²/³", " 1 / 2 ", "1_0/2_0", "0x1/2", "999999/1000000", "1/3", "0.99999", "0.999999", "1e-5",
]  # fmt: skip
HOSTILE_TEXTS = [
    "", " ", "../../../escape-dir/owned", "..", "a\r\nb", "x" * 300, "表决", "a/b", "a\\b", "a:b", "\x00",
    "\u202eevil", "write_in:x", "-r2", "a" * 65, "\ud7ff", "<script>", "%2e%2e%2f", "CON", "a b",
]  # fmt: skip

grammar_ids = st.from_regex(ID_PATTERN, fullmatch=True)
hostile_texts = st.sampled_from(HOSTILE_TEXTS)
small_text = st.text(max_size=12)
extreme_numbers = st.sampled_from(EXTREME_NUMBERS)
numbers = extreme_numbers | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | numbers | small_text | hostile_texts | st.sampled_from(NUMERIC_TEXTS)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(small_text, inner, max_size=4), max_leaves=10
)


def ids(*known: list[str]) -> st.SearchStrategy[Any]:
    """Mostly ids the sitting knows, sometimes fresh ones of the grammar, hostile ones or junk."""
    pool = [i for group in known for i in group]
    return st.one_of(
        st.sampled_from(pool) if pool else grammar_ids,
        st.sampled_from(pool) if pool else grammar_ids,
        grammar_ids,
        hostile_texts,
        scalars,
    )


def maybe(strategy: st.SearchStrategy[Any], junk: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[Any]:
    """Usually a value of ``strategy``, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, junk)


def weighted(options: dict[str, tuple[int, st.SearchStrategy[Any]]]) -> st.SearchStrategy[Any]:
    """One of the strategies, chosen with the given weights (``one_of`` favours its first)."""
    names = [name for name, (weight, _) in options.items() for _ in range(weight)]
    return st.sampled_from(names).flatmap(lambda name: options[name][1])


# -- ballot specs -------------------------------------------------------------------------

rule_tables = st.fixed_dictionaries(
    {},
    optional={
        "fraction": maybe(st.sampled_from(NUMERIC_TEXTS) | st.sampled_from([0.5, 0.667, 1, 0, 2, 1e308])),
        "cmp": maybe(st.sampled_from([">", ">=", "=", "<"])),
        "base": maybe(st.sampled_from(["seated", "present", "cast", "cast_excluding_abstain", "all"])),
        "constant": maybe(extreme_numbers),
        "option": maybe(st.sampled_from(["for", "against", "satisfied", "grades", "x" * 70]) | hostile_texts),
    },
)
rules = st.sampled_from(["majority_of_all", "simple_majority", "two_thirds_of_all", "bogus"]) | rule_tables


def entries(fields: dict[str, st.SearchStrategy[Any]], max_size: int = 4) -> st.SearchStrategy[Any]:
    """A list of nominee/candidate/subject tables, sometimes broken, sometimes very long."""
    entry = st.fixed_dictionaries({"id": maybe(grammar_ids | st.sampled_from(["c1", "c2", "n1"]))}, optional=fields)
    many = st.integers(499, 502).map(lambda n: [{"id": f"c{i}", "name": "x"} for i in range(n)])
    return maybe(st.lists(entry, min_size=1, max_size=max_size) | many)


names = maybe(st.sampled_from(["甲", "乙", "Wang Wu", "x" * 101]) | hostile_texts)
score_numbers = maybe(st.sampled_from([0, 1, 5, 10, 100, 0.5, -1_000_000, 1_000_000, 1e308, 2**64 - 1, 1e-300]))

KIND_PARAMS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "motion": {"options": maybe(st.lists(st.sampled_from(["for", "against", "abstain", "maybe"]), max_size=4))},
    "appointment": {
        "nominees": entries({"name": names, "post": names, "action": maybe(st.sampled_from(["appoint", "remove"]))}),
        "mode": maybe(st.sampled_from(["each", "together"])),
    },
    "election": {
        "seats": maybe(st.integers(0, 3) | extreme_numbers),
        "candidates": entries({"name": names}),
        "write_ins": maybe(st.booleans()),
        "round": maybe(st.integers(0, 100) | extreme_numbers),
    },
    "selection": {
        "seats": maybe(st.integers(0, 3) | extreme_numbers),
        "candidates": entries({"name": names}),
        "exact": maybe(st.booleans()),
        "minimum": maybe(st.integers(0, 3) | extreme_numbers),
    },
    "evaluation": {
        "subjects": entries({"title": names}),
        "percent_base": maybe(st.sampled_from(["voted", "seated", "present", "all"])),
        "verdicts": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"verdict": names},
                    optional={
                        "grades": maybe(
                            st.lists(st.sampled_from(["satisfied", "basically_satisfied", "dissatisfied"]))
                        ),
                        "fraction": maybe(st.sampled_from(NUMERIC_TEXTS)),
                        "constant": maybe(extreme_numbers),
                    },
                ),
                min_size=1,
                max_size=4,
            )
        ),
    },
    "score": {
        "subjects": entries({"title": names, "min": score_numbers, "max": score_numbers, "step": score_numbers}),
        "trim": maybe(st.integers(0, 3) | extreme_numbers),
    },
}


def _unique_entries(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]], low: int = 1) -> list[Any]:
    """1-4 entries with unique ids (now and then the largest list allowed: 500)."""
    if draw(st.integers(0, 30)) == 0:
        return [{"id": f"c{i:03d}", **{k: draw(v) for k, v in fields.items()}} for i in range(500)]
    idents = draw(st.lists(short_ids, min_size=low, max_size=4, unique=True))
    return [{"id": i, **{k: draw(v) for k, v in fields.items()}} for i in idents]


short_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,12}", fullmatch=True) | st.sampled_from(["a" * 64, "c1", "n1"])
good_titles = st.sampled_from(["表决", "A vote", "t" * 300, "《条例》（草案）", "Ünïcødé ✓"]) | st.text(
    st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=20
).filter(str.strip)
good_names = st.sampled_from(["甲", "Wang Wu", "n" * 100, "孙立军"])
good_rules = st.sampled_from(["majority_of_all", "simple_majority", "two_thirds_of_all", "majority_of_present"]) | (
    st.fixed_dictionaries(
        {},
        optional={
            "fraction": st.sampled_from(["1/2", "2/3", "0", "1", "0.5", "999999/999999", 0.667, 1, 0]),
            "cmp": st.sampled_from([">", ">="]),
            "base": st.sampled_from(["seated", "present", "cast", "cast_excluding_abstain"]),
            "constant": st.sampled_from([0, 1, -1, 10_000, -10_000]),
        },
    )
)


def _score_subject(draw: st.DrawFn) -> dict[str, Any]:
    low, high, step = draw(
        st.sampled_from([(0, 100, 1), (1, 5, 1), (0, 10, 0.5), (-1_000_000, 1_000_000, 0.0001), (0, 1, 0.25)])
    )
    return {"title": draw(good_names), "min": low, "max": high, "step": step}


def _optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


_COMMON_OPTIONAL = {
    "countdown": st.sampled_from((5, 60, 3600)),
    "allow_change": st.booleans(),
    "certificate": st.just(False),
}
_SECRET_OPTIONAL = _optional(secret=st.just(True), live_counts=st.just(False), **_COMMON_OPTIONAL)
_NAMED_OPTIONAL = _optional(secret=st.just(False), live_counts=st.booleans(), **_COMMON_OPTIONAL)
_OTHER_OPTIONS = st.lists(st.sampled_from(("against", "abstain")), unique=True)
_ELECTION_OPTIONAL = _optional(write_ins=st.booleans(), round=st.integers(1, 99))
_SELECTION_OPTIONAL = _optional(exact=st.booleans(), minimum=st.integers(0, 10_000))
_PERCENT_BASES = st.sampled_from(("voted", "seated", "present"))


@st.composite
def valid_specs(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A definition of ``kind`` that passes validation, with values up to the bounds."""
    secret = draw(st.booleans())
    spec: dict[str, Any] = {"id": draw(short_ids.filter(lambda i: len(i) <= 60)), "title": draw(good_titles)}
    if kind != "motion" or draw(st.booleans()):
        spec["kind"] = kind
    if kind in ("motion", "appointment") and draw(st.booleans()):
        spec["rule"] = draw(good_rules)
    spec.update(draw(_SECRET_OPTIONAL if secret else _NAMED_OPTIONAL))
    if kind == "motion" and draw(st.booleans()):
        rest = draw(_OTHER_OPTIONS)
        spec["options"] = ["for", *rest]
    elif kind == "appointment":
        nominees = _unique_entries(draw, {"name": good_names, "post": good_names})
        spec["nominees"] = nominees[:1] if draw(st.booleans()) else nominees
        spec["mode"] = "each" if len(spec["nominees"]) == 1 and draw(st.booleans()) else "together"
    elif kind in ("election", "selection"):
        spec["candidates"] = _unique_entries(draw, {"name": good_names})
        spec["seats"] = draw(st.integers(1, len(spec["candidates"])))
        spec.update(draw(_ELECTION_OPTIONAL if kind == "election" else _SELECTION_OPTIONAL))
    elif kind == "evaluation":
        spec["subjects"] = _unique_entries(draw, {"title": good_names})
        if draw(st.booleans()):
            spec["percent_base"] = draw(_PERCENT_BASES)
    elif kind == "score":
        spec["subjects"] = [{"id": f"s{i}", **_score_subject(draw)} for i in range(draw(st.integers(1, 3)))]
        spec["trim"] = draw(st.integers(0, 10_000))
    return spec


KIND_NAMES_SPEC = st.sampled_from(KIND_NAMES)
HOSTILE = st.one_of(json_values, hostile_texts, extreme_numbers, st.sampled_from(NUMERIC_TEXTS))
_NEAR = {
    "title": maybe(st.sampled_from(["t" * 301, "a\r\nb", "\u202e"]) | hostile_texts),
    "rule": maybe(rule_tables),
    "countdown": maybe(st.integers(0, 4000) | extreme_numbers),
    "kind": st.sampled_from([*KIND_NAMES, "bogus", 1, None, ["motion"]]),
    "id": hostile_texts | st.sampled_from(BALLOT_IDS) | json_values,
}
#: per kind and key: half anything at all, half a value near what the key takes
_BROKEN = {
    kind: {key: st.one_of(HOSTILE, near) for key, near in {**_NEAR, **KIND_PARAMS[kind]}.items()} for kind in KIND_NAMES
}
#: which key to break: the kind's own twice as often as the common ones
_BROKEN_KEYS = {
    kind: st.sampled_from(sorted(_BROKEN[kind]) + sorted(KIND_PARAMS[kind]) + ["bogus_key", "secret", "live_counts"])
    for kind in KIND_NAMES
}


@st.composite
def ballot_specs(draw: st.DrawFn) -> Any:
    """A ballot definition as a clerk's ``create_ballot`` (or an agenda file) gives it: valid
    about half the time, else a valid one with a key or two broken, or nothing like one."""
    kind = draw(KIND_NAMES_SPEC)
    spec = draw(valid_specs(kind))
    how = draw(st.integers(0, 9))
    if how == 0:
        return draw(json_values)  # not a table at all, most likely
    if how <= 4:
        return spec
    broken = _BROKEN[kind]
    for _ in range(draw(st.integers(1, 2))):
        key = draw(_BROKEN_KEYS[kind])
        if key in spec and draw(st.integers(0, 4)) == 0:
            del spec[key]
        else:
            spec[key] = draw(broken.get(key, HOSTILE))
    return spec


# -- choices ------------------------------------------------------------------------------

marks = st.sampled_from(["for", "against", "abstain"])
choices = st.one_of(
    marks,
    st.sampled_from(["satisfied", "basically_satisfied", "dissatisfied"]),
    st.dictionaries(st.sampled_from(["n1", "n2", "c1", "c2", "s1", "s2", "zz"]), marks | st.none(), max_size=3),
    st.dictionaries(
        st.sampled_from(["c1", "c2"]),
        st.fixed_dictionaries({"mark": marks}, optional={"write_in": names | json_values}),
        max_size=2,
    ),
    st.lists(st.sampled_from(["c1", "c2", "c3", "zz"]), max_size=4),
    st.dictionaries(st.sampled_from(["s1", "s2"]), score_numbers | st.lists(st.sampled_from(["satisfied", "x"]))),
    numbers,
    json_values,
)


# -- messages per role ----------------------------------------------------------------------
#
# Messages name things through placeholders ("@@open", "@@ballot:3", "@@choice:17", "@@key",
# "@@doc", "@@seat:2") that ``World.resolve`` fills in when the frame is sent, from what the
# sitting holds at that moment: so a cast goes to the ballot that is open, with a choice
# valid for its kind, and the clerk closes the ballot that is open, although neither was
# known when hypothesis drew the frame.

request_ids = maybe(st.text(max_size=8), st.none() | numbers | st.just("r" * 300))
keys = st.just("@@key") | st.just("@@oldkey") | st.sampled_from(["", "k" * 65, "k" * 64, "ключ", "\x00"]) | json_values
some_ballot = st.integers(0, 50).map(lambda n: f"@@ballot:{n}")
a_ballot = st.one_of(st.just("@@open"), some_ballot, some_ballot, st.sampled_from(BALLOT_IDS))
a_choice = st.integers(0, 10**6).map(lambda n: f"@@choice:{n}")
a_seat = st.integers(0, MEMBERS - 1).map(lambda n: f"@@seat:{n}")


def message(kind: str, fields: dict[str, st.SearchStrategy[Any]], optional: dict[str, Any] | None = None) -> Any:
    """A well-formed message of ``type`` kind (with an ``id`` most of the time)."""
    return st.fixed_dictionaries(
        {"type": st.just(kind), **fields}, optional={"id": st.text(max_size=8), **(optional or {})}
    )


def command(name: str, **args: st.SearchStrategy[Any]) -> Any:
    return message("command", {"name": st.just(name), "args": st.fixed_dictionaries(args)})


def command_with(name: str, required: dict[str, Any], optional: dict[str, Any]) -> Any:
    return message("command", {"name": st.just(name), "args": st.fixed_dictionaries(required, optional=optional)})


@functools.cache
def clerk_messages() -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed clerk commands, weighted towards what moves a sitting along."""
    lifecycle = st.one_of(
        *(command(name, ballot=a_ballot) for name in ("hold_ballot", "resume_ballot", "announce_ballot", "void_ballot"))
    )
    attendance = st.sampled_from(["present", "absent", "leave", "x"])
    return weighted(
        {
            "open": (4, command_with("open_ballot", {"ballot": a_ballot}, {"countdown": st.sampled_from([5, 60, 4])})),
            "close the open one": (3, command("close_ballot", ballot=st.just("@@open"))),
            "close": (1, command("close_ballot", ballot=a_ballot)),
            "create": (5, command("create_ballot", item=st.sampled_from(ITEMS), spec=ballot_specs())),
            "lifecycle": (2, lifecycle),
            "further round": (1, command("create_further_round", ballot=a_ballot)),
            "attendance": (2, command("set_attendance", member=ids(MEMBER_IDS), status=attendance)),
            "item": (1, command("select_item", item=ids(ITEMS))),
            "release": (1, command("release_document", document=st.just("@@doc"))),
            "show": (1, command("show_page", document=st.just("@@doc"), page=st.integers(-1, 3))),
            "recall": (1, command_with("recall_documents", {}, {"document": st.just("@@doc")})),
            "void": (1, command_with("void_ballot", {"ballot": a_ballot}, {"reason": st.text(max_size=300)})),
            # the floor (docs/floor.md)
            "add speaker": (
                1,
                command_with(
                    "add_speaker",
                    {"member": ids(MEMBER_IDS)},
                    {
                        "kind": st.sampled_from(["normal", "reply", "point_of_order", "x"]),
                        "position": st.integers(-1, 3),
                    },
                ),
            ),
            "grant": (1, command_with("grant_floor", {}, {"member": ids(MEMBER_IDS)})),
            "move speaker": (1, command("move_speaker", member=ids(MEMBER_IDS), position=st.integers(-1, 3))),
            "remove speaker": (1, command("remove_speaker", member=ids(MEMBER_IDS))),
            "end": (1, command("end_floor")),
            "clear speakers": (1, command("clear_speakers")),
            # would end the sitting for every later frame: sent malformed only
            "close sitting": (
                1,
                message(
                    "command", {"name": st.just("close_sitting"), "args": st.fixed_dictionaries({"now": json_values})}
                ),
            ),
            "unknown": (
                1,
                message(
                    "command", {"name": st.sampled_from(["drop_tables", "CLOSE_BALLOT", ""])}, {"args": json_values}
                ),
            ),
        }
    )


@functools.cache
def member_messages(device: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed seat (or, with ``seat``, keypad bridge) messages, mostly votes."""
    seat = {"seat": a_seat} if device else {}
    cast = message("cast", {"ballot": a_ballot, "choice": a_choice, "key": st.just("@@key"), **seat})
    return weighted(
        {
            "cast": (8, cast),
            "odd cast": (2, message("cast", {"ballot": a_ballot, "choice": choices, "key": keys, **seat})),
            "check in": (3, message("check_in", seat)),
            "check out": (1, message("check_out", seat)),
            "receipt": (
                1,
                message(
                    "doc_receipt",
                    {"document": st.just("@@doc"), "state": st.sampled_from(["delivered", "opened", "x"])},
                ),
            ),
            "keypad": (1, message("keypad_status", {"seat": a_seat, "online": st.booleans()})),
            "request floor": (
                1,
                message("request_floor", seat, {"kind": st.sampled_from(["normal", "point_of_order", "reply", ""])}),
            ),
            "withdraw floor": (1, message("withdraw_floor", seat)),
            "ping": (1, message("ping", {})),
        }
    )


_ODD_TYPES = st.sampled_from(("teleport", "CAST", "hello", "")) | json_values


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A well-formed message with one or two of its fields (or its args) broken."""
    msg = draw(base)
    for _ in range(draw(st.integers(1, 2))):
        target = msg["args"] if isinstance(msg.get("args"), dict) and draw(st.booleans()) else msg
        key = draw(st.sampled_from(sorted(target) + ["member", "seat", "extra", "id"]))
        if key == "type" and draw(st.booleans()):
            target[key] = draw(_ODD_TYPES)
        elif key in target and draw(st.integers(0, 3)) == 0:
            del target[key]
        else:
            target[key] = draw(HOSTILE)
    return msg


@functools.cache
def junk_frames() -> st.SearchStrategy[Frame]:
    """What is wrong before any field is read: not JSON, not an object, not text, too big, too deep."""
    depth = st.integers(1, 1500)
    spec_prefix = '{"type":"command","id":"deep","name":"create_ballot","args":{"item":"item1","spec":{"id":"d","title":"t","rule":'
    return st.one_of(
        st.tuples(st.just("text"), st.sampled_from(["{not json", "[1, 2, 3]", "null", '"hello"', "{}", '{"type": 7}'])),
        st.tuples(st.just("text"), st.text(max_size=20)),
        st.tuples(st.just("json"), st.dictionaries(small_text, json_values, max_size=4)),
        st.tuples(st.just("json"), st.fixed_dictionaries({"type": json_values}, optional={"id": request_ids})),
        st.tuples(st.just("bytes"), st.binary(max_size=20)),
        st.tuples(
            st.just("text"), st.integers(65_000, 70_000).map(lambda n: '{"type":"ping","pad":"' + "x" * n + '"}')
        ),
        st.tuples(st.just("text"), depth.map(lambda n: '{"type":"ping","d":' + "[" * n + "]" * n + "}")),
        st.tuples(st.just("text"), depth.map(lambda n: spec_prefix + "[" * n + "]" * n + "}}}")),
    )


@functools.cache
def frames_for(role: str) -> st.SearchStrategy[Frame]:
    """Any frame a connection of ``role`` might send once it has said hello: mostly
    well-formed messages of its role, some broken ones, some of other roles, some junk."""
    own = {"clerk": clerk_messages(), "seat": member_messages(False), "device": member_messages(True)}
    everything = st.one_of(clerk_messages(), member_messages(False), member_messages(True))
    mine = own.get(role, everything)
    return weighted(
        {
            "mine": (12, st.tuples(st.just("json"), mine)),
            "mine, broken": (3, st.tuples(st.just("json"), mutated(mine))),
            "any role's": (2, st.tuples(st.just("json"), everything)),
            "any role's, broken": (1, st.tuples(st.just("json"), mutated(everything))),
            "junk": (2, junk_frames()),
        }
    )


ROLES = ("clerk", "seat", "device", "display")
#: a sitting as it goes: the clerk and the seats most, a keypad bridge, a display now and then
mixed_roles = st.sampled_from(["clerk", "clerk", "clerk", "seat", "seat", "seat", "device", "device", "display"])


@functools.cache
def exchanges() -> st.SearchStrategy[tuple[str, Frame]]:
    """One frame from one role, the roles taking turns as they would in a sitting."""
    return mixed_roles.flatmap(lambda role: st.tuples(st.just(role), frames_for(role)))


@functools.cache
def hello_frames() -> st.SearchStrategy[Frame]:
    """The first frame of a connection: a hello (good, forged, malformed), or anything else.
    ``"@@token:<role>"`` stands for that role's real token."""
    tokens = st.sampled_from([f"@@token:{r}" for r in ROLES])
    good = st.fixed_dictionaries(
        {"type": st.just("hello"), "token": tokens}, optional={"v": st.just(1), "last_seq": st.integers(0, 50)}
    )
    odd = st.fixed_dictionaries(
        {"type": st.just("hello")},
        optional={
            "token": maybe(tokens | small_text | hostile_texts),
            "v": maybe(st.just(1)),
            "last_seq": maybe(st.integers(-2, 10_000) | extreme_numbers),
        },
    )
    not_utf8 = st.sampled_from([b"\xff\xfe", b'{"type":"hello","token":"\xc3"}', b"\xed\xa0\x80"])
    return weighted(
        {
            "good hello": (3, st.tuples(st.just("json"), good)),
            "odd hello": (4, st.tuples(st.just("json"), odd)),
            "not UTF-8": (1, st.tuples(st.just("badutf8"), not_utf8)),
            "junk": (2, junk_frames()),
        }
    )


@dataclass
class World:
    """What the placeholders of a frame stand for, from what the sitting holds now: the
    ballots (id -> definition, as views show it: ``kind`` and the kind's keys), the open
    one, the documents, the seats, and the keys already used."""

    ballots: dict[str, dict[str, Any]] = dataclass_field(default_factory=dict)
    open: str | None = None
    documents: list[str] = dataclass_field(default_factory=list)
    seats: list[str] = dataclass_field(default_factory=lambda: list(SEATS))
    tokens: dict[str, str] = dataclass_field(default_factory=dict)
    used: list[str] = dataclass_field(default_factory=list)
    counter: int = 0

    def resolve(self, frame: Frame) -> Frame:
        kind, payload = frame
        if kind != "json":
            return frame
        ballot = self._ballot_of(payload)
        return kind, self._fill(payload, ballot)

    def _ballot_of(self, payload: Any) -> str | None:
        """The ballot a message names, resolved first so its choice can follow it."""
        if not isinstance(payload, dict):
            return None
        name = payload.get(
            "ballot", payload.get("args", {}).get("ballot") if isinstance(payload.get("args"), dict) else None
        )
        return self._value(name, None) if isinstance(name, str) and name.startswith("@@") else name

    def _fill(self, value: Any, ballot: str | None) -> Any:
        if isinstance(value, dict):
            return {k: self._fill(v, ballot) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fill(v, ballot) for v in value]
        if isinstance(value, str) and value.startswith("@@"):
            return self._value(value, ballot)
        return value

    def _value(self, holder: str, ballot: Any) -> Any:
        what, _, arg = holder[2:].partition(":")
        if what == "open":
            return self.open or (sorted(self.ballots)[0] if self.ballots else "none")
        if what == "ballot":
            ids_ = sorted(self.ballots)
            return ids_[int(arg) % len(ids_)] if ids_ else "none"
        if what == "seat":
            return self.seats[int(arg) % len(self.seats)]
        if what == "doc":
            return self.documents[0] if self.documents else "none"
        if what == "token":
            return self.tokens.get(arg, "none")
        if what == "key":
            self.counter += 1
            self.used.append(f"k{self.counter}")
            return self.used[-1]
        if what == "oldkey":
            return self.used[len(self.used) // 2] if self.used else "k0"
        if what == "choice":
            return valid_choice(self.ballots.get(ballot) if isinstance(ballot, str) else None, int(arg))
        return holder


def valid_choice(view: dict[str, Any] | None, seed: int) -> Any:
    """A choice the ballot's kind accepts, picked by ``seed`` (anything for an unknown ballot)."""
    if view is None:
        return "for"
    rng = random.Random(seed)
    kind = view.get("kind")
    marks_ = ["for", "against", "abstain"]
    if kind == "motion":
        return rng.choice(view["options"])
    if kind == "appointment":
        return {n["id"]: rng.choice(marks_) for n in view["nominees"] if rng.random() < 0.9}
    if kind == "election":
        paper: dict[str, Any] = {}
        for i, c in enumerate(view["candidates"]):
            mark = rng.choice(marks_)
            write_in = view.get("write_ins") and mark == "against" and rng.random() < 0.3
            paper[c["id"]] = {"mark": mark, "write_in": f"{rng.choice(['王五', 'Li Si'])}{i}"} if write_in else mark
        return paper
    if kind == "selection":
        chosen = [c["id"] for c in view["candidates"] if rng.random() < 0.5]
        return (
            chosen[: view["seats"]] if not view.get("exact") else [c["id"] for c in view["candidates"]][: view["seats"]]
        )
    if kind == "evaluation":
        return {s["id"]: rng.choice(["satisfied", "basically_satisfied", "dissatisfied"]) for s in view["subjects"]}
    if kind == "score":
        out: dict[str, Any] = {}
        for s in view["subjects"]:
            steps = int((Fraction(str(s["max"])) - Fraction(str(s["min"]))) / Fraction(str(s["step"])))
            value = Fraction(str(s["min"])) + Fraction(str(s["step"])) * rng.randint(0, steps)
            out[s["id"]] = int(value) if value.denominator == 1 else float(value)
        return out
    return "for"


def world_of(meeting: Any, documents: list[str] | None = None) -> World:
    """The placeholders' world from a live Meeting (tests run in the server's process)."""
    run = meeting.open_run()
    return World(
        ballots={b: r.spec.public() for b, r in meeting.ballots.items()},
        open=run.spec.id if run is not None else None,
        documents=list(documents if documents is not None else meeting.documents.docs),
    )


def encode_frame(frame: Frame) -> tuple[str | bytes, bool]:
    """What to send: the payload, and whether it goes as a text frame."""
    kind, payload = frame
    if kind == "json":
        return json.dumps(payload, ensure_ascii=False), True
    if kind == "text":
        return payload, True
    if kind == "badutf8":
        return payload, True  # bytes sent in a text frame: not UTF-8
    return payload, False


# -- what every answer must be ----------------------------------------------------------------

PROTOCOL_DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"


def documented_codes(table: str = "### On the WebSocket") -> set[str]:
    """The error codes docs/protocol.md lists in one of its error tables (first column)."""
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    section = text[text.index(table) :]
    section = section[: section.index("\n#", 1)]
    codes: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            codes.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return codes


def answer_problem(msg: dict[str, Any], codes: set[str]) -> str | None:
    """Why ``msg`` is not an acceptable answer to a client frame (None when it is)."""
    kind = msg.get("type")
    if kind in ("ok", "ack", "pong"):
        return None
    if kind != "error":
        return f"unexpected answer type {kind!r}"
    code = msg.get("code")
    if code == "internal":
        return f"internal error: {msg.get('message')}"
    if code not in codes:
        return f"error code {code!r} is not documented in docs/protocol.md"
    if not isinstance(msg.get("message"), str) or not msg["message"]:
        return f"error {code!r} without a message"
    return None
