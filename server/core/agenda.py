"""The meeting definition: members, seats, items, ballots, documents.

`agenda_from_dict` validates plain data (as read from TOML, or from the first event of
a log) and reports *every* problem with its key path, so a clerk fixes a file in one go.
The validated input is kept verbatim in `Agenda.source`: it is written into the log's
first event, which lets an auditor recompute every tally from the log alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import AgendaError
from .rules import QUORUM_PRESET, Threshold, threshold_from_dict, threshold_from_dict_or_preset

LANGUAGES = ("zh-CN", "en")
ROLES = ("member", "chair", "observer")
AUDIENCES = ("everyone", "members", "observers")
CLASSIFICATIONS = ("public", "internal", "confidential")
#: when the room (tablets, displays) sees a result: at close, or once the chair announces it
REVEALS = ("on_close", "on_announce")


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    seat: str
    group: str = ""
    role: str = "member"
    votes: bool = True
    card: str = ""

    @property
    def can_vote(self) -> bool:
        return self.votes and self.role != "observer"


@dataclass(frozen=True)
class BallotSpec:
    id: str
    item: str
    title: str
    kind: str
    rule: Threshold
    secret: bool
    live_counts: bool
    countdown: int | None
    allow_change: bool
    certificate: bool = True  # write (and print) a tally certificate when it closes
    reveal: str = "on_close"  # REVEALS: when tablets and displays are given the result
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def public(self) -> dict[str, Any]:
        """The ballot as every client may see it."""
        return {
            "id": self.id,
            "item": self.item,
            "title": self.title,
            "kind": self.kind,
            "rule": self.rule.to_dict(),
            "secret": self.secret,
            "live_counts": self.live_counts,
            "countdown": self.countdown,
            "allow_change": self.allow_change,
            "certificate": self.certificate,
            "reveal": self.reveal,
            **dict(self.params),
        }


@dataclass(frozen=True)
class DocumentSpec:
    id: str
    item: str
    title: str
    file: str
    audience: tuple[str, ...]
    classification: str


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    ballots: tuple[str, ...]
    documents: tuple[str, ...]


@dataclass(frozen=True)
class MeetingInfo:
    body: str
    term: str
    session: str
    title: str
    date: str
    language: str


@dataclass(frozen=True)
class Agenda:
    meeting: MeetingInfo
    members: tuple[Member, ...]
    items: tuple[Item, ...]
    ballots: Mapping[str, BallotSpec]
    documents: Mapping[str, DocumentSpec]
    quorum: Threshold
    source: Mapping[str, Any] = field(hash=False, compare=False, default_factory=dict)

    def member(self, member_id: str) -> Member | None:
        return self._members_by_id().get(member_id)

    def member_at_seat(self, seat: str) -> Member | None:
        cache = self.__dict__.get("_by_seat")
        if cache is None:
            cache = {m.seat: m for m in self.members}
            object.__setattr__(self, "_by_seat", cache)
        return cache.get(seat)

    def _members_by_id(self) -> dict[str, Member]:
        cache = self.__dict__.get("_by_id")
        if cache is None:
            cache = {m.id: m for m in self.members}
            object.__setattr__(self, "_by_id", cache)
        return cache

    @property
    def voting_members(self) -> tuple[Member, ...]:
        """Members with a vote; computed once (the agenda is immutable), as every
        attendance summary, quorum check and turnout walks it."""
        cache = self.__dict__.get("_voting")
        if cache is None:
            cache = tuple(m for m in self.members if m.can_vote)
            object.__setattr__(self, "_voting", cache)
        return cache


class _Checker:
    """Collects problems with their key paths instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def table(
        self, data: Any, path: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
    ) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.fail(path, f"must be a table, not {type(data).__name__}")
            return {}
        for key in sorted(set(data) - allowed):
            self.fail(f"{path}.{key}" if path else key, "unknown key")
        for key in sorted(required - set(data)):
            self.fail(f"{path}.{key}" if path else key, "is required")
        return dict(data)

    def typed(
        self, data: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], default: Any = None
    ) -> Any:
        if key not in data:
            return default
        value = data[key]
        bad_bool = kind is int and isinstance(value, bool)
        if not isinstance(value, kind) or bad_bool:
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(f"{path}.{key}", f"must be {_TYPE_WORDS.get(names, names)}, not {type(value).__name__}")
            return default
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, default: str = "") -> str:
        """A string that, when given, must say something (ids, names, seats, titles)."""
        value: str = self.typed(data, key, path, str, default)
        if key in data and isinstance(data[key], str) and not data[key].strip():
            self.fail(f"{path}.{key}", "must not be empty")
        return value


_TYPE_WORDS = {"str": "a string", "int": "a whole number", "bool": "true or false", "list": "a list"}

_MEETING_KEYS = {"body", "term", "session", "title", "date", "language", "quorum", "rule", "reveal"}
_MEMBER_KEYS = {"id", "name", "seat", "group", "role", "votes", "card"}
_ITEM_KEYS = {"id", "title", "ballots", "documents"}
_BALLOT_KEYS = {
    "id",
    "title",
    "kind",
    "rule",
    "secret",
    "live_counts",
    "countdown",
    "allow_change",
    "certificate",
    "reveal",
}
_DOCUMENT_KEYS = {"id", "title", "file", "audience", "classification"}


