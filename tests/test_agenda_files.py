"""The sample agenda files load, and invalid files are reported the way docs/agendas.md says.

Sample-file tests check what a clerk or a member would notice on the day: how many
people vote, that every item's ballots are there, the rules that decide them. Validation
tests use small inline files and check that every problem names the file, the key path
and the problem, and that several problems are reported together.
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path

import pytest

from server.core.agenda import Agenda, agenda_from_dict
from server.core.errors import AgendaError

AGENDAS = Path(__file__).resolve().parent.parent / "agendas"
ZH = AGENDAS / "standing-committee.zh.toml"
EN = AGENDAS / "council.en.toml"


def load(path: Path) -> Agenda:
    with path.open("rb") as f:
        data = tomllib.load(f)
    return agenda_from_dict(data, source=str(path))


def by_kind(agenda: Agenda, kind: str) -> list:
    return [b for b in agenda.ballots.values() if b.kind == kind]


# -- the Chinese standing-committee sample ---------------------------------------------


@pytest.fixture(scope="module")
def zh() -> Agenda:
    return load(ZH)


def test_zh_meeting(zh: Agenda) -> None:
    assert zh.meeting.language == "zh-CN"
    assert "常务委员会" in zh.meeting.title
    assert zh.meeting.date.startswith("2026-")


def test_zh_has_41_voting_members_and_observers_who_do_not_vote(zh: Agenda) -> None:
    assert len(zh.voting_members) == 41
    observers = [m for m in zh.members if m.role == "observer"]
    assert 2 <= len(observers) <= 3
    assert all(not m.can_vote for m in observers)
    assert {m.group for m in zh.voting_members} == {"主任", "副主任", "秘书长", "委员"}
    assert sum(m.role == "chair" for m in zh.members) == 1


def test_zh_names_seats_and_cards_are_distinct(zh: Agenda) -> None:
    names = [m.name for m in zh.members]
    seats = [m.seat for m in zh.members]
    cards = [m.card for m in zh.members if m.card]
    assert len(set(names)) == len(names)
    assert len(set(seats)) == len(seats)
    assert len(set(cards)) == len(cards)
    assert all(n.strip() == n and "\u3000" not in n for n in names)


def test_zh_quorum_and_default_rule_are_majority_of_all(zh: Agenda) -> None:
    # 41 seated: 21 must be present, and a motion needs 21 "for" however many attend.
    assert zh.quorum.needed(41) == 21
    for ballot in by_kind(zh, "motion"):
        assert ballot.rule.base == "seated"
        assert ballot.rule.needed(41) == 21


def test_zh_every_item_has_its_ballots(zh: Agenda) -> None:
    ballots = {item.id: item.ballots for item in zh.items}
    assert ballots == {
        "property-regulation": ("property-regulation-vote",),
        "eco-regulation": ("eco-regulation-vote",),
        "housing-report": ("housing-evaluation",),
        "justice-review": ("justice-aspects", "justice-score"),
        "appointments": ("appoint-gov-n1", "appoint-gov-n2", "appoint-gov-n3", "appoint-court"),
        "by-election": ("by-election-vote",),
        "outstanding-suggestions": ("suggestions-selection",),
    }
    for item in zh.items:
        assert all(zh.ballots[b].item == item.id for b in item.ballots)


def test_zh_exercises_every_kind(zh: Agenda) -> None:
    from server.core.kinds import KINDS

    assert {b.kind for b in zh.ballots.values()} == set(KINDS)


def test_zh_regulations_are_motions_needing_a_majority_of_all(zh: Agenda) -> None:
    for ballot_id in ("property-regulation-vote", "eco-regulation-vote"):
        ballot = zh.ballots[ballot_id]
        assert ballot.kind == "motion"
        assert "条例（草案）" in ballot.title
        assert (ballot.rule.cmp, ballot.rule.fraction, ballot.rule.base) == (">", Fraction(1, 2), "seated")


def test_zh_appointments_each_and_together(zh: Agenda) -> None:
    each = [zh.ballots[f"appoint-gov-n{i}"] for i in (1, 2, 3)]
    assert [len(b.params["nominees"]) for b in each] == [1, 1, 1]
    assert [b.params["nominees"][0]["action"] for b in each] == ["appoint", "appoint", "remove"]
    assert "韩立群" in each[0].title and "市司法局局长" in each[0].title
    together = zh.ballots["appoint-court"]
    assert together.params["mode"] == "together"
    assert len(together.params["nominees"]) == 3
    assert all(b.rule.base == "seated" for b in [*each, together])


def test_zh_by_election_is_competitive_and_secret(zh: Agenda) -> None:
    election = zh.ballots["by-election-vote"]
    assert election.params["seats"] == 1
    assert len(election.params["candidates"]) == 2  # 差额
    assert election.params["write_ins"] is True
    assert election.secret and not election.live_counts


def test_zh_evaluations_and_score_are_secret(zh: Agenda) -> None:
    housing = zh.ballots["housing-evaluation"]
    assert len(housing.params["subjects"]) == 1
    assert len(zh.ballots["justice-aspects"].params["subjects"]) == 9
    score = zh.ballots["justice-score"]
    assert score.params["trim"] == 1
    assert score.params["subjects"][0]["min"] == 0 and score.params["subjects"][0]["max"] == 100
    for ballot in (housing, zh.ballots["justice-aspects"], score, zh.ballots["suggestions-selection"]):
        assert ballot.secret and not ballot.live_counts


def test_zh_documents(zh: Agenda) -> None:
    assert all(d.file.startswith("docs/") for d in zh.documents.values())
    confidential = [d for d in zh.documents.values() if d.classification == "confidential"]
    assert confidential
    assert all(d.audience != ("everyone",) for d in confidential)
    for item in zh.items:
        assert item.documents, f"item {item.id} has no documents"
        assert all(zh.documents[d].item == item.id for d in item.documents)


# -- the English council sample --------------------------------------------------------


@pytest.fixture(scope="module")
def en() -> Agenda:
    return load(EN)


def test_en_has_15_voting_members(en: Agenda) -> None:
    assert en.meeting.language == "en"
    assert len(en.voting_members) == 15
    assert len({m.seat for m in en.members}) == len(en.members)
    assert all(not m.can_vote for m in en.members if m.role == "observer")


def test_en_default_rule_is_simple_majority(en: Agenda) -> None:
    minutes = en.ballots["minutes-adopt"]
    assert minutes.kind == "motion"
    assert (minutes.rule.cmp, minutes.rule.fraction, minutes.rule.base) == (">", Fraction(1, 2), "cast")


def test_en_two_thirds_motion(en: Agenda) -> None:
    bylaw = en.ballots["procedure-bylaw-adopt"]
    assert (bylaw.rule.option, bylaw.rule.cmp, bylaw.rule.fraction, bylaw.rule.base) == (
        "for",
        ">=",
        Fraction(2, 3),
        "seated",
    )
    assert bylaw.rule.needed(15) == 10


def test_en_named_and_secret_motions(en: Agenda) -> None:
    budget = en.ballots["budget-adopt"]
    assert not budget.secret and budget.live_counts
    freedom = en.ballots["freedom-award"]
    assert freedom.secret and not freedom.live_counts


def test_en_every_item_has_its_ballots(en: Agenda) -> None:
    ballots = {item.id: item.ballots for item in en.items}
    assert ballots == {
        "minutes": ("minutes-adopt",),
        "budget": ("budget-adopt",),
        "procedure-bylaw": ("procedure-bylaw-adopt",),
        "freedom-of-city": ("freedom-award",),
        "appointments": ("auditor-appoint-a1", "committee-changes", "library-board"),
    }


def test_en_appointments_use_the_council_majority(en: Agenda) -> None:
    for ballot_id in ("auditor-appoint-a1", "committee-changes"):
        ballot = en.ballots[ballot_id]
        assert ballot.kind == "appointment"
        assert ballot.rule.base == "cast"
    library = en.ballots["library-board"]
    assert library.kind == "selection"
    assert library.params["seats"] == 2 and len(library.params["candidates"]) == 4


def test_en_has_a_confidential_document_for_members_only(en: Agenda) -> None:
    advice = en.documents["auditor-legal-advice"]
    assert advice.classification == "confidential"
    assert advice.audience == ("members",)


# -- validation ------------------------------------------------------------------------

GOOD = """
members = [
  { id = "a", name = "Ann", seat = "S1" },
  { id = "b", name = "Bob", seat = "S2" },
]