def agenda_from_dict(data: Mapping[str, Any], source: str = "agenda") -> Agenda:
    """Validate agenda data; raise AgendaError listing every problem with its key path."""
    from .kinds import KINDS  # late import: kinds import agenda types

    c = _Checker()
    top = c.table(data, "", {"meeting", "members", "items"}, {"meeting", "members", "items"})
    raw_meeting = c.table(top.get("meeting", {}), "meeting", _MEETING_KEYS, {"title", "language"})
    language = c.text(raw_meeting, "language", "meeting", "zh-CN")
    if language not in LANGUAGES:
        c.fail("meeting.language", f"must be one of {', '.join(LANGUAGES)}, not {language!r}")
    meeting = MeetingInfo(
        body=c.typed(raw_meeting, "body", "meeting", str, ""),
        term=c.typed(raw_meeting, "term", "meeting", str, ""),
        session=c.typed(raw_meeting, "session", "meeting", str, ""),
        title=c.text(raw_meeting, "title", "meeting", "?"),
        date=c.typed(raw_meeting, "date", "meeting", str, ""),
        language=language,
    )
    quorum = QUORUM_PRESET
    if "quorum" in raw_meeting:
        try:
            q = raw_meeting["quorum"]
            if not isinstance(q, Mapping):
                raise ValueError('must be a table such as {fraction = "1/2", cmp = ">"}')
            quorum = threshold_from_dict({"option": "present", "base": "seated", **q})
            if quorum.base != "seated" or quorum.option != "present":
                raise ValueError("quorum counts members present against all seated members")
        except ValueError as exc:
            c.fail("meeting.quorum", str(exc))
    default_rule = raw_meeting.get("rule", "majority_of_all")
    default_reveal = _reveal(c, raw_meeting, "meeting", "on_close")

    members: list[Member] = []
    raw_members = c.typed(top, "members", "", list, [])
    seen_ids: dict[str, str] = {}
    seen_seats: dict[str, str] = {}
    for i, raw in enumerate(raw_members):
        path = f"members[{i}]"
        m = c.table(raw, path, _MEMBER_KEYS, {"id", "name", "seat"})
        mid, seat = c.text(m, "id", path, "?"), c.text(m, "seat", path, "?")
        role = c.typed(m, "role", path, str, "member")
        if role not in ROLES:
            c.fail(f"{path}.role", f"must be one of {', '.join(ROLES)}, not {role!r}")
        if mid in seen_ids:
            c.fail(f"{path}.id", f"duplicate member id {mid!r} (also {seen_ids[mid]})")
        if seat in seen_seats:
            c.fail(f"{path}.seat", f"duplicate seat {seat!r} (also {seen_seats[seat]})")
        seen_ids.setdefault(mid, path)
        seen_seats.setdefault(seat, path)
        members.append(
            Member(
                id=mid,
                name=c.text(m, "name", path, "?"),
                seat=seat,
                group=c.typed(m, "group", path, str, ""),
                role=role,
                votes=c.typed(m, "votes", path, bool, role != "observer"),
                card=c.typed(m, "card", path, str, ""),
            )
        )
    if not members and "members" in top:
        c.fail("members", "must list at least one member")

    items: list[Item] = []
    ballots: dict[str, BallotSpec] = {}
    documents: dict[str, DocumentSpec] = {}
    item_ids: set[str] = set()
    for i, raw in enumerate(c.typed(top, "items", "", list, [])):
        path = f"items[{i}]"
        it = c.table(raw, path, _ITEM_KEYS, {"id", "title"})
        item_id = c.text(it, "id", path, "?")
        if item_id in item_ids:
            c.fail(f"{path}.id", f"duplicate item id {item_id!r}")
        item_ids.add(item_id)
        ballot_ids: list[str] = []
        for j, raw_b in enumerate(c.typed(it, "ballots", path, list, [])):
            for raw_one in _expanded(raw_b, KINDS):
                spec = _ballot(c, raw_one, f"{path}.ballots[{j}]", item_id, default_rule, KINDS, default_reveal)
                if spec is None:
                    continue
                if spec.id in ballots:
                    c.fail(f"{path}.ballots[{j}].id", f"duplicate ballot id {spec.id!r}")
                ballots[spec.id] = spec
                ballot_ids.append(spec.id)
        doc_ids: list[str] = []
        for j, raw_d in enumerate(c.typed(it, "documents", path, list, [])):
            doc = _document(c, raw_d, f"{path}.documents[{j}]", item_id, seen_ids)
            if doc.id in documents:
                c.fail(f"{path}.documents[{j}].id", f"duplicate document id {doc.id!r}")
            documents[doc.id] = doc
            doc_ids.append(doc.id)
        items.append(Item(item_id, c.text(it, "title", path, "?"), tuple(ballot_ids), tuple(doc_ids)))

    if c.problems:
        raise AgendaError(c.problems, source)
    return Agenda(meeting, tuple(members), tuple(items), ballots, documents, quorum, source=data)


def ballot_from_dict(
    raw: Any, path: str, item_id: str, default_rule: Any = "majority_of_all", default_reveal: str = "on_close"
) -> BallotSpec:
    """Validate one ballot definition (agenda file or a clerk's ad hoc ballot)."""
    from .kinds import KINDS

    c = _Checker()
    spec = _ballot(c, raw, path, item_id, default_rule, KINDS, default_reveal)
    if c.problems or spec is None:
        raise AgendaError(c.problems or [f"{path}: invalid ballot"], "ballot")
    return spec


def _expanded(raw: Any, kinds: Mapping[str, Any]) -> list[Any]:
    """A kind may turn one definition into several ballots (e.g. one per nominee)."""
    name = raw.get("kind", "motion") if isinstance(raw, Mapping) else None
    kind = kinds.get(name) if isinstance(name, str) else None
    expand = getattr(kind, "expand", None)
    return list(expand(dict(raw))) if expand else [raw]


def _reveal(c: _Checker, data: Mapping[str, Any], path: str, default: str) -> str:
    value = c.typed(data, "reveal", path, str, default)
    if value not in REVEALS:
        c.fail(f"{path}.reveal", f"must be one of {', '.join(REVEALS)}, not {value!r}")
        return default
    return str(value)


def _ballot(
    c: _Checker,
    raw: Any,
    path: str,
    item_id: str,
    default_rule: Any,
    kinds: Mapping[str, Any],
    default_reveal: str = "on_close",
) -> BallotSpec | None:
    kind_name = raw.get("kind", "motion") if isinstance(raw, Mapping) else "motion"
    if not isinstance(kind_name, str):
        c.fail(f"{path}.kind", f"must be a string naming a kind: {', '.join(kinds)}")
        return None
    kind = kinds.get(kind_name)
    extra = set(kind.PARAM_KEYS) if kind else set()
    b = c.table(raw, path, _BALLOT_KEYS | extra, {"id", "title"})
    if kind is None:
        c.fail(f"{path}.kind", f"unknown ballot kind {kind_name!r}; kinds: {', '.join(kinds)}")
        return None
    try:
        rule_value = b.get("rule", kind.DEFAULT_RULE or default_rule)
        rule = threshold_from_dict_or_preset(rule_value, "majority_of_all")
    except ValueError as exc:
        c.fail(f"{path}.rule", str(exc))
        rule = threshold_from_dict({})
    countdown = c.typed(b, "countdown", path, int, None)
    if countdown is not None and not 5 <= countdown <= 3600:
        c.fail(f"{path}.countdown", "must be between 5 and 3600 seconds")
    params = {k: b[k] for k in kind.PARAM_KEYS if k in b}
    for problem in kind.check_params(params, rule):
        key, _, message = problem.partition(": ")
        c.fail(f"{path}.{key}", message)
    secret = c.typed(b, "secret", path, bool, kind.SECRET_BY_DEFAULT)
    live_counts = c.typed(b, "live_counts", path, bool, not secret)
    if secret and live_counts:
        # running counts beside the live list of who has voted would reveal each choice
        c.fail(f"{path}.live_counts", "a secret ballot cannot show live counts")
    return BallotSpec(
        id=c.text(b, "id", path, "?"),
        item=item_id,
        title=c.text(b, "title", path, "?"),
        kind=kind_name,
        rule=rule,
        secret=secret,
        live_counts=live_counts,
        countdown=countdown,
        allow_change=c.typed(b, "allow_change", path, bool, True),
        certificate=c.typed(b, "certificate", path, bool, True),
        reveal=_reveal(c, b, path, default_reveal),
        params=kind.normalize_params(params),
    )


def _document(c: _Checker, raw: Any, path: str, item_id: str, member_ids: Mapping[str, str]) -> DocumentSpec:
    d = c.table(raw, path, _DOCUMENT_KEYS, {"id", "title", "file"})
    audience_raw = d.get("audience", "everyone")
    if isinstance(audience_raw, str):
        audience = (audience_raw,)
        if audience_raw not in AUDIENCES:
            c.fail(f"{path}.audience", f"must be one of {', '.join(AUDIENCES)} or a list of member ids")
    elif isinstance(audience_raw, list) and all(isinstance(x, str) for x in audience_raw) and audience_raw:
        audience = tuple(audience_raw)
        for who in audience:
            if who not in member_ids:
                c.fail(f"{path}.audience", f"unknown member id {who!r}")
    else:
        c.fail(f"{path}.audience", "must be one of everyone, members, observers or a list of member ids")
        audience = ("everyone",)
    classification = c.typed(d, "classification", path, str, "public")
    if classification not in CLASSIFICATIONS:
        c.fail(f"{path}.classification", f"must be one of {', '.join(CLASSIFICATIONS)}")
    return DocumentSpec(
        id=c.text(d, "id", path, "?"),
        item=item_id,
        title=c.text(d, "title", path, "?"),
        file=c.text(d, "file", path, "?"),
        audience=audience,
        classification=classification,
    )