[meeting]
title = "Test"
language = "en"

[[items]]
id = "i1"
title = "Item"

[[items.ballots]]
id = "b1"
title = "Motion"
"""


def check(text: str, source: str = "agendas/test.toml") -> AgendaError:
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(tomllib.loads(text), source=source)
    return info.value


def test_the_inline_baseline_is_valid() -> None:
    agenda = agenda_from_dict(tomllib.loads(GOOD), source="agendas/test.toml")
    assert len(agenda.voting_members) == 2


def test_unknown_key_is_named_with_file_and_path() -> None:
    err = check(GOOD + "secert = true\n")
    assert str(err) == "agendas/test.toml: items[0].ballots[0].secert: unknown key (secret?)"
    assert err.problems == ["items[0].ballots[0].secert: unknown key (secret?)"]
    assert err.source == "agendas/test.toml"


def test_unknown_meeting_key() -> None:
    err = check(GOOD.replace('language = "en"', 'language = "en"\nvenue = "Hall"'))
    assert str(err) == "agendas/test.toml: meeting.venue: unknown key"


def test_wrong_type_says_what_was_expected() -> None:
    err = check(GOOD + 'countdown = "60"\n')
    assert str(err) == "agendas/test.toml: items[0].ballots[0].countdown: must be a whole number, not str"


def test_bool_is_not_a_number_and_a_number_is_not_a_bool() -> None:
    err = check(GOOD + "countdown = true\nsecret = 1\n")
    assert "items[0].ballots[0].countdown: must be a whole number, not bool" in err.problems
    assert "items[0].ballots[0].secret: must be true or false, not int" in err.problems


def test_duplicate_seat() -> None:
    err = check(GOOD.replace('seat = "S2"', 'seat = "S1"'))
    assert str(err) == "agendas/test.toml: members[1].seat: duplicate seat 'S1' (also members[0])"


def test_duplicate_member_id() -> None:
    err = check(GOOD.replace('id = "b"', 'id = "a"'))
    assert str(err) == "agendas/test.toml: members[1].id: duplicate member id 'a' (also members[0])"


def test_unknown_rule_preset_lists_the_presets() -> None:
    err = check(GOOD + 'rule = "two_thirds"\n')
    [problem] = err.problems
    assert problem.startswith("items[0].ballots[0].rule: unknown rule preset 'two_thirds'")
    assert "two_thirds_of_all" in problem


def test_bad_custom_rule() -> None:
    err = check(GOOD + 'rule = { fraction = "3/2", cmp = "=>", base = "seated" }\n')
    [problem] = err.problems
    assert problem.startswith("items[0].ballots[0].rule: cmp must be one of >, >=")


def test_toml_pitfall_members_after_meeting_is_explained_by_two_problems() -> None:
    text = GOOD.replace(
        'members = [\n  { id = "a", name = "Ann", seat = "S1" },\n  { id = "b", name = "Bob", seat = "S2" },\n]\n', ""
    )
    text = text.replace('language = "en"', 'language = "en"\nmembers = [{ id = "a", name = "Ann", seat = "S1" }]')
    err = check(text)
    assert "members: is required" in err.problems
    assert "meeting.members: unknown key" in err.problems


def test_every_problem_is_reported_at_once() -> None:
    text = """
members = [
  { id = "a", name = "Ann", seat = "S1", colour = "red" },
  { id = "a", name = "Al", seat = "S1" },
  { id = "c", name = "Cy", seat = "S3", role = "guest" },
]

[meeting]
title = "Test"
language = "fr"

[[items]]
id = "i1"
title = "Item"

[[items.ballots]]
id = "b1"
title = "Motion"
countdown = 2
rule = "nope"

[[items.ballots]]
id = "b1"
title = "Again"

[[items.documents]]
id = "d1"
title = "Doc"
file = "docs/d1.pdf"
audience = ["a", "zz"]
classification = "secret"
"""
    err = check(text)
    expected = [
        "meeting.language: must be one of zh-CN, en, not 'fr'",
        "members[0].colour: unknown key",
        "members[1].id: duplicate member id 'a' (also members[0])",
        "members[1].seat: duplicate seat 'S1' (also members[0])",
        "members[2].role: must be one of member, chair, observer, not 'guest'",
        "items[0].ballots[0].countdown: must be between 5 and 3600 seconds",
        "items[0].ballots[1].id: duplicate ballot id 'b1'",
        "items[0].documents[0].audience: unknown member id 'zz'",
        "items[0].documents[0].classification: must be one of public, internal, confidential",
    ]
    for problem in expected:
        assert problem in err.problems, problem
    assert any(p.startswith("items[0].ballots[0].rule: unknown rule preset 'nope'") for p in err.problems)
    # One line per problem, each naming the file.
    lines = str(err).splitlines()
    assert len(lines) == len(err.problems) >= len(expected) + 1
    assert all(line.startswith("agendas/test.toml: ") for line in lines)


def test_problems_in_a_kinds_own_keys_name_the_entry() -> None:
    text = (
        GOOD
        + """
[[items.ballots]]
id = "app"
title = "Appointments"
kind = "appointment"
mode = "together"
nominees = [
  { id = "n1", name = "Dana", post = "Auditor" },
  { id = "n1", name = "Eve", post = "Clerk", action = "promote" },
]
"""
    )
    err = check(text)
    assert "items[0].ballots[1].nominees[1].action: must be one of appoint, remove" in err.problems
    assert "items[0].ballots[1].nominees[1].id: duplicate id 'n1'" in err.problems


def test_generated_ballot_ids_must_not_clash() -> None:
    text = (
        GOOD
        + """
[[items.ballots]]
id = "app"
title = "Appointments"
kind = "appointment"
nominees = [ { id = "n1", name = "Dana", post = "Auditor" } ]

[[items.ballots]]
id = "app-n1"
title = "Hand-written"
"""
    )
    err = check(text)
    assert err.problems == ["items[0].ballots[2].id: duplicate ballot id 'app-n1'"]


def test_unknown_kind() -> None:
    err = check(GOOD + 'kind = "referendum"\n')
    assert any(p.startswith("items[0].ballots[0].kind: unknown ballot kind 'referendum'") for p in err.problems)


def test_missing_required_keys() -> None:
    err = check('members = [{ name = "Ann" }]\nitems = []\n[meeting]\nlanguage = "en"\n')
    assert "meeting.title: is required" in err.problems
    assert "members[0].id: is required" in err.problems
    assert "members[0].seat: is required" in err.problems


@pytest.mark.parametrize("path", [ZH, EN], ids=["zh", "en"])
def test_a_broken_copy_of_a_sample_names_the_sample_file(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["members"][1]["seat"] = data["members"][0]["seat"]
    with pytest.raises(AgendaError) as info:
        agenda_from_dict(data, source=str(path))
    seat, lost = data["members"][0]["seat"], tomllib.loads(path.read_text(encoding="utf-8"))["members"][1]["seat"]
    first, *rest = str(info.value).splitlines()
    assert first == f"{path}: members[1].seat: duplicate seat {seat!r} (also members[0])"
    # the seat map still places the seat no member has any more, and says so
    assert [line.split(": ")[2] for line in rest] == [f"{lost!r} is not a seat of the agenda's members"]


# -- known gaps in the validator (server/core/agenda.py), reported to its owner ---------
# strict: when one is fixed, the XPASS fails the run so the marker is removed.


def test_empty_required_strings_are_refused() -> None:
    err = check(GOOD.replace('name = "Bob", seat = "S2"', 'name = "", seat = ""'))
    assert "members[1].name: must not be empty" in err.problems
    assert "members[1].seat: must not be empty" in err.problems


def test_nominee_problem_in_mode_each_names_the_right_entry() -> None:
    text = (
        GOOD
        + """
[[items.ballots]]
id = "app"
title = "Appointments"
kind = "appointment"
nominees = [
  { id = "n1", name = "Dana", post = "Auditor" },
  { id = "n2", name = "Eve", post = "Clerk", action = "promote" },
]
"""
    )
    err = check(text)
    assert err.problems == ["items[0].ballots[1].nominees[1].action: must be one of appoint, remove"]


def test_a_kind_that_is_not_a_string_is_reported_not_a_crash() -> None:
    err = check(GOOD + 'kind = ["motion"]\n')
    assert any(p.startswith("items[0].ballots[0].kind:") for p in err.problems)


def test_a_secret_ballot_cannot_show_live_counts() -> None:
    err = check(GOOD + "secret = true\nlive_counts = true\n")
    assert len(err.problems) == 1 and err.problems[0].startswith("items[0].ballots[0].live_counts:")
